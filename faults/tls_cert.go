package faults

// TLSCert presents a bad server certificate (expired, wrong-host, untrusted-ca, revoked, …).
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
