package simulate

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"go.uber.org/goleak"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

func TestDNSLabZone(t *testing.T) {
	t.Parallel()
	_, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	for _, network := range []string{"udp", "tcp"} {
		t.Run(network, func(t *testing.T) {
			// Mixed case, as resolvers using 0x20 randomisation send it.
			m := mustAsk(t, network, addr, "Fe2.UPDATE.microsoft.com.", dns.TypeA)
			if m.Rcode != dns.RcodeSuccess || !m.Authoritative || len(m.Answer) != 1 {
				t.Fatalf("A: %v, want one authoritative answer", m)
			}
			a, ok := m.Answer[0].(*dns.A)
			if !ok || !a.A.Equal(net.IPv4(127, 0, 0, 1)) || a.Hdr.Ttl != LabTTL || a.Hdr.Name != "Fe2.UPDATE.microsoft.com." {
				t.Errorf("A answer %v, want Fe2.UPDATE.microsoft.com. %d A 127.0.0.1", m.Answer[0], LabTTL)
			}
			if m.IsEdns0() == nil {
				t.Error("no OPT in the answer to a query with EDNS0")
			}

			for _, qtype := range []uint16{dns.TypeAAAA, dns.TypeMX, dns.TypeHTTPS} {
				m = mustAsk(t, network, addr, "fe2.update.microsoft.com.", qtype)
				soa := soaOf(m)
				if m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || !m.Authoritative || soa == nil || soa.Hdr.Name != "update.microsoft.com." || soa.Minttl != LabTTL {
					t.Errorf("%s: %v, want NODATA with the SOA of update.microsoft.com. (minimum %d)", dns.TypeToString[qtype], m, LabTTL)
				}
			}

			for _, name := range []string{"wsus.lab.", "download.windowsupdate.com.", "fe3.delivery.mp.microsoft.com.", "slscr.update.microsoft.com."} {
				if m := mustAsk(t, network, addr, name, dns.TypeA); !slices.Equal(answerIPs(m), []string{"127.0.0.1"}) {
					t.Errorf("%s: %v, want 127.0.0.1", name, m)
				}
			}

			// Outside the zone with no resolvers configured: REFUSED.
			if m := mustAsk(t, network, addr, "example.test.", dns.TypeA); m.Rcode != dns.RcodeRefused {
				t.Errorf("example.test: %s, want REFUSED", dns.RcodeToString[m.Rcode])
			}
		})
	}
}

// TestDNSLabZoneWithEmulator runs the real emulator: lab names resolve
// to the address it listens on.
func TestDNSLabZoneWithEmulator(t *testing.T) {
	t.Parallel()
	w := testWorld(t, Options{DNS: "127.0.0.1:0", UpstreamHTTP: "127.0.0.1:0", Logger: testLogger(t)})
	host, _, _ := net.SplitHostPort(w.Addrs().UpstreamHTTP)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := goResolver(w.Addrs().DNS).LookupHost(ctx, "wsus.lab.")
	if err != nil || !slices.Equal(got, []string{host}) {
		t.Errorf("wsus.lab = %v, %v; want the emulator's %s", got, err, host)
	}
}

func TestDNSLabZoneEmulatorAddress(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, emulator string
		a, aaaa        []string // nil: NODATA
	}{
		{"ipv6 emulator answers AAAA", "[::1]:8530", nil, []string{"::1"}},
		{"emulator on every address answers our own address", "0.0.0.0:8530", []string{"127.0.0.1"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, addr := dnsWorld(t, Options{}, tc.emulator, nil)
			for qtype, want := range map[uint16][]string{dns.TypeA: tc.a, dns.TypeAAAA: tc.aaaa} {
				m := mustAsk(t, "udp", addr, "fe2.update.microsoft.com.", qtype)
				if got := answerIPs(m); !slices.Equal(got, want) || (want == nil && soaOf(m) == nil) {
					t.Errorf("%s: %v, want %v (nil: NODATA with SOA)", dns.TypeToString[qtype], m, want)
				}
			}
		})
	}
	t.Run("no emulator: lab names are forwarded", func(t *testing.T) {
		t.Parallel()
		_, addr := dnsWorld(t, Options{}, "", nil)
		if m := mustAsk(t, "udp", addr, "fe2.update.microsoft.com.", dns.TypeA); m.Rcode != dns.RcodeRefused {
			t.Errorf("%s, want REFUSED (no emulator, no resolvers)", dns.RcodeToString[m.Rcode])
		}
	})
}

func TestAddrString(t *testing.T) {
	for _, tc := range []struct {
		a    net.Addr
		want string
	}{
		{&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}, "127.0.0.1:53"},
		{&net.TCPAddr{IP: net.ParseIP("::ffff:192.0.2.1"), Port: 1}, "192.0.2.1:1"},
		{&net.UDPAddr{IP: net.ParseIP("2001:db8::1"), Port: 5353}, "[2001:db8::1]:5353"},
		{&net.UDPAddr{IP: net.ParseIP("fe80::1"), Port: 53, Zone: "eth0"}, "[fe80::1%eth0]:53"},
		{&net.UnixAddr{Name: "/x", Net: "unix"}, "/x"},
	} {
		if got := addrString(tc.a); got != tc.want || (tc.a.Network() != "unix" && got != tc.a.String()) {
			t.Errorf("addrString(%v) = %q, want %q (and net's own String)", tc.a, got, tc.want)
		}
	}
}

func TestRouteSource(t *testing.T) {
	if got := routeSource(netip.MustParseAddr("127.0.0.1")); got != netip.MustParseAddr("127.0.0.1") {
		t.Errorf("routeSource(127.0.0.1) = %v, want 127.0.0.1", got)
	}
}

func TestDNSForward(t *testing.T) {
	t.Parallel()
	up := startFakeResolver(t)
	w, addr := dnsWorld(t, Options{Resolvers: []string{deadUDPAddr(t), up.addr}}, "127.0.0.1:8530", nil)

	for _, network := range []string{"udp", "tcp"} {
		m := mustAsk(t, network, addr, "Example.test.", dns.TypeA)
		if !slices.Equal(answerIPs(m), []string{"192.0.2.10"}) || m.Authoritative {
			t.Errorf("%s forwarded A: %v, want 192.0.2.10, not authoritative", network, m)
		}
		if m := mustAsk(t, network, addr, "nowhere.test.", dns.TypeA); m.Rcode != dns.RcodeNameError {
			t.Errorf("%s forwarded NXDOMAIN: %s", network, dns.RcodeToString[m.Rcode])
		}
	}
	// The lab zone never reaches the resolvers.
	mustAsk(t, "udp", addr, "fe2.update.microsoft.com.", dns.TypeA)
	for _, q := range up.seen() {
		if strings.Contains(q, "microsoft") {
			t.Errorf("resolver saw the lab query %q", q)
		}
	}

	// An answer too big for the client's UDP size comes back truncated;
	// over TCP it comes whole. Upstream, the world retried over TCP.
	r, err := ask("udp", addr, "big.example.test.", dns.TypeTXT, false, 2*time.Second)
	if err != nil || !r.Truncated {
		t.Errorf("big over udp: %v, %v; want TC", r, err)
	}
	if !slices.Contains(up.seen(), "tcp TXT big.example.test.") {
		t.Errorf("resolver saw %v, want a TCP retry for big.example.test.", up.seen())
	}
	if m := mustAsk(t, "tcp", addr, "big.example.test.", dns.TypeTXT); m.Truncated || len(m.Answer) != 20 {
		t.Errorf("big over tcp: TC %v, %d records; want all 20", m.Truncated, len(m.Answer))
	}

	// No resolver answering: SERVFAIL, and the world's failure is journaled.
	_, addr2 := dnsWorld(t, Options{Resolvers: []string{deadUDPAddr(t)}}, "", nil)
	if m := mustAsk(t, "udp", addr2, "example.test.", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("dead resolver: %s, want SERVFAIL", dns.RcodeToString[m.Rcode])
	}
	if evs := dnsEvents(w, EventError, ""); len(evs) != 0 {
		t.Errorf("errors journaled while a resolver answered: %+v", evs)
	}
}

// faultRow is one dns.* kind with what a client sees over each transport.
type faultRow struct {
	kind  string
	fault faults.Fault
	check func(t *testing.T, network string, m *dns.Msg, err error, took time.Duration)
}

func faultRows() []faultRow {
	rcode := func(want int) func(*testing.T, string, *dns.Msg, error, time.Duration) {
		return func(t *testing.T, network string, m *dns.Msg, err error, _ time.Duration) {
			if err != nil || m.Rcode != want || len(m.Answer) != 0 {
				t.Errorf("%s: %v, %v; want a bare %s", network, m, err, dns.RcodeToString[want])
			}
		}
	}
	return []faultRow{
		{"dns.nxdomain", &faults.NXDomain{NegativeTTL: faults.NegativeTTL{NegativeTTL: profile.Duration(42 * time.Second)}},
			func(t *testing.T, network string, m *dns.Msg, err error, _ time.Duration) {
				if err != nil || m.Rcode != dns.RcodeNameError {
					t.Fatalf("%s: %v, %v; want NXDOMAIN", network, m, err)
				}
				if soa := soaOf(m); soa == nil || soa.Minttl != 42 || soa.Hdr.Ttl != 42 || soa.Hdr.Name != "update.microsoft.com." {
					t.Errorf("%s: authority %v, want the SOA of update.microsoft.com. with minimum 42", network, m.Ns)
				}
			}},
		{"dns.servfail", &faults.ServFail{}, rcode(dns.RcodeServerFailure)},
		{"dns.refused", &faults.Refused{}, rcode(dns.RcodeRefused)},
		{"dns.drop", &faults.DNSDrop{}, func(t *testing.T, network string, m *dns.Msg, err error, _ time.Duration) {
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("%s: %v, %v; want a timeout", network, m, err)
			}
		}},
		{"dns.delay", &faults.DNSDelay{Duration: profile.Duration(150 * time.Millisecond)},
			func(t *testing.T, network string, m *dns.Msg, err error, took time.Duration) {
				if err != nil || !slices.Equal(answerIPs(m), []string{"127.0.0.1"}) || took < 150*time.Millisecond {
					t.Errorf("%s: %v, %v after %s; want the lab answer after at least 150ms", network, m, err, took)
				}
			}},
		{"dns.answer", &faults.DNSAnswer{Address: "192.0.2.66"},
			func(t *testing.T, network string, m *dns.Msg, err error, _ time.Duration) {
				if err != nil || !slices.Equal(answerIPs(m), []string{"192.0.2.66"}) || m.Authoritative {
					t.Errorf("%s: %v, %v; want 192.0.2.66 (not authoritative)", network, m, err)
				}
			}},
		{"dns.nodata", &faults.NoData{}, func(t *testing.T, network string, m *dns.Msg, err error, _ time.Duration) {
			if soa := soaOf(m); err != nil || m.Rcode != dns.RcodeSuccess || len(m.Answer) != 0 || soa == nil || soa.Minttl != faults.DefaultNegativeTTL {
				t.Errorf("%s: %v, %v; want NODATA with an SOA minimum of %d", network, m, err, faults.DefaultNegativeTTL)
			}
		}},
		{"dns.truncate", &faults.DNSTruncate{}, func(t *testing.T, network string, m *dns.Msg, err error, _ time.Duration) {
			switch {
			case err != nil:
				t.Errorf("%s: %v", network, err)
			case network == "udp" && (!m.Truncated || len(m.Answer) != 0):
				t.Errorf("udp: %v, want TC and no records", m)
			case network == "tcp" && (m.Truncated || !slices.Equal(answerIPs(m), []string{"127.0.0.1"})):
				t.Errorf("tcp: %v, want the lab answer", m)
			}
		}},
	}
}

func TestDNSFaultsOnTheWire(t *testing.T) {
	t.Parallel()
	for _, row := range faultRows() {
		t.Run(row.kind, func(t *testing.T) {
			t.Parallel()
			w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
			activate(t, w, faults.Spec{Kind: row.kind, Match: faults.Match{Host: "*.Update.Microsoft.com"}, Fault: row.fault})
			for _, network := range []string{"udp", "tcp"} {
				start := time.Now()
				timeout := 3 * time.Second // generous: the machine may be busy
				if row.kind == "dns.drop" {
					timeout = 300 * time.Millisecond
				}
				m, err := ask(network, addr, "FE2.update.microsoft.com.", dns.TypeA, true, timeout)
				row.check(t, network, m, err, time.Since(start))
				// Another lab name is untouched.
				if m := mustAsk(t, network, addr, "wsus.lab.", dns.TypeA); !slices.Equal(answerIPs(m), []string{"127.0.0.1"}) {
					t.Errorf("%s wsus.lab: %v, want the lab answer", network, m)
				}
			}
			evs := dnsEvents(w, EventFault, "fe2.update.microsoft.com")
			if len(evs) != 2 {
				t.Fatalf("journal has %d firings, want 2: %+v", len(evs), evs)
			}
			for _, e := range evs {
				if e.Fault != row.kind || e.Rule != 1 || e.Phase != profile.PhaseResolve || e.Service != "dns" || e.Detail != "A" || e.Client == "" {
					t.Errorf("firing %+v, want %s, rule 1, phase resolve, detail A, a client", e, row.kind)
				}
			}
		})
	}
}

func TestDNSGoResolver(t *testing.T) {
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	activate(t, w,
		faults.Spec{Kind: "dns.nxdomain", Match: faults.Match{Host: "nx.update.microsoft.com"}, Fault: &faults.NXDomain{}},
		faults.Spec{Kind: "dns.servfail", Match: faults.Match{Host: "fail.update.microsoft.com"}, Fault: &faults.ServFail{}},
		faults.Spec{Kind: "dns.drop", Match: faults.Match{Host: "drop.update.microsoft.com"}, Fault: &faults.DNSDrop{}},
		faults.Spec{Kind: "dns.answer", Match: faults.Match{Host: "wrong.update.microsoft.com"}, Fault: &faults.DNSAnswer{Address: "192.0.2.66"}},
		faults.Spec{Kind: "dns.nodata", Match: faults.Match{Host: "empty.update.microsoft.com"}, Fault: &faults.NoData{}},
		faults.Spec{Kind: "dns.truncate", Match: faults.Match{Host: "tc.update.microsoft.com"}, Fault: &faults.DNSTruncate{}},
	)
	res := goResolver(addr)
	lookup := func(name string, timeout time.Duration) ([]string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		return res.LookupHost(ctx, name)
	}
	dnsErr := func(t *testing.T, err error) *net.DNSError {
		t.Helper()
		var de *net.DNSError
		if !errors.As(err, &de) {
			t.Fatalf("err = %v (%T), want a *net.DNSError", err, err)
		}
		return de
	}

	t.Run("lab", func(t *testing.T) {
		t.Parallel()
		if got, err := lookup("fe2.update.microsoft.com.", 2*time.Second); err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
			t.Errorf("got %v, %v; want [127.0.0.1]", got, err)
		}
	})
	t.Run("nxdomain", func(t *testing.T) {
		t.Parallel()
		_, err := lookup("nx.update.microsoft.com.", 5*time.Second)
		if de := dnsErr(t, err); !de.IsNotFound || de.IsTimeout {
			t.Errorf("err = %v (%+v), want IsNotFound", err, de)
		}
	})
	t.Run("servfail", func(t *testing.T) {
		t.Parallel()
		_, err := lookup("fail.update.microsoft.com.", 5*time.Second)
		if de := dnsErr(t, err); de.IsNotFound || !strings.Contains(de.Err, "server misbehaving") {
			t.Errorf("err = %v, want server misbehaving", err)
		}
	})
	t.Run("drop", func(t *testing.T) {
		t.Parallel()
		_, err := lookup("drop.update.microsoft.com.", 300*time.Millisecond)
		if de := dnsErr(t, err); !de.IsTimeout || de.IsNotFound {
			t.Errorf("err = %v (%+v), want a timeout", err, de)
		}
	})
	t.Run("wrong address", func(t *testing.T) {
		t.Parallel()
		if got, err := lookup("wrong.update.microsoft.com.", 5*time.Second); err != nil || !slices.Equal(got, []string{"192.0.2.66"}) {
			t.Errorf("got %v, %v; want [192.0.2.66]", got, err)
		}
	})
	t.Run("nodata", func(t *testing.T) {
		t.Parallel()
		got, err := lookup("empty.update.microsoft.com.", 5*time.Second)
		if de := dnsErr(t, err); !de.IsNotFound || len(got) != 0 {
			t.Errorf("got %v, %v; want no such host", got, err)
		}
	})
	t.Run("truncate retries over tcp", func(t *testing.T) {
		t.Parallel()
		if got, err := lookup("tc.update.microsoft.com.", 5*time.Second); err != nil || !slices.Equal(got, []string{"127.0.0.1"}) {
			t.Errorf("got %v, %v; want [127.0.0.1] after the TCP retry", got, err)
		}
		// Queries are journaled once answered: wait for the last one.
		seen := func() (udpTC, tcpOK bool) {
			for _, e := range dnsEvents(w, EventDNSQuery, "tc.update.microsoft.com") {
				udpTC = udpTC || e.Detail == "A udp TC"
				tcpOK = tcpOK || (e.Detail == "A tcp" && e.Rcode == "NOERROR")
			}
			return udpTC, tcpOK
		}
		waitFor(t, func() bool { u, c := seen(); return u && c })
	})
}

func TestDNSWhenFirst(t *testing.T) {
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	activate(t, w, faults.Spec{
		Kind: "dns.nxdomain", Match: faults.Match{Host: "fe2.update.microsoft.com"}, When: faults.When{First: 2},
		Fault: &faults.NXDomain{DNSMatch: faults.DNSMatch{QTypes: []string{"A"}}},
	})
	var got []string
	for range 3 {
		m := mustAsk(t, "udp", addr, "fe2.update.microsoft.com.", dns.TypeA)
		got = append(got, dns.RcodeToString[m.Rcode])
		// AAAA queries are not covered by the rule: they neither count
		// nor fire.
		if m := mustAsk(t, "udp", addr, "fe2.update.microsoft.com.", dns.TypeAAAA); m.Rcode != dns.RcodeSuccess {
			t.Errorf("AAAA: %s, want NOERROR (NODATA)", dns.RcodeToString[m.Rcode])
		}
	}
	if want := []string{"NXDOMAIN", "NXDOMAIN", "NOERROR"}; !slices.Equal(got, want) {
		t.Errorf("A answers %v, want %v", got, want)
	}
	if h := w.Active().Set.Rules()[0].Hits(); h != (faults.Hits{Matched: 3, Fired: 2}) {
		t.Errorf("hits %+v, want 3 matched, 2 fired", h)
	}
	if evs := dnsEvents(w, EventFault, ""); len(evs) != 2 {
		t.Errorf("journal has %d firings, want 2", len(evs))
	}
}

func TestDNSFaultChain(t *testing.T) {
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	// A delay passes on to the next rule, which answers: both fire, in
	// scenario order.
	activate(t, w,
		faults.Spec{Kind: "dns.delay", Fault: &faults.DNSDelay{Duration: profile.Duration(20 * time.Millisecond)}},
		faults.Spec{Kind: "dns.servfail", Match: faults.Match{Host: "*.lab"}, Fault: &faults.ServFail{}},
	)
	if m := mustAsk(t, "udp", addr, "wsus.lab.", dns.TypeA); m.Rcode != dns.RcodeServerFailure {
		t.Errorf("wsus.lab: %s, want SERVFAIL after the delay", dns.RcodeToString[m.Rcode])
	}
	var rules []int
	for _, e := range dnsEvents(w, EventFault, "wsus.lab") {
		rules = append(rules, e.Rule)
	}
	if !slices.Equal(rules, []int{1, 2}) {
		t.Errorf("firings of rules %v, want [1 2]", rules)
	}
}

func TestDNSJournal(t *testing.T) {
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	activate(t, w, faults.Spec{Kind: "dns.drop", Match: faults.Match{Host: "drop.lab"}, Fault: &faults.DNSDrop{}})
	mustAsk(t, "udp", addr, "WSUS.lab.", dns.TypeAAAA)
	mustAsk(t, "tcp", addr, "wsus.lab.", dns.TypeA)
	_, _ = ask("udp", addr, "drop.lab.", dns.TypeA, false, 100*time.Millisecond)
	want := []struct{ host, detail, rcode string }{
		{"wsus.lab", "AAAA udp", "NOERROR"},
		{"wsus.lab", "A tcp", "NOERROR"},
		{"drop.lab", "A udp no answer", ""},
	}
	// A query is journaled once answered, so the client may see the answer
	// (and send its next query) first: match events regardless of order.
	waitFor(t, func() bool { return len(dnsEvents(w, EventDNSQuery, "")) == len(want) })
	evs := dnsEvents(w, EventDNSQuery, "")
	for _, wq := range want {
		i := slices.IndexFunc(evs, func(e Event) bool { return e.Host == wq.host && e.Detail == wq.detail })
		if i < 0 {
			t.Errorf("no query event for %s %q in %+v", wq.host, wq.detail, evs)
			continue
		}
		if e := evs[i]; e.Rcode != wq.rcode || e.Service != "dns" || e.Duration <= 0 || !strings.HasPrefix(e.Client, "127.0.0.1:") {
			t.Errorf("query %+v, want rcode %q, a duration and a loopback client", e, wq.rcode)
		}
	}
}

func TestDNSDelayBounds(t *testing.T) {
	t.Parallel()
	t.Run("open-ended delay ends at MaxStall with a late answer", func(t *testing.T) {
		t.Parallel()
		w, addr := dnsWorld(t, Options{MaxStall: 200 * time.Millisecond}, "127.0.0.1:8530", nil)
		activate(t, w, faults.Spec{Kind: "dns.delay", Fault: &faults.DNSDelay{}})
		start := time.Now()
		m, err := ask("udp", addr, "wsus.lab.", dns.TypeA, false, 3*time.Second)
		if took := time.Since(start); err != nil || !slices.Equal(answerIPs(m), []string{"127.0.0.1"}) || took < 200*time.Millisecond {
			t.Errorf("%v, %v after %s; want the lab answer after MaxStall (200ms)", m, err, took)
		}
	})
	t.Run("world shutdown ends a delay unanswered", func(t *testing.T) {
		t.Parallel()
		w, addr := dnsWorld(t, Options{MaxStall: time.Minute}, "127.0.0.1:8530", nil)
		activate(t, w, faults.Spec{Kind: "dns.delay", Fault: &faults.DNSDelay{}})
		got := make(chan error, 1)
		go func() {
			_, err := ask("tcp", addr, "wsus.lab.", dns.TypeA, false, 5*time.Second)
			got <- err
		}()
		waitFor(t, func() bool { return len(dnsEvents(w, EventFault, "wsus.lab")) == 1 })
		start := time.Now()
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("Close took %s with a delay in flight", took)
		}
		if err := <-got; err == nil {
			t.Error("the delayed query was answered after shutdown")
		}
	})
}

func TestDNSBadInput(t *testing.T) {
	t.Parallel()
	_, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	pack := func(m *dns.Msg) []byte {
		b, err := m.Pack()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	q := func(name string, qtype, qclass uint16) *dns.Msg {
		m := new(dns.Msg)
		m.Id = dns.Id()
		m.Question = []dns.Question{{Name: name, Qtype: qtype, Qclass: qclass}}
		return m
	}
	noQuestion := q("wsus.lab.", dns.TypeA, dns.ClassINET)
	noQuestion.Question = nil
	twoQuestions := q("wsus.lab.", dns.TypeA, dns.ClassINET)
	twoQuestions.Question = append(twoQuestions.Question, dns.Question{Name: "fe2.update.microsoft.com.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
	update := q("lab.", dns.TypeSOA, dns.ClassINET)
	update.Opcode = dns.OpcodeUpdate
	notify := q("lab.", dns.TypeSOA, dns.ClassINET)
	notify.Opcode = dns.OpcodeNotify
	badVers := q("wsus.lab.", dns.TypeA, dns.ClassINET)
	badVers.SetEdns0(1232, false)
	badVers.IsEdns0().SetVersion(1)
	response := q("wsus.lab.", dns.TypeA, dns.ClassINET)
	response.Response = true
	truncatedQuestion := pack(q("wsus.lab.", dns.TypeA, dns.ClassINET))
	truncatedQuestion = truncatedQuestion[:len(truncatedQuestion)-3]

	for _, tc := range []struct {
		name string
		pkt  []byte
		want []int // acceptable rcodes; nil: no answer expected
	}{
		{"garbage", []byte("\x00\x01garbage!"), []int{dns.RcodeFormatError, -1}},
		{"short", []byte{1, 2, 3}, nil},
		{"zero questions", pack(noQuestion), []int{dns.RcodeFormatError}},
		{"two questions", pack(twoQuestions), []int{dns.RcodeFormatError}},
		{"truncated question", truncatedQuestion, []int{dns.RcodeFormatError}},
		{"chaos class", pack(q("version.bind.", dns.TypeTXT, dns.ClassCHAOS)), []int{dns.RcodeRefused}},
		{"any class", pack(q("wsus.lab.", dns.TypeA, dns.ClassANY)), []int{dns.RcodeRefused}},
		{"zone transfer", pack(q("lab.", dns.TypeAXFR, dns.ClassINET)), []int{dns.RcodeRefused}},
		{"opt as question", pack(q("wsus.lab.", dns.TypeOPT, dns.ClassINET)), []int{dns.RcodeFormatError}},
		{"update", pack(update), []int{dns.RcodeNotImplemented}},
		{"notify", pack(notify), []int{dns.RcodeNotImplemented}},
		{"edns version 1", pack(badVers), []int{dns.RcodeBadVers}},
		{"a response", pack(response), nil},
		{"oversized", append(pack(q("wsus.lab.", dns.TypeA, dns.ClassINET)), make([]byte, 9000)...), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := rawUDP(t, addr, tc.pkt)
			if ok := slices.Contains(tc.want, got) || (tc.want == nil && got == -1); !ok {
				t.Errorf("rcode %d (%s), want one of %v (nil or -1: no answer)", got, dns.RcodeToString[got], tc.want)
			}
			// The server keeps answering everyone else.
			if m := mustAsk(t, "udp", addr, "wsus.lab.", dns.TypeA); len(m.Answer) != 1 {
				t.Errorf("after %s: %v", tc.name, m)
			}
		})
	}

	t.Run("tcp", func(t *testing.T) {
		for _, pkt := range [][]byte{
			{0xff, 0xff, 1, 2, 3}, // announces 64 KiB, sends 3 bytes, closes
			{0, 3, 1, 2, 3},       // a 3-byte message
			append([]byte{0, 12}, pack(noQuestion)...),
		} {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			_, _ = c.Write(pkt)
			_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			_, _ = c.Read(make([]byte, 512))
			c.Close()
		}
		if m := mustAsk(t, "tcp", addr, "wsus.lab.", dns.TypeA); len(m.Answer) != 1 {
			t.Errorf("after bad tcp input: %v", m)
		}
	})
}

// rawUDP sends pkt and returns the rcode of the answer, or -1 if none
// arrives within 200ms.
func rawUDP(t *testing.T, addr string, pkt []byte) int {
	t.Helper()
	c, err := net.Dial("udp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write(pkt); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		return -1
	}
	m := new(dns.Msg)
	if err := m.Unpack(buf[:n]); err != nil {
		if n >= 4 {
			return int(buf[3] & 0xf)
		}
		t.Fatalf("unparsable answer %x: %v", buf[:n], err)
	}
	return m.Rcode
}

func TestDNSClientNotAllowed(t *testing.T) {
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", func(s *dnsService) {
		s.allow = func(netip.Addr) bool { return false }
	})
	var ne net.Error
	if m, err := ask("udp", addr, "wsus.lab.", dns.TypeA, false, 200*time.Millisecond); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("udp: answered %v, %v; want nothing until the client's timeout", m, err)
	}
	if m, err := ask("tcp", addr, "wsus.lab.", dns.TypeA, false, 2*time.Second); err == nil {
		t.Errorf("tcp: answered %v, want nothing", m)
	}
	evs := dnsEvents(w, EventDNSQuery, "")
	if len(evs) != 2 {
		t.Fatalf("journal: %+v, want two refusals", evs)
	}
	for _, e := range evs {
		if !strings.Contains(e.Detail, "not allowed") || e.Rcode != "" || e.Client == "" {
			t.Errorf("event %+v, want a refusal naming the client", e)
		}
	}

	// The allow-list itself: loopback always, others as clientAllowed says.
	s := newDNSService(&World{opts: Options{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}, log: testLogger(t), ctx: context.Background()})
	s.self = netip.MustParseAddr("203.0.113.53") // bound there: this host's own queries come from it
	for a, want := range map[net.Addr]bool{
		&net.UDPAddr{IP: net.IPv4(203, 0, 113, 53), Port: 1}:       true,
		&net.UDPAddr{IP: net.IPv4(203, 0, 113, 54), Port: 1}:       false,
		&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}:          true,
		&net.TCPAddr{IP: net.IPv6loopback, Port: 1}:                true,
		&net.UDPAddr{IP: net.IPv4(192, 0, 2, 9), Port: 1}:          true,
		&net.UDPAddr{IP: net.IPv4(198, 51, 100, 1), Port: 1}:       false,
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 1}:      false,
		&net.UDPAddr{IP: net.ParseIP("::ffff:127.0.0.1"), Port: 1}: true,
	} {
		if got := s.allowed(addrIP(a)); got != want {
			t.Errorf("allowed(%v) = %v, want %v", a, got, want)
		}
	}
}

func TestDNSConcurrentSwaps(t *testing.T) {
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	scenarios := [][]faults.Spec{
		nil,
		{{Kind: "dns.nxdomain", Match: faults.Match{Host: "*.lab"}, Fault: &faults.NXDomain{}}},
		{{Kind: "dns.servfail", When: faults.When{Every: 2}, Fault: &faults.ServFail{}}},
		{{Kind: "dns.answer", Fault: &faults.DNSAnswer{Address: "192.0.2.66"}}, {Kind: "dns.truncate", Fault: &faults.DNSTruncate{}}},
	}
	stop := make(chan struct{})
	var swaps sync.WaitGroup
	swaps.Add(1)
	go func() {
		defer swaps.Done()
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			w.Activate("swap", int64(n), scenarios[n%len(scenarios)])
			time.Sleep(time.Millisecond)
		}
	}()
	var clients sync.WaitGroup
	errs := make(chan error, 100)
	for c := range 4 {
		clients.Add(1)
		go func() {
			defer clients.Done()
			network := []string{"udp", "tcp"}[c%2]
			for range 50 {
				m, err := ask(network, addr, "wsus.lab.", dns.TypeA, true, 2*time.Second)
				if err != nil {
					errs <- err
					return
				}
				ok := m.Rcode == dns.RcodeNameError || m.Rcode == dns.RcodeServerFailure || (m.Rcode == dns.RcodeSuccess && (m.Truncated || len(m.Answer) == 1))
				if !ok {
					errs <- errors.New("unexpected answer: " + m.String())
					return
				}
			}
		}()
	}
	clients.Wait()
	close(stop)
	swaps.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestDNSLifecycle runs the DNS service through New and Close and checks
// that nothing it started outlives it, with a delay in flight and an idle
// TCP connection open at Close.
func TestDNSLifecycle(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	w, err := New(context.Background(), Options{DNS: "127.0.0.1:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := w.Addrs().DNS
	if ap, err := netip.ParseAddrPort(addr); err != nil || !ap.Addr().IsLoopback() || ap.Port() == 0 {
		t.Fatalf("Addrs().DNS = %q, want a loopback address with a port", addr)
	}
	ready := filepath.Join(t.TempDir(), "ready.json")
	if err := w.WriteReadyFile(ready); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(ready); err != nil || !strings.Contains(string(b), `"dns": "`+addr+`"`) {
		t.Errorf("ready file %s, %v; want dns %s", b, err, addr)
	}
	// The world runs no emulator here: lab names are forwarded, and with
	// no resolvers refused.
	if m := mustAsk(t, "udp", addr, "fe2.update.microsoft.com.", dns.TypeA); m.Rcode != dns.RcodeRefused {
		t.Errorf("lab name without emulator: %s, want REFUSED", dns.RcodeToString[m.Rcode])
	}
	activate(t, w, faults.Spec{Kind: "dns.delay", Match: faults.Match{Host: "slow.test"}, Fault: &faults.DNSDelay{}})
	idle, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer idle.Close()
	got := make(chan error, 1)
	go func() {
		_, err := ask("udp", addr, "slow.test.", dns.TypeA, false, time.Second)
		got <- err
	}()
	waitFor(t, func() bool { return len(dnsEvents(w, EventFault, "slow.test")) == 1 })
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	idle.Close()
	<-got
	if _, err := ask("udp", addr, "wsus.lab.", dns.TypeA, false, 100*time.Millisecond); err == nil {
		t.Error("answered after Close")
	}
}

// Queries that a fault holds do not hold the UDP reading workers: with
// many more delayed queries in flight than there are workers, a lab query
// is answered at once, and every delayed one is answered after its delay.
func TestDNSHeldQueriesFreeTheWorkers(t *testing.T) {
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	s := w.dnsService(t)
	if s.udpLoop == nil {
		t.Fatal("a socket bound to 127.0.0.1 should be served by reading workers")
	}
	activate(t, w, spec("dns.delay", &faults.DNSDelay{Duration: profile.Duration(700 * time.Millisecond)}, faults.Match{Host: "slow.lab"}, faults.When{}))
	held := max(16, 4*s.udpLoop.workers)
	errs := make(chan error, held)
	for range held {
		go func() {
			start := time.Now()
			m, err := ask("udp", addr, "slow.lab.", dns.TypeA, false, 5*time.Second)
			switch {
			case err != nil:
				errs <- err
			case m.Rcode != dns.RcodeSuccess || time.Since(start) < 600*time.Millisecond:
				errs <- fmt.Errorf("held query: rcode %d after %v", m.Rcode, time.Since(start))
			default:
				errs <- nil
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // every held query has reached a worker
	start := time.Now()
	m, err := ask("udp", addr, "wsus.lab.", dns.TypeA, false, 2*time.Second)
	if err != nil || m.Rcode != dns.RcodeSuccess {
		t.Fatalf("lab query while %d are held: %v %v", held, m, err)
	}
	if d := time.Since(start); d > 300*time.Millisecond {
		t.Errorf("lab query took %v while %d queries were held: the workers were held too", d, held)
	}
	for range held {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
