package faults

import (
	"crypto/tls"
	"errors"
)

// TLSVersion accepts only the TLS versions min…max, so a client without them fails the handshake.
type TLSVersion struct {
	Min string `yaml:"min,omitempty" json:"min,omitempty"`
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
