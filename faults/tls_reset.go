package faults

import "crypto/tls"

// TLSReset resets the connection (TCP RST) right after the ClientHello.
// reference/wu-codes.md section 4 row 10: 0x80072EFE.
type TLSReset struct {
}

func init() {
	Register(Info{Kind: "tls.reset", Summary: "resets the connection (TCP RST) right after the ClientHello", New: func() Fault { return new(TLSReset) }})
}

// Validate checks the parameters.
func (f *TLSReset) Validate() error {
	return nil
}

// ConfigForClient aborts the connection under the handshake (SO_LINGER 0,
// so the kernel sends RST) and ends the handshake with ErrInjected.
func (f *TLSReset) ConfigForClient(hello *tls.ClientHelloInfo, _ TLSEnv) (*tls.Config, error) {
	_ = Abort(hello.Conn)
	return nil, ErrInjected
}

var _ TLSHook = (*TLSReset)(nil)
