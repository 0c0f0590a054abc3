package faults

import (
	"context"
	"errors"
	"net"
	"time"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

// DNSAnswer answers with a wrong address (A or AAAA by the address family).
type DNSAnswer struct {
	DNSMatch `yaml:",inline"`
	// Address is the IP address to answer with.
	Address string `yaml:"address" json:"address"`
	// TTL of the record (default 60s).
	TTL profile.Duration `yaml:"ttl,omitempty" json:"ttl,omitempty"`
}

func init() {
	Register(Info{Kind: "dns.answer", Summary: "answers with a wrong address (A or AAAA by the address family)", New: func() Fault { return new(DNSAnswer) }})
}

// Validate checks the parameters.
func (f *DNSAnswer) Validate() error {
	var errs []error
	if net.ParseIP(f.Address) == nil {
		errs = append(errs, fieldErr("address", "%q is not an IP address", f.Address))
	}
	if f.TTL < 0 {
		errs = append(errs, fieldErr("ttl", "must not be negative, got %s", f.TTL))
	}
	return errors.Join(append(errs, f.DNSMatch.validate())...)
}

// DefaultAnswerTTL is the TTL of a dns.answer record without ttl.
const DefaultAnswerTTL = 60 * time.Second

// ServeDNS answers with Address: an A record for an IPv4 address, AAAA for
// IPv6 (a query for ANY gets that record too). Queries of any other type
// get NODATA, whose SOA minimum is the record's TTL.
func (f *DNSAnswer) ServeDNS(_ context.Context, w dns.ResponseWriter, r *dns.Msg, _ dns.Handler) {
	ttl := uint32(DefaultAnswerTTL / time.Second)
	if f.TTL > 0 {
		ttl = uint32(f.TTL.D() / time.Second)
	}
	ip := net.ParseIP(f.Address)
	if ip == nil || len(r.Question) == 0 {
		DNSRcode(w, r, dns.RcodeServerFailure) // Validate refuses this; be safe anyway
		return
	}
	q := r.Question[0]
	hdr := dns.RR_Header{Name: q.Name, Class: dns.ClassINET, Ttl: ttl}
	var rr dns.RR
	if ip4 := ip.To4(); ip4 != nil {
		hdr.Rrtype = dns.TypeA
		rr = &dns.A{Hdr: hdr, A: ip4}
	} else {
		hdr.Rrtype = dns.TypeAAAA
		rr = &dns.AAAA{Hdr: hdr, AAAA: ip}
	}
	if q.Qtype != hdr.Rrtype && q.Qtype != dns.TypeANY {
		negative(w, r, dns.RcodeSuccess, ttl)
		return
	}
	m := DNSReply(r)
	m.Answer = []dns.RR{rr}
	_ = w.WriteMsg(m)
}

var _ DNSHook = (*DNSAnswer)(nil)
