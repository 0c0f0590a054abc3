package faults

import "errors"

// TCPStall stops sending at a phase, after N bytes, for duration (absent: until the client gives up, bounded).
type TCPStall struct {
	PhaseBound `yaml:",inline"`
	// Duration is how long the connection stays silent; zero holds it until
	// the client gives up or the world's maximum stall ends it.
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
}

func init() {
	Register(Info{Kind: "tcp.stall", Summary: "stops sending at a phase, after N bytes, for duration (absent: until the client gives up, bounded)", New: func() Fault { return new(TCPStall) }})
}

// Validate checks the parameters.
func (f *TCPStall) Validate() error {
	var errs []error
	if f.Duration < 0 {
		errs = append(errs, fieldErr("duration", "must not be negative, got %s", f.Duration))
	}
	return errors.Join(append(errs, f.PhaseBound.validate(connPhases...))...)
}

// BoundPhase implements PhaseBinder; the default phase is headers.
func (f *TCPStall) BoundPhase() (Phase, int64) { return f.Phase(PhaseHeaders), f.AfterBytes }
