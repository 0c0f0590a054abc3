package faults

import (
	"testing"

	"github.com/miekg/dns"
)

func TestServFail(t *testing.T) {
	r := query("sls.update.microsoft.com.", dns.TypeA, true)
	rec, next := serve(t, &ServFail{}, "udp", r)
	m := rec.only(t)
	checkReply(t, r, m)
	if m.Rcode != dns.RcodeServerFailure || len(m.Answer)+len(m.Ns) != 0 || next.called != 0 {
		t.Errorf("got %v, next called %d; want a bare SERVFAIL", m, next.called)
	}
}
