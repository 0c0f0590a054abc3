package simulate

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/internal/testlog"
)

// stubService stands in for a service the DNS tests do not run (the
// upstream emulator): it only has an address.
type stubService struct{ addr string }

func (s stubService) Addr() string { return s.addr }
func (s stubService) Close() error { return nil }

// testLogger sends slog output to the test's own log.
var testLogger = testlog.New

// dnsWorld starts a world whose only service is DNS, on o.DNS or else a
// free loopback port. emulator is the address the upstream emulator would
// listen on ("" for none); it is only an address, nothing listens there.
// prepare, if set, adjusts the service before it binds.
func dnsWorld(t testing.TB, o Options, emulator string, prepare func(*dnsService)) (*World, string) {
	t.Helper()
	if o.Logger == nil {
		o.Logger = testLogger(t)
	}
	bind := o.DNS
	if bind == "" {
		bind = "127.0.0.1:0"
	}
	o.DNS = ""
	w := testWorld(t, o)
	if emulator != "" {
		w.mu.Lock()
		w.services["upstream-http"] = stubService{addr: emulator}
		w.mu.Unlock()
	}
	s := newDNSService(w)
	if prepare != nil {
		prepare(s)
	}
	if err := s.start(bind); err != nil {
		t.Fatalf("start dns: %v", err)
	}
	w.mu.Lock()
	w.services["dns"] = s
	w.mu.Unlock()
	return w, s.Addr()
}

// activate makes specs the world's active faults, validating them first.
func activate(t testing.TB, w *World, specs ...faults.Spec) {
	t.Helper()
	for _, sp := range specs {
		if err := errors.Join(sp.Fault.Validate(), sp.Match.Validate(), sp.When.Validate()); err != nil {
			t.Fatalf("spec %s: %v", sp.Kind, err)
		}
	}
	w.Activate(t.Name(), 1, specs)
}

// ask sends one question over network ("udp" or "tcp") and returns the
// answer. edns adds an OPT record as modern resolvers do.
func ask(network, addr, name string, qtype uint16, edns bool, timeout time.Duration) (*dns.Msg, error) {
	c := &dns.Client{Net: network, Timeout: timeout}
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(1232, false)
	}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// mustAsk is ask that fails the test on error.
func mustAsk(t testing.TB, network, addr, name string, qtype uint16) *dns.Msg {
	t.Helper()
	r, err := ask(network, addr, name, qtype, true, 5*time.Second)
	if err != nil {
		t.Fatalf("%s %s %s: %v", network, name, dns.TypeToString[qtype], err)
	}
	return r
}

// goResolver is Go's own stub resolver sent to addr, whatever
// resolv.conf names (PreferGo: the cgo path ignores Dial).
func goResolver(addr string) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

// answerIPs returns the addresses of the A and AAAA records of m.
func answerIPs(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		switch rr := rr.(type) {
		case *dns.A:
			out = append(out, rr.A.String())
		case *dns.AAAA:
			out = append(out, rr.AAAA.String())
		}
	}
	return out
}

// soaOf returns the SOA of m's authority section, or nil.
func soaOf(m *dns.Msg) *dns.SOA {
	for _, rr := range m.Ns {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa
		}
	}
	return nil
}

// fakeResolver is a second local DNS server standing in for a configured
// resolver: example.test has an A record, big.example.test more TXT than
// fits in 512 bytes.
type fakeResolver struct {
	addr    string
	mu      sync.Mutex
	queries []string // "udp A example.test."
}

func startFakeResolver(t testing.TB) *fakeResolver {
	t.Helper()
	f := &fakeResolver{}
	h := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		q := r.Question[0]
		f.mu.Lock()
		f.queries = append(f.queries, w.LocalAddr().Network()+" "+dns.TypeToString[q.Qtype]+" "+strings.ToLower(q.Name))
		f.mu.Unlock()
		m := new(dns.Msg)
		m.SetReply(r)
		m.RecursionAvailable = true
		switch strings.ToLower(q.Name) {
		case "example.test.":
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IPv4(192, 0, 2, 10)})
			}
		case "loopback.example.test.":
			if q.Qtype == dns.TypeA {
				m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IPv4(127, 0, 0, 1)})
			}
		case "big.example.test.":
			for n := range 20 {
				m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 30}, Txt: []string{strings.Repeat(string(rune('a'+n)), 60)}})
			}
		default:
			m.Rcode = dns.RcodeNameError
		}
		if w.LocalAddr().Network() == "udp" {
			m.Truncate(udpSize(r))
		}
		_ = w.WriteMsg(m)
	})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	pc, err := net.ListenPacket("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	f.addr = l.Addr().String()
	var wg sync.WaitGroup
	wg.Add(2)
	udp := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: wg.Done}
	tcp := &dns.Server{Listener: l, Handler: h, NotifyStartedFunc: wg.Done}
	done := make(chan struct{}, 2)
	for _, s := range []*dns.Server{udp, tcp} {
		go func() { _ = s.ActivateAndServe(); done <- struct{}{} }()
	}
	wg.Wait()
	t.Cleanup(func() {
		_ = udp.Shutdown()
		_ = tcp.Shutdown()
		<-done
		<-done
	})
	return f
}

func (f *fakeResolver) seen() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...)
}

// deadUDPAddr returns a loopback UDP address nothing listens on (a query
// there fails at once with "connection refused").
func deadUDPAddr(t testing.TB) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

// dnsEvents returns the journal's events of kind about host.
func dnsEvents(w *World, kind, host string) []Event {
	return w.Journal().Events(0, func(e Event) bool { return e.Kind == kind && (host == "" || e.Host == host) })
}

// dnsRecorder is a dns.ResponseWriter without a socket, for the fuzz
// target and the benchmark: it packs what is written, as the server would.
type dnsRecorder struct {
	tcp   bool
	msgs  []*dns.Msg
	bytes int
	keep  bool // keep the messages (off in benchmarks)
}

func (r *dnsRecorder) LocalAddr() net.Addr {
	if r.tcp {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 53}
}

func (r *dnsRecorder) RemoteAddr() net.Addr {
	if r.tcp {
		return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	}
	return &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
}

func (r *dnsRecorder) WriteMsg(m *dns.Msg) error {
	b, err := m.Pack()
	if err != nil {
		return err
	}
	r.bytes += len(b)
	if r.keep {
		r.msgs = append(r.msgs, m)
	}
	return nil
}

func (r *dnsRecorder) Write(b []byte) (int, error) { r.bytes += len(b); return len(b), nil }
func (r *dnsRecorder) Close() error                { return nil }
func (r *dnsRecorder) TsigStatus() error           { return nil }
func (r *dnsRecorder) TsigTimersOnly(bool)         {}
func (r *dnsRecorder) Hijack()                     {}

// discardLogger drops everything (fuzzing and benchmarks).
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// dnsService returns the world's running DNS service.
func (w *World) dnsService(t testing.TB) *dnsService {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	s, ok := w.services["dns"].(*dnsService)
	if !ok {
		t.Fatal("no dns service")
	}
	return s
}
