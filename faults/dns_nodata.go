package faults

import "errors"

// NoData answers NOERROR with no records (NODATA) and an SOA for negative caching.
type NoData struct {
	DNSMatch    `yaml:",inline"`
	NegativeTTL `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.nodata", Summary: "answers NOERROR with no records (NODATA) and an SOA for negative caching", New: func() Fault { return new(NoData) }})
}

// Validate checks the parameters.
func (f *NoData) Validate() error {
	return errors.Join(f.DNSMatch.validate(), f.NegativeTTL.validate())
}
