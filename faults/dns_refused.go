package faults

import (
	"context"

	"github.com/miekg/dns"
)

// Refused answers REFUSED (RCODE 5).
type Refused struct {
	DNSMatch `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.refused", Summary: "answers REFUSED (RCODE 5)", New: func() Fault { return new(Refused) }})
}

// Validate checks the parameters.
func (f *Refused) Validate() error {
	return f.DNSMatch.validate()
}

// ServeDNS answers REFUSED.
func (f *Refused) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg, _ dns.Handler) {
	DNSRcode(w, r, dns.RcodeRefused)
}

var _ DNSHook = (*Refused)(nil)
