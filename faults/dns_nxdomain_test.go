package faults

import (
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

func TestNXDomain(t *testing.T) {
	for _, tc := range []struct {
		name    string
		f       *NXDomain
		network string
		edns    bool
		ttl     uint32
	}{
		{"default ttl udp", &NXDomain{}, "udp", false, DefaultNegativeTTL},
		{"custom ttl tcp edns", &NXDomain{NegativeTTL: NegativeTTL{profile.Duration(45 * time.Second)}}, "tcp", true, 45},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := query("Fe3.Delivery.mp.microsoft.com.", dns.TypeA, tc.edns)
			rec, next := serve(t, tc.f, tc.network, r)
			m := rec.only(t)
			checkReply(t, r, m)
			if m.Rcode != dns.RcodeNameError || len(m.Answer) != 0 || next.called != 0 {
				t.Errorf("rcode %s, %d answers, next called %d; want NXDOMAIN, none, 0", dns.RcodeToString[m.Rcode], len(m.Answer), next.called)
			}
			checkNegativeSOA(t, m, "Delivery.mp.microsoft.com.", tc.ttl)
		})
	}
}
