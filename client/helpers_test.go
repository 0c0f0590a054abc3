package client_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/internal/testnet"
	"github.com/wufault/wufault/simulate/wsus"
)

// testLogger routes slog to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	if !testing.Verbose() {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t testing.TB }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// manualClock is a machine clock the test advances.
type manualClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

func (c *manualClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// testDNS is a DNS server on 127.0.0.1:0 (UDP and TCP) with fixed
// answers: names in its map get A records, others NXDOMAIN with an SOA.
type testDNS struct {
	Addr string
	a    map[string]string // read-only once serving
}

func startDNS(t testing.TB, names map[string]string) *testDNS {
	t.Helper()
	d := &testDNS{a: map[string]string{}}
	for k, v := range names {
		d.a[dns.Fqdn(strings.ToLower(k))] = v
	}
	d.Addr = testnet.DNS(t, d)
	return d
}

func (d *testDNS) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	q := r.Question[0]
	addr, ok := d.a[strings.ToLower(q.Name)]
	switch {
	case !ok:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa(q.Name, 300)}
	case q.Qtype == dns.TypeA:
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.ParseIP(addr)}}
	default:
		m.Ns = []dns.RR{soa(q.Name, 300)}
	}
	_ = w.WriteMsg(m)
}

func soa(name string, ttl uint32) *dns.SOA {
	return &dns.SOA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: ttl},
		Ns: "ns.test.", Mbox: "h.test.", Serial: 1, Refresh: 1, Retry: 1, Expire: 1, Minttl: ttl}
}

// emulator is a WSUS emulator behind httptest, with an optional wrapper
// (a fault hook in front of it).
type emulator struct {
	srv  *httptest.Server
	wsus *wsus.Server
	mu   sync.Mutex
	wrap func(w http.ResponseWriter, r *http.Request, next http.Handler) bool
}

// contentHost, as wsus.Options.ContentBaseURL, makes the emulator name
// its content http://content.wufault.test:<its port>.
const contentHost = "content.wufault.test"

func startEmulator(t testing.TB, o wsus.Options) *emulator {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if o.ContentBaseURL == contentHost {
		_, port, _ := net.SplitHostPort(l.Addr().String())
		o.ContentBaseURL = "http://" + contentHost + ":" + port
	}
	s, err := wsus.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e := &emulator{wsus: s}
	e.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		wrap := e.wrap
		e.mu.Unlock()
		if wrap != nil && wrap(w, r, s) {
			return
		}
		s.ServeHTTP(w, r)
	}))
	e.srv.Listener.Close()
	e.srv.Listener = l
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	return e
}

func (e *emulator) setWrap(f func(w http.ResponseWriter, r *http.Request, next http.Handler) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wrap = f
}

func (e *emulator) port() string {
	_, p, _ := net.SplitHostPort(e.srv.Listener.Addr().String())
	return p
}

// labEnv is an environment with the emulator as "lab" WSUS under the name
// wsus.lab, resolved by a test DNS server; no proxy.
func labEnv(t testing.TB, e *emulator, d *testDNS) client.Env {
	return client.Env{DNS: d.Addr, Server: "http://wsus.lab:" + e.port(), Logger: testLogger(t), Clock: &manualClock{}}
}

func ptr[T any](v T) *T { return &v }

// direct is a profile without proxy.
func direct() profile.Profile { return profile.Profile{Proxy: ptr("")} }

func run(t testing.TB, m *client.Machine) *client.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := m.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

func newMachine(t testing.TB, p profile.Profile, env client.Env) *client.Machine {
	t.Helper()
	m, err := client.NewMachine(p, env)
	if err != nil {
		t.Fatalf("NewMachine: %v", err)
	}
	return m
}

func dumpResult(t testing.TB, r *client.Result) string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}
