package faults

import (
	"crypto/tls"
	"slices"
)

// TLSReset resets the connection (TCP RST) right after the ClientHello.
// reference/wu-codes.md section 4 row 10: 0x80072EFE.
type TLSReset struct {
	// NoSharedCipher limits the reset to a ClientHello that offers no
	// cipher suite the server accepts (no TLS 1.3, and none of the TLS
	// 1.0-1.2 suites of the server's configuration or crypto/tls's
	// defaults): the server drops the connection instead of answering
	// with an alert, the cipher suite mismatch [L-2EFE] reports as
	// 0x80072EFE (section 4 row 11). A client that enables the suites
	// (seed 000's cipher suite order) then completes the handshake.
	NoSharedCipher bool `yaml:"no_shared_cipher,omitempty" json:"no_shared_cipher,omitempty"`
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
func (f *TLSReset) ConfigForClient(hello *tls.ClientHelloInfo, env TLSEnv) (*tls.Config, error) {
	if f.NoSharedCipher && sharesCipher(hello, env.Base()) {
		return nil, nil
	}
	_ = Abort(hello.Conn)
	return nil, ErrInjected
}

// sharesCipher reports whether a ClientHello offers a suite the server
// would pick: any TLS 1.3 suite, or a TLS 1.0-1.2 suite of base (or of
// crypto/tls's defaults when base names none).
func sharesCipher(hello *tls.ClientHelloInfo, base *tls.Config) bool {
	if slices.Contains(hello.SupportedVersions, tls.VersionTLS13) && (base == nil || base.MaxVersion == 0 || base.MaxVersion >= tls.VersionTLS13) {
		return true
	}
	var server []uint16
	if base != nil {
		server = base.CipherSuites
	}
	if len(server) == 0 {
		for _, s := range tls.CipherSuites() {
			server = append(server, s.ID)
		}
	}
	for _, id := range hello.CipherSuites {
		if slices.Contains(server, id) {
			return true
		}
	}
	return false
}

var _ TLSHook = (*TLSReset)(nil)
