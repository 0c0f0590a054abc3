package faults

// TLSAlert answers the ClientHello with a fatal TLS alert.
type TLSAlert struct {
	// Alert is an alert name such as handshake_failure or protocol_version.
	Alert string `yaml:"alert" json:"alert"`
}

func init() {
	Register(Info{Kind: "tls.alert", Summary: "answers the ClientHello with a fatal TLS alert", New: func() Fault { return new(TLSAlert) }})
}

// Validate checks the parameters.
func (f *TLSAlert) Validate() error {
	if _, ok := TLSAlerts[f.Alert]; !ok {
		return fieldErr("alert", "%q is not a TLS alert (want one of %s)", f.Alert, sortedKeys(TLSAlerts))
	}
	return nil
}
