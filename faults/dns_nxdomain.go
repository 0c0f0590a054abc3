package faults

import "errors"

// NXDomain answers NXDOMAIN (RCODE 3) with an SOA whose minimum sets the negative TTL.
type NXDomain struct {
	DNSMatch    `yaml:",inline"`
	NegativeTTL `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.nxdomain", Summary: "answers NXDOMAIN (RCODE 3) with an SOA whose minimum sets the negative TTL", New: func() Fault { return new(NXDomain) }})
}

// Validate checks the parameters.
func (f *NXDomain) Validate() error {
	return errors.Join(f.DNSMatch.validate(), f.NegativeTTL.validate())
}
