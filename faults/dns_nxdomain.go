package faults

import (
	"context"
	"errors"

	"github.com/miekg/dns"
)

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

// ServeDNS answers NXDOMAIN with the SOA of the name's parent zone in the
// authority section; its minimum (and TTL) is the negative TTL.
func (f *NXDomain) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg, _ dns.Handler) {
	negative(w, r, dns.RcodeNameError, f.NegativeTTL.Seconds())
}

var _ DNSHook = (*NXDomain)(nil)
