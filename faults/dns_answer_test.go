package faults

import (
	"net"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

func TestDNSAnswer(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       *DNSAnswer
		qtype   uint16
		want    string // the address answered; "" for NODATA
		wantTTL uint32
	}{
		{"v4 for A", &DNSAnswer{Address: "192.0.2.66"}, dns.TypeA, "192.0.2.66", 60},
		{"v4 for AAAA is NODATA", &DNSAnswer{Address: "192.0.2.66"}, dns.TypeAAAA, "", 60},
		{"v6 for AAAA", &DNSAnswer{Address: "2001:db8::66", TTL: profile.Duration(5 * time.Second)}, dns.TypeAAAA, "2001:db8::66", 5},
		{"v6 for A is NODATA", &DNSAnswer{Address: "2001:db8::66"}, dns.TypeA, "", 60},
		{"v4 for ANY", &DNSAnswer{Address: "192.0.2.66"}, dns.TypeANY, "192.0.2.66", 60},
		{"v4 for MX is NODATA", &DNSAnswer{Address: "192.0.2.66"}, dns.TypeMX, "", 60},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := query("FE2.update.microsoft.com.", tc.qtype, true)
			rec, next := serve(t, tc.f, "udp", r)
			m := rec.only(t)
			checkReply(t, r, m)
			if m.Rcode != dns.RcodeSuccess || next.called != 0 {
				t.Fatalf("rcode %s, next called %d; want NOERROR, 0", dns.RcodeToString[m.Rcode], next.called)
			}
			if tc.want == "" {
				if len(m.Answer) != 0 {
					t.Errorf("answer %v, want NODATA", m.Answer)
				}
				checkNegativeSOA(t, m, "update.microsoft.com.", tc.wantTTL)
				return
			}
			if len(m.Answer) != 1 {
				t.Fatalf("answer %v, want one record", m.Answer)
			}
			var got net.IP
			switch rr := m.Answer[0].(type) {
			case *dns.A:
				got = rr.A
			case *dns.AAAA:
				got = rr.AAAA
			}
			h := m.Answer[0].Header()
			if !got.Equal(net.ParseIP(tc.want)) || h.Name != r.Question[0].Name || h.Ttl != tc.wantTTL {
				t.Errorf("answer %v, want %s for %s with TTL %d", m.Answer[0], tc.want, r.Question[0].Name, tc.wantTTL)
			}
		})
	}
}
