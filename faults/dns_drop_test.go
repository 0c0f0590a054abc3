package faults

import (
	"testing"

	"github.com/miekg/dns"
)

func TestDNSDrop(t *testing.T) {
	for _, network := range []string{"udp", "tcp"} {
		rec, next := serve(t, &DNSDrop{}, network, query("fe2.update.microsoft.com.", dns.TypeA, true))
		if len(rec.msgs) != 0 || next.called != 0 {
			t.Errorf("%s: wrote %d messages, next called %d; want nothing at all", network, len(rec.msgs), next.called)
		}
	}
}
