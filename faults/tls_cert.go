package faults

import (
	"crypto/tls"
	"fmt"
)

// TLSCert presents a bad server certificate (expired, wrong-host, untrusted-ca, revoked, …).
//
// Profiles, each the certificate a client is shown (reference/wu-codes.md
// section 4 rows 12–15: WinHTTP's C API folds them all into 12175,
// 0x80072F8F):
//
//   - expired: validity ended 30 days ago.
//   - not-yet-valid: validity starts in 30 days.
//   - wrong-host: issued for another lab name (wrong-host.lab).
//   - self-signed: the certificate signs itself; no CA vouches for it.
//   - untrusted-ca: issued by a second CA that nobody trusts.
//   - revoked: listed as revoked by the lab's OCSP responder and CRL (and
//     the stapled OCSP answer); only clients that check revocation fail.
//   - missing-intermediate: the good chain without its intermediate CA.
//   - sha1: signed with ECDSA-SHA1.
//   - rsa1024: an RSA key of 1024 bits.
//   - no-serverauth: extended key usage clientAuth only.
type TLSCert struct {
	// Profile is one of CertProfiles.
	Profile string `yaml:"profile" json:"profile"`
}

func init() {
	Register(Info{Kind: "tls.cert", Summary: "presents a bad server certificate (expired, wrong-host, untrusted-ca, revoked, …)", New: func() Fault { return new(TLSCert) }})
}

// Validate checks the parameters.
func (f *TLSCert) Validate() error {
	return oneOf("profile", f.Profile, CertProfiles)
}

// ConfigForClient serves the profile's certificate for the name the client
// asked for (hello.ServerName; without SNI, env's own host).
func (f *TLSCert) ConfigForClient(hello *tls.ClientHelloInfo, env TLSEnv) (*tls.Config, error) {
	cert, err := env.Certificate(hello.ServerName, f.Profile)
	if err != nil {
		return nil, fmt.Errorf("tls.cert %s: %w", f.Profile, err)
	}
	cfg := env.Base().Clone()
	cfg.GetCertificate = nil
	cfg.Certificates = []tls.Certificate{*cert}
	return cfg, nil
}

var _ TLSHook = (*TLSCert)(nil)
