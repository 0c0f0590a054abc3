package faults

// TLSReset resets the connection (TCP RST) right after the ClientHello.
type TLSReset struct {
}

func init() {
	Register(Info{Kind: "tls.reset", Summary: "resets the connection (TCP RST) right after the ClientHello", New: func() Fault { return new(TLSReset) }})
}

// Validate checks the parameters.
func (f *TLSReset) Validate() error {
	return nil
}
