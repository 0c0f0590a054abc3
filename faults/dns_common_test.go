package faults

import (
	"bytes"
	"context"
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

// dnsRecorder is a dns.ResponseWriter that keeps what the hook wrote.
type dnsRecorder struct {
	network string // "udp" or "tcp"
	msgs    []*dns.Msg
}

func (r *dnsRecorder) LocalAddr() net.Addr {
	if r.network == "tcp" {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}

func (r *dnsRecorder) RemoteAddr() net.Addr {
	if r.network == "tcp" {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}

func (r *dnsRecorder) WriteMsg(m *dns.Msg) error {
	// Pack like the server does, so a hook cannot write an unpackable answer.
	if _, err := m.Pack(); err != nil {
		return err
	}
	r.msgs = append(r.msgs, m)
	return nil
}

func (r *dnsRecorder) Write([]byte) (int, error) { panic("hooks must use WriteMsg") }
func (r *dnsRecorder) Close() error              { return nil }
func (r *dnsRecorder) TsigStatus() error         { return nil }
func (r *dnsRecorder) TsigTimersOnly(bool)       {}
func (r *dnsRecorder) Hijack()                   {}

// only returns the one message written, failing otherwise.
func (r *dnsRecorder) only(t *testing.T) *dns.Msg {
	t.Helper()
	if len(r.msgs) != 1 {
		t.Fatalf("hook wrote %d messages, want 1", len(r.msgs))
	}
	return r.msgs[0]
}

// nextHandler records that the hook passed the query on, and answers it
// with one A record so the caller sees the pass-through.
type nextHandler struct{ called int }

func (n *nextHandler) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	n.called++
	m := DNSReply(r)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
	_ = w.WriteMsg(m)
}

// query builds a query for name and qtype, with EDNS0 when edns is set.
func query(name string, qtype uint16, edns bool) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.Id = 4242
	if edns {
		m.SetEdns0(1232, false)
	}
	return m
}

// serve runs hook h for one query over network and returns the recorder
// and the next handler.
func serve(t *testing.T, h DNSHook, network string, r *dns.Msg) (*dnsRecorder, *nextHandler) {
	t.Helper()
	if err := h.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rec, next := &dnsRecorder{network: network}, &nextHandler{}
	h.ServeDNS(ctx, rec, r, next)
	return rec, next
}

// checkReply checks what every answer to r must keep: the id, the
// question, QR, and an OPT record exactly when r had one.
func checkReply(t *testing.T, r, m *dns.Msg) {
	t.Helper()
	if m.Id != r.Id || !m.Response || !m.RecursionAvailable || len(m.Question) != 1 || m.Question[0] != r.Question[0] {
		t.Errorf("reply header/question = id %d qr %v ra %v %v, want id %d, qr, ra, %v", m.Id, m.Response, m.RecursionAvailable, m.Question, r.Id, r.Question)
	}
	if (r.IsEdns0() != nil) != (m.IsEdns0() != nil) {
		t.Errorf("reply OPT = %v, query OPT = %v", m.IsEdns0(), r.IsEdns0())
	}
}

// checkNegativeSOA checks the authority section of a negative answer.
func checkNegativeSOA(t *testing.T, m *dns.Msg, zone string, ttl uint32) {
	t.Helper()
	if len(m.Ns) != 1 {
		t.Fatalf("authority = %v, want one SOA", m.Ns)
	}
	soa, ok := m.Ns[0].(*dns.SOA)
	if !ok || soa.Hdr.Name != zone || soa.Minttl != ttl || soa.Hdr.Ttl != ttl {
		t.Errorf("authority = %v, want SOA of %s with minimum and TTL %d", m.Ns[0], zone, ttl)
	}
}

func TestParentZone(t *testing.T) {
	for in, want := range map[string]string{
		"fe3.delivery.mp.microsoft.com.": "delivery.mp.microsoft.com.",
		"wsus.lab.":                      "lab.",
		"wsus.lab":                       "lab.",
		"lab.":                           ".",
		".":                              ".",
		"":                               ".",
		`a\.b.c.`:                        "c.",
	} {
		if got := ParentZone(in); got != want {
			t.Errorf("ParentZone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNegativeTTLSeconds(t *testing.T) {
	for _, tc := range []struct {
		in   profile.Duration
		want uint32
	}{{0, DefaultNegativeTTL}, {profile.Duration(30 * time.Second), 30}, {profile.Duration(90 * time.Minute), 5400}} {
		if got := (NegativeTTL{NegativeTTL: tc.in}).Seconds(); got != tc.want {
			t.Errorf("NegativeTTL{%s}.Seconds() = %d, want %d", tc.in, got, tc.want)
		}
	}
}

func TestSelectDNSHonoursQTypes(t *testing.T) {
	s := NewSet([]Spec{
		{Kind: "dns.nxdomain", Match: Match{Host: "*.update.microsoft.com"}, When: When{First: 2}, Fault: &NXDomain{DNSMatch: DNSMatch{QTypes: []string{"A"}}}},
		{Kind: "dns.servfail", Fault: &ServFail{}},
		{Kind: "tcp.reset", Fault: &TCPReset{}},
	}, 1, nil)
	aaaa := Target{Host: "fe2.update.microsoft.com", QType: "AAAA"}
	a := Target{Host: "FE2.update.microsoft.com", QType: "a"}
	if got := s.SelectDNS(aaaa); len(got) != 1 || got[0].Index != 1 {
		t.Fatalf("AAAA query selected %v, want only faults[1]", names(got))
	}
	if h := s.Rules()[0].Hits(); h.Matched != 0 {
		t.Errorf("an AAAA query counted on an A-only rule: %+v", h)
	}
	for n := range 3 {
		got := s.SelectDNS(a)
		wantNX := n < 2
		if gotNX := len(got) == 2 && got[0].Index == 0; gotNX != wantNX {
			t.Errorf("A query %d selected %v, want nxdomain %v", n+1, names(got), wantNX)
		}
	}
	if h := s.Rules()[0].Hits(); h != (Hits{Matched: 3, Fired: 2}) {
		t.Errorf("hits = %+v, want 3 matched, 2 fired", h)
	}
	if got := s.SelectDNS(Target{Host: "example.test", QType: "A"}); len(got) != 1 || got[0].Index != 1 {
		t.Errorf("other host selected %v, want only faults[1]", names(got))
	}
	var nilSet *Set
	if got := nilSet.SelectDNS(a); got != nil {
		t.Errorf("nil set selected %v", got)
	}
}

func names(rs []*Rule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Name())
	}
	return out
}

// TestFillReplyAsMiekg checks the reply start against miekg/dns's own
// SetReply and SetEdns0 (plus RA), packed byte for byte, also when the
// message reused is dirty from an earlier answer.
func TestFillReplyAsMiekg(t *testing.T) {
	var (
		reused dns.Msg
		opt    dns.OPT
	)
	for _, tc := range []struct {
		name string
		r    *dns.Msg
	}{
		{"plain", query("fe2.update.microsoft.com.", dns.TypeA, false)},
		{"edns", query("fe2.update.microsoft.com.", dns.TypeAAAA, true)},
		{"no rd, cd", func() *dns.Msg {
			m := query("x.test.", dns.TypeTXT, true)
			m.RecursionDesired, m.CheckingDisabled = false, true
			return m
		}()},
		{"notify opcode", func() *dns.Msg {
			m := query("x.test.", dns.TypeSOA, false)
			m.Opcode, m.CheckingDisabled = dns.OpcodeNotify, true
			return m
		}()},
		{"no question", &dns.Msg{MsgHdr: dns.MsgHdr{Id: 7, RecursionDesired: true}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := new(dns.Msg).SetReply(tc.r)
			want.RecursionAvailable = true
			if tc.r.IsEdns0() != nil {
				want.SetEdns0(1232, false)
			}
			wb, err := want.Pack()
			if err != nil {
				t.Fatal(err)
			}
			for _, got := range []*dns.Msg{DNSReply(tc.r), FillReply(&reused, tc.r, &opt)} {
				gb, err := got.Pack()
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(gb, wb) {
					t.Errorf("reply\n%v\nwant\n%v", got, want)
				}
			}
			// Dirty the reused message as an answer would.
			reused.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "z.", Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(192, 0, 2, 9)}}
			reused.Rcode, reused.Authoritative, reused.Truncated = dns.RcodeNameError, true, true
		})
	}
}
