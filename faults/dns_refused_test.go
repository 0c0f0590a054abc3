package faults

import (
	"testing"

	"github.com/miekg/dns"
)

func TestRefused(t *testing.T) {
	r := query("sls.update.microsoft.com.", dns.TypeAAAA, false)
	rec, next := serve(t, &Refused{}, "tcp", r)
	m := rec.only(t)
	checkReply(t, r, m)
	if m.Rcode != dns.RcodeRefused || len(m.Answer)+len(m.Ns) != 0 || next.called != 0 {
		t.Errorf("got %v, next called %d; want a bare REFUSED", m, next.called)
	}
}
