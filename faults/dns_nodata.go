package faults

import (
	"context"
	"errors"

	"github.com/miekg/dns"
)

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

// ServeDNS answers NOERROR with an empty answer section and the SOA of the
// name's parent zone, whose minimum (and TTL) is the negative TTL.
func (f *NoData) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg, _ dns.Handler) {
	negative(w, r, dns.RcodeSuccess, f.NegativeTTL.Seconds())
}

var _ DNSHook = (*NoData)(nil)
