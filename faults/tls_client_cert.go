package faults

import "crypto/tls"

// TLSClientCert asks the client for a certificate during the handshake.
// reference/wu-codes.md section 4 row 17: WinHTTP answers a
// CertificateRequest it has no certificate for with 12044, 0x80072F0C,
// in both modes; Go and OpenSSL clients fail only when it is required.
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

// ConfigForClient sends a CertificateRequest: require fails a client that
// sends no certificate, request lets it through. Any certificate is
// accepted (none is verified).
func (f *TLSClientCert) ConfigForClient(_ *tls.ClientHelloInfo, env TLSEnv) (*tls.Config, error) {
	cfg := env.Base().Clone()
	cfg.ClientAuth = tls.RequireAnyClientCert
	if f.Mode == "request" {
		cfg.ClientAuth = tls.RequestClientCert
	}
	return cfg, nil
}

var _ TLSHook = (*TLSClientCert)(nil)
