package faults

import (
	"testing"

	"github.com/miekg/dns"
)

func TestDNSTruncate(t *testing.T) {
	r := query("fe2.update.microsoft.com.", dns.TypeA, true)
	rec, next := serve(t, &DNSTruncate{}, "udp", r)
	m := rec.only(t)
	checkReply(t, r, m)
	if !m.Truncated || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || next.called != 0 {
		t.Errorf("udp: got %v, next called %d; want TC, NOERROR, no records", m, next.called)
	}

	rec, next = serve(t, &DNSTruncate{}, "tcp", r)
	m = rec.only(t)
	if m.Truncated || len(m.Answer) != 1 || next.called != 1 {
		t.Errorf("tcp: got %v, next called %d; want the query passed on and answered", m, next.called)
	}
}
