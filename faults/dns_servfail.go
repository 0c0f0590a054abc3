package faults

import (
	"context"

	"github.com/miekg/dns"
)

// ServFail answers SERVFAIL (RCODE 2).
type ServFail struct {
	DNSMatch `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.servfail", Summary: "answers SERVFAIL (RCODE 2)", New: func() Fault { return new(ServFail) }})
}

// Validate checks the parameters.
func (f *ServFail) Validate() error {
	return f.DNSMatch.validate()
}

// ServeDNS answers SERVFAIL.
func (f *ServFail) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg, _ dns.Handler) {
	DNSRcode(w, r, dns.RcodeServerFailure)
}

var _ DNSHook = (*ServFail)(nil)
