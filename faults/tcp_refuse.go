package faults

// TCPRefuse refuses the connection: reset as soon as it is accepted, before a byte is read.
type TCPRefuse struct {
}

func init() {
	Register(Info{Kind: "tcp.refuse", Summary: "refuses the connection: reset as soon as it is accepted, before a byte is read", New: func() Fault { return new(TCPRefuse) }})
}

// Validate checks the parameters.
func (f *TCPRefuse) Validate() error {
	return nil
}
