package faults

import (
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

func TestNoData(t *testing.T) {
	for _, qtype := range []uint16{dns.TypeA, dns.TypeAAAA} {
		t.Run(dns.TypeToString[qtype], func(t *testing.T) {
			r := query("wsus.lab.", qtype, true)
			rec, next := serve(t, &NoData{NegativeTTL: NegativeTTL{profile.Duration(10 * time.Second)}}, "udp", r)
			m := rec.only(t)
			checkReply(t, r, m)
			if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || next.called != 0 {
				t.Errorf("rcode %s, %d answers, next called %d; want NOERROR, none, 0", dns.RcodeToString[m.Rcode], len(m.Answer), next.called)
			}
			checkNegativeSOA(t, m, "lab.", 10)
		})
	}
}
