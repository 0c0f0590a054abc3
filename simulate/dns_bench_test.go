package simulate

import (
	"testing"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/faults"
)

// BenchmarkDNSHandler measures the handler alone (no sockets): parsing is
// the library's, packing the answer is included, and so are the journal
// entries every query writes.
func BenchmarkDNSHandler(b *testing.B) {
	w, _ := dnsWorld(b, Options{Logger: discardLogger()}, "127.0.0.1:8530", nil)
	w.Activate("bench", 1, []faults.Spec{
		{Kind: "dns.nxdomain", Match: faults.Match{Host: "nx.update.microsoft.com"}, Fault: &faults.NXDomain{}},
	})
	s := w.services["dns"].(*dnsService)
	for _, bc := range []struct{ name, qname string }{
		{"lab A", "fe2.update.microsoft.com."},
		{"nxdomain fault", "nx.update.microsoft.com."},
		{"refused outside the zone", "example.test."},
	} {
		b.Run(bc.name, func(b *testing.B) {
			r := new(dns.Msg)
			r.SetQuestion(bc.qname, dns.TypeA)
			r.SetEdns0(1232, false)
			rec := &dnsRecorder{}
			b.ReportAllocs()
			for b.Loop() {
				s.ServeDNS(rec, r)
			}
		})
	}
}
