package simulate

import (
	"os"
	"strconv"
	"testing"
	"time"

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

// TestDNSBenchServer serves DNS for scripts/bench-dns.sh and is skipped
// otherwise. WUFAULT_DNS_BENCH_READY names the file that receives the
// address once it serves; WUFAULT_DNS_BENCH_SECONDS bounds how long it
// serves (default 120, at most 900). The lab zone answers as with the
// embedded emulator on 127.0.0.1, and one dns.nxdomain rule covers
// nx.update.microsoft.com, as in the script's dnsmasq configuration.
func TestDNSBenchServer(t *testing.T) {
	ready := os.Getenv("WUFAULT_DNS_BENCH_READY")
	if ready == "" {
		t.Skip("set WUFAULT_DNS_BENCH_READY to serve DNS for scripts/bench-dns.sh")
	}
	seconds := 120
	if v := os.Getenv("WUFAULT_DNS_BENCH_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 || n > 900 {
			t.Fatalf("WUFAULT_DNS_BENCH_SECONDS=%q: want 1..900", v)
		}
		seconds = n
	}
	w, addr := dnsWorld(t, Options{Logger: discardLogger()}, "127.0.0.1:8530", nil)
	w.Activate("bench", 1, []faults.Spec{
		{Kind: "dns.nxdomain", Match: faults.Match{Host: "nx.update.microsoft.com"}, Fault: &faults.NXDomain{}},
	})
	if err := os.WriteFile(ready, []byte(addr+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("serving DNS on %s for %ds", addr, seconds)
	time.Sleep(time.Duration(seconds) * time.Second)
}
