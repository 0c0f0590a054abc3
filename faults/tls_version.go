package faults

import (
	"crypto/tls"
	"errors"

	"github.com/wufault/wufault/client/profile"
)

// TLSVersion accepts only the TLS versions min…max, so a client without them fails the handshake.
// reference/wu-codes.md section 4 row 11: the server answers with a
// protocol_version alert (0x80072F8F more likely than 0x80072EFE).
type TLSVersion struct {
	// Min is the lowest version accepted ("1.0" … "1.3"); empty: 1.0.
	Min string `yaml:"min,omitempty" json:"min,omitempty"`
	// Max is the highest version accepted; empty: 1.3.
	Max string `yaml:"max,omitempty" json:"max,omitempty"`
}

func init() {
	Register(Info{Kind: "tls.version", Summary: "accepts only the TLS versions min…max, so a client without them fails the handshake", New: func() Fault { return new(TLSVersion) }})
}

// Validate checks the parameters.
func (f *TLSVersion) Validate() error {
	var errs []error
	lo, hi := uint16(tls.VersionTLS10), uint16(tls.VersionTLS13)
	if f.Min == "" && f.Max == "" {
		errs = append(errs, fieldErr("min", "set min, max or both"))
	}
	if f.Min != "" {
		v, err := tlsVersion("min", f.Min)
		errs, lo = append(errs, err), v
	}
	if f.Max != "" {
		v, err := tlsVersion("max", f.Max)
		errs, hi = append(errs, err), v
	}
	if lo != 0 && hi != 0 && lo > hi {
		errs = append(errs, fieldErr("max", "%s is below min %s", f.Max, f.Min))
	}
	return errors.Join(errs...)
}

// ConfigForClient narrows the versions the server accepts.
func (f *TLSVersion) ConfigForClient(_ *tls.ClientHelloInfo, env TLSEnv) (*tls.Config, error) {
	cfg := env.Base().Clone()
	cfg.MinVersion, cfg.MaxVersion = tls.VersionTLS10, tls.VersionTLS13
	if v, ok := profile.TLSVersions[f.Min]; ok {
		cfg.MinVersion = v
	}
	if v, ok := profile.TLSVersions[f.Max]; ok {
		cfg.MaxVersion = v
	}
	return cfg, nil
}

var _ TLSHook = (*TLSVersion)(nil)
