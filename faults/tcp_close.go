package faults

// TCPClose closes the connection cleanly (FIN) at a phase, after N bytes.
type TCPClose struct {
	PhaseBound `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "tcp.close", Summary: "closes the connection cleanly (FIN) at a phase, after N bytes", New: func() Fault { return new(TCPClose) }})
}

// Validate checks the parameters.
func (f *TCPClose) Validate() error {
	return f.PhaseBound.validate(connPhases...)
}

// BoundPhase implements PhaseBinder; the default phase is headers.
func (f *TCPClose) BoundPhase() (Phase, int64) { return f.Phase(PhaseHeaders), f.AfterBytes }
