package client

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/internal/testnet"
)

// dnsServer answers with handler on 127.0.0.1:0 (UDP and TCP).
func dnsServer(t *testing.T, handler dns.HandlerFunc) string { return testnet.DNS(t, handler) }

func answerA(w dns.ResponseWriter, r *dns.Msg, ip string, ttl uint32) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: r.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: ttl}, A: net.ParseIP(ip)}}
	_ = w.WriteMsg(m)
}

func rcode(w dns.ResponseWriter, r *dns.Msg, code int, soaTTL uint32) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.Rcode = code
	if soaTTL > 0 {
		m.Ns = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: "lab.", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: soaTTL}, Ns: "ns.", Mbox: "m.", Minttl: soaTTL}}
	}
	_ = w.WriteMsg(m)
}

type fixedClock struct{ t atomic.Int64 }

func (c *fixedClock) now() time.Time      { return time.Unix(0, c.t.Load()) }
func (c *fixedClock) add(d time.Duration) { c.t.Add(int64(d)) }
func newFixedClock() *fixedClock          { c := &fixedClock{}; c.t.Store(time.Now().UnixNano()); return c }
func discard() *slog.Logger               { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newResolver(servers []string, clock *fixedClock) *resolver {
	return &resolver{servers: servers, cache: newDNSCache(), now: clock.now, scale: 0.01, log: discard()}
}

func TestResolverAnswersAndCaches(t *testing.T) {
	var n atomic.Int32
	addr := dnsServer(t, func(w dns.ResponseWriter, r *dns.Msg) { n.Add(1); answerA(w, r, "192.0.2.7", 30) })
	clock := newFixedClock()
	r := newResolver([]string{addr}, clock)
	r.scale = 1 // real retransmit timers: a loaded machine must not turn a slow answer into a second query
	ips, err := r.lookup(context.Background(), "wsus.lab")
	if err != nil || len(ips) != 1 || ips[0] != netip.MustParseAddr("192.0.2.7") {
		t.Fatalf("lookup = %v, %v", ips, err)
	}
	if _, err := r.lookup(context.Background(), "WSUS.lab."); err != nil || n.Load() != 1 {
		t.Fatalf("second lookup: %v, %d queries (want the cache)", err, n.Load())
	}
	clock.add(31 * time.Second)
	if _, err := r.lookup(context.Background(), "wsus.lab"); err != nil || n.Load() != 2 {
		t.Fatalf("after the TTL: %v, %d queries", err, n.Load())
	}
}

func TestResolverHostsAndLiterals(t *testing.T) {
	r := newResolver(nil, newFixedClock())
	r.hosts = map[string]netip.Addr{"wsus.lab": netip.MustParseAddr("127.0.0.9")}
	if ips, err := r.lookup(context.Background(), "WSUS.LAB"); err != nil || ips[0].String() != "127.0.0.9" {
		t.Errorf("hosts: %v %v", ips, err)
	}
	if ips, err := r.lookup(context.Background(), "127.0.0.3"); err != nil || ips[0].String() != "127.0.0.3" {
		t.Errorf("literal: %v %v", ips, err)
	}
	var ne *NameError
	if _, err := r.lookup(context.Background(), "other.lab"); !errors.As(err, &ne) || ne.Reason != ReasonNoServers {
		t.Errorf("no servers: %v", err)
	}
}

func TestResolverNegative(t *testing.T) {
	cases := []struct {
		name   string
		code   int
		soa    uint32
		reason string
		cached bool
	}{
		{"nxdomain", dns.RcodeNameError, 120, ReasonNXDomain, true},
		{"nxdomain without soa", dns.RcodeNameError, 0, ReasonNXDomain, false},
		{"nodata", dns.RcodeSuccess, 60, ReasonNoData, true},
		{"servfail", dns.RcodeServerFailure, 60, ReasonServFail, false},
		{"refused", dns.RcodeRefused, 0, ReasonRefused, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var n atomic.Int32
			addr := dnsServer(t, func(w dns.ResponseWriter, r *dns.Msg) { n.Add(1); rcode(w, r, c.code, c.soa) })
			clock := newFixedClock()
			r := newResolver([]string{addr}, clock)
			_, err := r.lookup(context.Background(), "wsus.lab")
			var ne *NameError
			if !errors.As(err, &ne) || ne.Reason != c.reason || ne.Cached {
				t.Fatalf("lookup: %v, want %s", err, c.reason)
			}
			_, err = r.lookup(context.Background(), "wsus.lab")
			if !errors.As(err, &ne) || ne.Cached != c.cached {
				t.Fatalf("second lookup: %v, cached want %v", err, c.cached)
			}
			if c.cached {
				clock.add(time.Duration(c.soa)*time.Second + time.Second)
				if _, err := r.lookup(context.Background(), "wsus.lab"); !errors.As(err, &ne) || ne.Cached {
					t.Fatalf("after expiry: %v", err)
				}
			}
		})
	}
}

// The schedule: a silent server costs the whole schedule (10 s scaled,
// each step at least 50 ms) and gets several queries; a second server is
// asked at the second step.
func TestResolverSchedule(t *testing.T) {
	var silent atomic.Int32
	quiet := dnsServer(t, func(dns.ResponseWriter, *dns.Msg) { silent.Add(1) })
	r := newResolver([]string{quiet}, newFixedClock())
	start := time.Now()
	_, err := r.lookup(context.Background(), "wsus.lab")
	var ne *NameError
	if !errors.As(err, &ne) || ne.Reason != ReasonTimeout {
		t.Fatalf("lookup: %v", err)
	}
	if d := time.Since(start); d < 5*minDNSStep || d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
	if q := silent.Load(); q < 4 {
		t.Errorf("%d queries to the silent server, want one per step", q)
	}

	good := dnsServer(t, func(w dns.ResponseWriter, r *dns.Msg) { answerA(w, r, "192.0.2.1", 60) })
	r = newResolver([]string{quiet, good}, newFixedClock())
	if _, err := r.lookup(context.Background(), "wsus.lab"); err != nil {
		t.Errorf("second server: %v", err)
	}
	fail := dnsServer(t, func(w dns.ResponseWriter, r *dns.Msg) { rcode(w, r, dns.RcodeServerFailure, 0) })
	r = newResolver([]string{fail, good}, newFixedClock())
	start = time.Now()
	if _, err := r.lookup(context.Background(), "wsus.lab"); err != nil || time.Since(start) > minDNSStep {
		t.Errorf("after a SERVFAIL the next server is asked at once: %v after %v", err, time.Since(start))
	}
	// A resolve timeout (WinHTTP) shorter than the schedule.
	r = newResolver([]string{quiet}, newFixedClock())
	r.timeout = 20 * time.Millisecond
	if _, err := r.lookup(context.Background(), "wsus.lab"); !errors.As(err, &ne) || ne.Reason != ReasonResolveTimeout {
		t.Errorf("resolve timeout: %v", err)
	}
}

func TestResolverTruncation(t *testing.T) {
	var tcp atomic.Int32
	addr := dnsServer(t, func(w dns.ResponseWriter, r *dns.Msg) {
		if w.LocalAddr().Network() == "udp" {
			m := new(dns.Msg)
			m.SetReply(r)
			m.Truncated = true
			_ = w.WriteMsg(m)
			return
		}
		tcp.Add(1)
		answerA(w, r, "192.0.2.5", 60)
	})
	r := newResolver([]string{addr}, newFixedClock())
	if ips, err := r.lookup(context.Background(), "wsus.lab"); err != nil || ips[0].String() != "192.0.2.5" || tcp.Load() != 1 {
		t.Errorf("lookup %v %v, %d tcp queries", ips, err, tcp.Load())
	}
}

func TestCacheCaps(t *testing.T) {
	c := newDNSCache()
	now := time.Now()
	c.putNegative("a", ReasonNXDomain, 24*time.Hour, now)
	if _, ok := c.get("a", now.Add(MaxNegativeCacheTTL-time.Second)); !ok {
		t.Error("negative entry gone early")
	}
	if _, ok := c.get("a", now.Add(MaxNegativeCacheTTL)); ok {
		t.Error("negative entry outlived MaxNegativeCacheTtl")
	}
	c.putPositive("b", []netip.Addr{netip.MustParseAddr("192.0.2.1")}, 365*24*time.Hour, now)
	if _, ok := c.get("b", now.Add(MaxCacheTTL)); ok {
		t.Error("positive entry outlived MaxCacheTtl")
	}
	c.putPositive("c", nil, 0, now)
	if _, ok := c.get("c", now); ok {
		t.Error("zero TTL cached")
	}
	c.putNegative("d", ReasonNoData, time.Minute, now)
	c.flush()
	if len(c.snapshot(now)) != 0 {
		t.Error("flush left entries")
	}
}
