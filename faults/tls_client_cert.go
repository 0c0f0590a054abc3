package faults

// TLSClientCert asks the client for a certificate during the handshake.
type TLSClientCert struct {
	// Mode is require (default: the handshake fails without one) or request.
	Mode string `yaml:"mode,omitempty" json:"mode,omitempty"`
}

func init() {
	Register(Info{Kind: "tls.client_cert", Summary: "asks the client for a certificate during the handshake", New: func() Fault { return new(TLSClientCert) }})
}

// Validate checks the parameters.
func (f *TLSClientCert) Validate() error {
	if f.Mode == "" {
		return nil
	}
	return oneOf("mode", f.Mode, []string{"require", "request"})
}
