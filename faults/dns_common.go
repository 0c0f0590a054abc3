package faults

import (
	"errors"
	"strings"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

// DNSMatch restricts a dns.* fault to some query types; empty means all.
type DNSMatch struct {
	// QTypes are the query types the fault answers (A, AAAA, …); empty means all.
	QTypes []string `yaml:"qtypes,omitempty" json:"qtypes,omitempty"`
}

// MatchesQType reports whether the query type (e.g. "AAAA") is covered.
func (m DNSMatch) MatchesQType(qtype string) bool {
	if len(m.QTypes) == 0 {
		return true
	}
	for _, t := range m.QTypes {
		if strings.EqualFold(t, qtype) {
			return true
		}
	}
	return false
}

func (m DNSMatch) validate() error {
	var errs []error
	for _, t := range m.QTypes {
		if _, ok := dns.StringToType[strings.ToUpper(t)]; !ok {
			errs = append(errs, fieldErr("qtypes", "%q is not a DNS query type", t))
		}
	}
	return errors.Join(errs...)
}

// DefaultNegativeTTL is the SOA minimum of negative answers when a fault
// sets no negative_ttl: long enough for a client's negative cache to matter.
const DefaultNegativeTTL = 300

// NegativeTTL is the SOA minimum of a negative answer: how long a resolver
// (the Windows DNS client included) may cache the "does not exist".
// Absent or 0s: DefaultNegativeTTL (300s); it counts in whole seconds.
type NegativeTTL struct {
	// NegativeTTL is the SOA minimum of the negative answer, in whole seconds (default 300s).
	NegativeTTL profile.Duration `yaml:"negative_ttl,omitempty" json:"negative_ttl,omitempty"`
}

func (n NegativeTTL) validate() error {
	if n.NegativeTTL < 0 || n.NegativeTTL.D().Seconds() > 1<<31-1 {
		return fieldErr("negative_ttl", "must be between 0s and 68y, got %s", n.NegativeTTL)
	}
	return nil
}

// Seconds is the negative TTL to put in the SOA, defaulted.
func (n NegativeTTL) Seconds() uint32 {
	if n.NegativeTTL <= 0 {
		return DefaultNegativeTTL
	}
	return uint32(n.NegativeTTL.D().Seconds())
}

// qtypeMatcher is implemented by every fault that embeds DNSMatch.
type qtypeMatcher interface{ MatchesQType(string) bool }

// SelectDNS is Select for the dns layer: besides its match and when, a
// rule fires on a query only if its kind covers the query type (the
// fault's qtypes), so a rule's counters see only the queries it could act
// on ("first: 2" with qtypes [A] means the first two A queries). t.QType
// is the type's mnemonic ("A", "AAAA").
func (s *Set) SelectDNS(t Target) []*Rule {
	if s == nil {
		return nil
	}
	var out []*Rule
	host := "" // normalized once, for the first rule that needs it
	for _, r := range s.rules {
		if _, ok := r.Fault.(DNSHook); !ok {
			continue
		}
		if m, ok := r.Fault.(qtypeMatcher); ok && !m.MatchesQType(t.QType) {
			continue
		}
		if host == "" {
			host = NormHost(t.Host)
		}
		if r.selectNorm(t, host) {
			out = append(out, r)
		}
	}
	return out
}

// DNSReply starts the answer to r: its id, question, opcode and RD bit,
// QR and RA set (to its clients the world is a recursive resolver, and a
// stub such as Go's treats an empty NOERROR answer without AA or RA as a
// lame referral, not as NODATA), and an EDNS0 OPT record (1232-byte
// payload, RFC 9715's safe size) when r carried one, as RFC 6891 asks of
// a responder.
func DNSReply(r *dns.Msg) *dns.Msg { return FillReply(new(dns.Msg), r, nil) }

// FillReply makes m the start of the answer to r, as DNSReply does, and
// returns it. It keeps the capacity of m's question and additional
// sections and uses opt (a new one if nil) as the OPT record, so a server
// answering many queries can reuse them all.
func FillReply(m, r *dns.Msg, opt *dns.OPT) *dns.Msg {
	question, extra := m.Question[:0], m.Extra[:0]
	*m = dns.Msg{}
	m.Id = r.Id
	m.Response = true
	m.Opcode = r.Opcode
	if r.Opcode == dns.OpcodeQuery {
		m.RecursionDesired, m.CheckingDisabled = r.RecursionDesired, r.CheckingDisabled
	}
	m.RecursionAvailable = true
	if len(r.Question) > 0 {
		m.Question = append(question, r.Question[0])
	}
	if r.IsEdns0() != nil {
		if opt == nil {
			opt = new(dns.OPT)
		}
		*opt = dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(1232)
		m.Extra = append(extra, opt)
	}
	return m
}

// DNSRcode answers r with rcode and nothing else.
func DNSRcode(w dns.ResponseWriter, r *dns.Msg, rcode int) {
	m := DNSReply(r)
	m.Rcode = rcode
	_ = w.WriteMsg(m) // the client may be gone; nothing to do about it
}

// NegativeSOA is the SOA record of the authority section of a negative
// answer (NXDOMAIN or NODATA) for qname: owned by qname's parent zone, with
// minimum and TTL both ttl seconds, so a resolver caches the negative
// answer for ttl (RFC 2308 section 5).
func NegativeSOA(qname string, ttl uint32) *dns.SOA {
	return SOA(ParentZone(qname), ttl)
}

// SOA is the wufault SOA record of zone, with minimum and TTL set to ttl.
func SOA(zone string, ttl uint32) *dns.SOA {
	return &dns.SOA{
		Hdr:     dns.RR_Header{Name: zone, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns:      "ns.wufault.invalid.",
		Mbox:    "hostmaster.wufault.invalid.",
		Serial:  1,
		Refresh: 3600,
		Retry:   600,
		Expire:  86400,
		Minttl:  ttl,
	}
}

// ParentZone returns the fully qualified parent of name ("b.c." for
// "a.b.c."; "." for a single label or the root).
func ParentZone(name string) string {
	name = dns.Fqdn(name)
	i, end := dns.NextLabel(name, 0)
	if end || i >= len(name) {
		return "."
	}
	return name[i:]
}

// isUDP reports whether the query behind w came over UDP.
func isUDP(w dns.ResponseWriter) bool {
	return w.LocalAddr().Network() == "udp"
}

// negative answers r with rcode (NXDOMAIN or NOERROR for NODATA), no
// records, and the SOA of qname's parent zone for negative caching.
func negative(w dns.ResponseWriter, r *dns.Msg, rcode int, ttl uint32) {
	m := DNSReply(r)
	m.Rcode = rcode
	qname := "."
	if len(r.Question) > 0 {
		qname = r.Question[0].Name
	}
	m.Ns = []dns.RR{NegativeSOA(qname, ttl)}
	_ = w.WriteMsg(m)
}
