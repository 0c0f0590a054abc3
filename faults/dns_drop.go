package faults

import (
	"context"

	"github.com/miekg/dns"
)

// DNSDrop never answers: the client's resolver times out.
type DNSDrop struct {
	DNSMatch `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.drop", Summary: "never answers: the client's resolver times out", New: func() Fault { return new(DNSDrop) }})
}

// Validate checks the parameters.
func (f *DNSDrop) Validate() error {
	return f.DNSMatch.validate()
}

// ServeDNS sends nothing. Over UDP the client's resolver times out and
// retries; over TCP the connection stays open, idle, until the server's
// idle timeout or the client closes it.
func (f *DNSDrop) ServeDNS(context.Context, dns.ResponseWriter, *dns.Msg, dns.Handler) {}

var _ DNSHook = (*DNSDrop)(nil)
