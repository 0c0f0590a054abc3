package faults

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/wufault/wufault/client/profile"
)

// FieldError is a problem with one parameter of a fault. Field is the YAML
// key ("after_bytes"); the scenario loader adds file, line and path.
type FieldError = profile.FieldError

// fieldErr builds a *FieldError from a format.
func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// ByteRate is a transfer rate in bytes per second, written "64KiB/s",
// "1MB/s", "8000B/s" or "512kbit/s".
type ByteRate int64

var rateUnits = []struct {
	suffix string
	mult   float64
}{
	{"kibit", 1024.0 / 8}, {"mibit", 1024 * 1024.0 / 8}, {"kbit", 1000.0 / 8}, {"mbit", 1000 * 1000.0 / 8},
	{"kib", 1024}, {"mib", 1024 * 1024}, {"gib", 1024 * 1024 * 1024},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000}, {"b", 1},
}

// ParseByteRate parses a rate such as "64KiB/s".
func ParseByteRate(s string) (ByteRate, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	body, ok := strings.CutSuffix(t, "/s")
	if !ok {
		return 0, fmt.Errorf("%q is not a rate (want e.g. 64KiB/s)", s)
	}
	for _, u := range rateUnits {
		if num, ok := strings.CutSuffix(body, u.suffix); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || v <= 0 || v*u.mult > 1<<40 {
				return 0, fmt.Errorf("%q is not a positive rate (want e.g. 64KiB/s)", s)
			}
			return ByteRate(max(1, int64(v*u.mult))), nil
		}
	}
	return 0, fmt.Errorf("%q has no unit (want B, KB, KiB, MB, MiB, kbit or Mbit per second, e.g. 64KiB/s)", s)
}

func (r ByteRate) String() string {
	switch {
	case r >= 1<<20 && r%(1<<20) == 0:
		return strconv.FormatInt(int64(r)>>20, 10) + "MiB/s"
	case r >= 1<<10 && r%(1<<10) == 0:
		return strconv.FormatInt(int64(r)>>10, 10) + "KiB/s"
	}
	return strconv.FormatInt(int64(r), 10) + "B/s"
}

// MarshalText writes the rate with a unit.
func (r ByteRate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText parses a rate with ParseByteRate.
func (r *ByteRate) UnmarshalText(b []byte) error {
	v, err := ParseByteRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// PhaseBound holds the parameters of faults that fire at a phase of an
// exchange: At is the phase, AfterBytes how many bytes toward the client
// pass (counted from the start of that phase) before the fault acts.
type PhaseBound struct {
	// At is the phase the fault acts at (the default depends on the kind).
	At profile.Phase `yaml:"at,omitempty" json:"at,omitempty"`
	// AfterBytes is how many bytes pass (toward the client, or with direction up toward the server) before the fault acts (default 0).
	AfterBytes int64 `yaml:"after_bytes,omitempty" json:"after_bytes,omitempty"`
}

// Phase returns the phase the fault is bound to, defaulting to def.
func (p PhaseBound) Phase(def profile.Phase) profile.Phase {
	if p.At == "" {
		return def
	}
	return p.At
}

// validate checks the phase against the phases this kind supports.
func (p PhaseBound) validate(allowed ...profile.Phase) error {
	var errs []error
	if p.At != "" {
		ok := false
		for _, a := range allowed {
			ok = ok || p.At == a
		}
		if !ok {
			errs = append(errs, fieldErr("at", "%q is not a phase this fault supports (want one of %s)", p.At, joinPhases(allowed)))
		}
	}
	if p.AfterBytes < 0 {
		errs = append(errs, fieldErr("after_bytes", "must be >= 0, got %d", p.AfterBytes))
	}
	return errors.Join(errs...)
}

func joinPhases(ps []profile.Phase) string {
	s := make([]string, len(ps))
	for n, p := range ps {
		s[n] = string(p)
	}
	return strings.Join(s, ", ")
}

// Direction is the way of the bytes a tcp.* fault acts on.
type Direction string

// The directions.
const (
	// Down: the bytes toward the client (answers), the default.
	Down Direction = "down"
	// Up: the client's bytes toward the server (requests, uploads).
	Up Direction = "up"
)

// Directed holds the direction parameter of the tcp.* kinds that can act
// on either way of a connection.
type Directed struct {
	// Direction is down (the bytes toward the client) or up (the client's bytes toward the server: on an HTTP request with a body, the body, so after_bytes counts body bytes; at then defaults to request) (default down).
	Direction Direction `yaml:"direction,omitempty" json:"direction,omitempty"`
}

// Upstream reports whether the fault acts on the client's bytes toward the
// server.
func (d Directed) Upstream() bool { return d.Direction == Up }

// phase is the phase a phase-bound kind acts at when at is absent: down's
// default, or request for up (the request's bytes are what up acts on).
func (d Directed) phase(p PhaseBound, down profile.Phase) profile.Phase {
	if d.Upstream() {
		return p.Phase(profile.PhaseRequest)
	}
	return p.Phase(down)
}

func (d Directed) validate() error {
	if d.Direction != "" && d.Direction != Down && d.Direction != Up {
		return fieldErr("direction", "%q is not one of %s, %s", d.Direction, Down, Up)
	}
	return nil
}

// upstreamer is implemented by the kinds that take a direction.
type upstreamer interface{ Upstream() bool }

// Upstream reports whether a configured fault acts on the client's bytes
// toward the server (direction up) rather than on those toward the
// client.
func Upstream(f Fault) bool {
	u, ok := f.(upstreamer)
	return ok && u.Upstream()
}

// PhaseBinder is implemented by faults that fire at a phase; the world asks
// it where to arm them.
type PhaseBinder interface {
	// BoundPhase is where the fault acts and how many bytes pass first.
	BoundPhase() (profile.Phase, int64)
}
