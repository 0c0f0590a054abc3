package faults

import "crypto/tls"

// TLSAlert answers the ClientHello with a fatal TLS alert.
// reference/wu-codes.md section 4 row 11: a fatal alert most likely gives
// 0x80072F8F.
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

// AlertRecord returns the TLS record carrying the alert: content type 21,
// record version TLS 1.2 (what a TLS 1.3 server writes too), level fatal
// (2), except close_notify, which only exists as a warning (1). A fatal
// user_canceled fails the client at once; as a warning, clients would
// read it as an abrupt close.
func (f *TLSAlert) AlertRecord() []byte {
	code := TLSAlerts[f.Alert]
	level := byte(2)
	if code == 0 {
		level = 1
	}
	return []byte{21, 3, 3, 0, 2, level, code}
}

// ConfigForClient writes the alert record in the clear, sends a FIN and
// ends the handshake with ErrInjected (the alert Go's server would add
// then meets a closed connection).
func (f *TLSAlert) ConfigForClient(hello *tls.ClientHelloInfo, _ TLSEnv) (*tls.Config, error) {
	_, _ = hello.Conn.Write(f.AlertRecord())
	_ = HalfClose(hello.Conn)
	return nil, ErrInjected
}

var _ TLSHook = (*TLSAlert)(nil)
