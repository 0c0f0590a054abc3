package faults

import (
	"context"

	"github.com/miekg/dns"
)

// DNSTruncate answers UDP queries with the TC bit and no records, forcing a retry over TCP.
type DNSTruncate struct {
	DNSMatch `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.truncate", Summary: "answers UDP queries with the TC bit and no records, forcing a retry over TCP", New: func() Fault { return new(DNSTruncate) }})
}

// Validate checks the parameters.
func (f *DNSTruncate) Validate() error {
	return f.DNSMatch.validate()
}

// ServeDNS answers a UDP query with the TC bit set and no records, which
// makes a resolver retry over TCP; a TCP query passes on to next untouched.
func (f *DNSTruncate) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg, next dns.Handler) {
	if !isUDP(w) {
		next.ServeDNS(w, r)
		return
	}
	m := DNSReply(r)
	m.Truncated = true
	_ = w.WriteMsg(m)
}

var _ DNSHook = (*DNSTruncate)(nil)
