package faults

// TCPReset resets the connection (TCP RST via SO_LINGER 0) at a phase, after N bytes.
type TCPReset struct {
	PhaseBound `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "tcp.reset", Summary: "resets the connection (TCP RST via SO_LINGER 0) at a phase, after N bytes", New: func() Fault { return new(TCPReset) }})
}

// Validate checks the parameters.
func (f *TCPReset) Validate() error {
	return f.PhaseBound.validate(connPhases...)
}

// BoundPhase implements PhaseBinder; the default phase is headers.
func (f *TCPReset) BoundPhase() (Phase, int64) { return f.Phase(PhaseHeaders), f.AfterBytes }
