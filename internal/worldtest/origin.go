package worldtest

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/internal/testnet"
	"github.com/wufault/wufault/simulate/wsus"
)

// The origin's names: outside the lab zone, so a world's DNS forwards them
// to the origin's resolver and its proxy dials them like any origin on
// the internet.
const (
	OriginHost  = "wsus.wufault.test"
	ContentHost = "content.wufault.test"
)

// Origin is the test's own WSUS emulator on 127.0.0.1:0, and a resolver
// that names it: OriginHost and ContentHost (and the extra names given to
// StartOrigin) are A 127.0.0.1, other names NXDOMAIN with an SOA (negative
// TTL 300 s), A records live 60 s.
type Origin struct {
	// Resolver is the resolver's host:port (UDP and TCP).
	Resolver string
	// WSUS is the emulator.
	WSUS *wsus.Server

	srv   *httptest.Server
	names map[string]bool // fully qualified, lower case; read-only once serving
	mu    sync.Mutex
	wrap  func(w http.ResponseWriter, r *http.Request, next http.Handler) bool
}

// StartOrigin starts an emulator with o and its resolver until the test
// ends. o.ContentBaseURL set to ContentHost becomes
// http://content.wufault.test:<the emulator's port>. names are more names
// the resolver gives 127.0.0.1 (a test's own "wsus.lab" without a world).
func StartOrigin(t testing.TB, o wsus.Options, names ...string) *Origin {
	t.Helper()
	l, err := net.Listen("tcp", anyPort)
	if err != nil {
		t.Fatal(err)
	}
	if o.ContentBaseURL == ContentHost {
		_, port, _ := net.SplitHostPort(l.Addr().String())
		o.ContentBaseURL = "http://" + ContentHost + ":" + port
	}
	s, err := wsus.New(o)
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	e := &Origin{WSUS: s, names: map[string]bool{}}
	for _, n := range append([]string{OriginHost, ContentHost}, names...) {
		e.names[dns.Fqdn(strings.ToLower(n))] = true
	}
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
	e.Resolver = testnet.DNS(t, dns.HandlerFunc(e.serveDNS))
	return e
}

// SetWrap puts f in front of the emulator: when f returns true it has
// answered, else the emulator answers (nil: the emulator alone).
func (e *Origin) SetWrap(f func(w http.ResponseWriter, r *http.Request, next http.Handler) bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.wrap = f
}

// Port is the emulator's port.
func (e *Origin) Port() string {
	_, p, _ := net.SplitHostPort(e.srv.Listener.Addr().String())
	return p
}

// URL is the emulator as a WUServer URL under OriginHost, for scheme http
// or https (the emulator speaks plain HTTP: https reaches it only through
// a world that intercepts OriginHost).
func (e *Origin) URL(scheme string) string { return scheme + "://" + OriginHost + ":" + e.Port() }

func (e *Origin) serveDNS(w dns.ResponseWriter, r *dns.Msg) {
	m := new(dns.Msg)
	m.SetReply(r)
	m.RecursionAvailable = true
	if len(r.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		_ = w.WriteMsg(m)
		return
	}
	q := r.Question[0]
	switch {
	case !e.names[strings.ToLower(q.Name)]:
		m.Rcode = dns.RcodeNameError
		m.Ns = []dns.RR{soa(q.Name)}
	case q.Qtype == dns.TypeA:
		m.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(127, 0, 0, 1)}}
	default:
		m.Ns = []dns.RR{soa(q.Name)}
	}
	_ = w.WriteMsg(m)
}

func soa(name string) *dns.SOA {
	return &dns.SOA{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
		Ns: "ns.test.", Mbox: "h.test.", Serial: 1, Refresh: 1, Retry: 1, Expire: 1, Minttl: 300}
}
