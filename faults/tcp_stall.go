package faults

import (
	"errors"
	"net"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// TCPStall stops the bytes toward the client (with direction up, toward the server) at a phase, after N bytes, for duration (absent: until the client gives up, bounded).
type TCPStall struct {
	PhaseBound `yaml:",inline"`
	Directed   `yaml:",inline"`
	// Duration is how long the connection stays silent; zero holds it until
	// the client gives up or the world's maximum stall ends it.
	Duration profile.Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
}

func init() {
	Register(Info{Kind: "tcp.stall", Summary: "stops the bytes toward the client (or with direction up the server) at a phase, after N bytes, for duration (absent: until the client gives up, bounded)", New: func() Fault { return new(TCPStall) },
		Unbounded: func(f Fault, max time.Duration) bool {
			d := f.(*TCPStall).Duration.D()
			return d == 0 || d > max
		},
		// A firewall that drops SYNs stalls the connect: opening it cures a
		// stall at connect, not one later in the exchange.
		Cures: map[string]Cure{"open-firewall": {Applies: func(f Fault) bool { return f.(*TCPStall).Phase(profile.PhaseHeaders) == profile.PhaseConnect }}}})
}

var _ ConnHook = (*TCPStall)(nil)

// Validate checks the parameters.
func (f *TCPStall) Validate() error {
	var errs []error
	if f.Duration < 0 {
		errs = append(errs, fieldErr("duration", "must not be negative, got %s", f.Duration))
	}
	return errors.Join(append(errs, f.PhaseBound.validate(connPhases...), f.Directed.validate())...)
}

// BoundPhase implements PhaseBinder; the default phase is headers (request
// with direction up).
func (f *TCPStall) BoundPhase() (profile.Phase, int64) {
	return f.Directed.phase(f.PhaseBound, profile.PhaseHeaders), f.AfterBytes
}

// WrapConn lets AfterBytes bytes through and then holds every write: for
// Duration, after which bytes flow again, or (Duration 0) until the
// connection is closed — by the world when the client gives up, at its
// maximum stall, or at shutdown. Reads are not held, so the world notices
// a client that leaves.
func (f *TCPStall) WrapConn(c net.Conn, notify Notify) net.Conn {
	return &stallConn{wrapped: newWrapped(c), f: f, left: f.AfterBytes, notify: notify}
}

type stallConn struct {
	wrapped
	f      *TCPStall
	left   int64
	over   bool // the stall has run its course
	notify Notify
}

func (s *stallConn) Write(p []byte) (int, error) {
	if s.over || int64(len(p)) <= s.left {
		n, err := s.Conn.Write(p)
		s.left -= int64(n)
		return n, err
	}
	n := 0
	if s.left > 0 {
		m, err := s.Conn.Write(p[:s.left])
		n += m
		s.left -= int64(m)
		if err != nil {
			return n, err
		}
	}
	start := time.Now()
	if s.f.Duration > 0 {
		s.notify("stalled for " + s.f.Duration.String() + " after " + plural(s.f.AfterBytes))
	} else {
		s.notify("stalled after " + plural(s.f.AfterBytes) + " until the client gives up")
	}
	if s.f.Duration <= 0 || !s.sleep(s.f.Duration.D()) {
		<-s.done
		return n, ErrInjected
	}
	s.over = true
	s.notify("stall ended after " + time.Since(start).Round(time.Millisecond).String())
	m, err := s.Conn.Write(p[n:])
	return n + m, err
}
