package faults

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

func TestDNSDelay(t *testing.T) {
	r := query("fe2.update.microsoft.com.", dns.TypeA, false)

	t.Run("duration then next", func(t *testing.T) {
		start := time.Now()
		rec, next := serve(t, &DNSDelay{Duration: profile.Duration(50 * time.Millisecond)}, "udp", r)
		if el := time.Since(start); el < 50*time.Millisecond {
			t.Errorf("answered after %s, want at least 50ms", el)
		}
		if m := rec.only(t); len(m.Answer) != 1 || next.called != 1 {
			t.Errorf("got %v, next called %d; want the late answer of next", m, next.called)
		}
	})

	t.Run("open-ended until the bound, then next", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
		defer cancel()
		rec, next := &dnsRecorder{network: "udp"}, &nextHandler{}
		(&DNSDelay{}).ServeDNS(ctx, rec, r, next)
		if len(rec.msgs) != 1 || next.called != 1 {
			t.Errorf("wrote %d, next called %d; want the late answer once the bound passed", len(rec.msgs), next.called)
		}
	})

	t.Run("shutdown drops", func(t *testing.T) {
		for _, f := range []*DNSDelay{{}, {Duration: profile.Duration(time.Hour)}} {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(10*time.Millisecond, cancel)
			rec, next := &dnsRecorder{network: "tcp"}, &nextHandler{}
			f.ServeDNS(ctx, rec, r, next)
			if len(rec.msgs) != 0 || next.called != 0 {
				t.Errorf("duration %s: wrote %d, next called %d after shutdown; want nothing", f.Duration, len(rec.msgs), next.called)
			}
		}
	})
}
