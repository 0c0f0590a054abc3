package worldtest

import (
	"context"
	"crypto/x509"
	"log/slog"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/internal/testlog"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate"
	"github.com/wufault/wufault/verify"
)

// anyPort is the bind of every service a test asks for.
const anyPort = "127.0.0.1:0"

// Option sets up the world Start starts.
type Option func(*config)

type config struct {
	o        simulate.Options
	faults   string // YAML list items
	scenario string // catalog name or file
	origin   *Origin
}

// Proxy runs the forward proxy.
func Proxy() Option { return func(c *config) { c.o.Proxy = anyPort } }

// DNS runs the DNS server.
func DNS() Option { return func(c *config) { c.o.DNS = anyPort } }

// UpstreamHTTP runs the world's WSUS emulator over HTTP (WSUS 8530).
func UpstreamHTTP() Option { return func(c *config) { c.o.UpstreamHTTP = anyPort } }

// UpstreamHTTPS runs the world's WSUS emulator over TLS (WSUS 8531).
func UpstreamHTTPS() Option { return func(c *config) { c.o.UpstreamHTTPS = anyPort } }

// Lab runs every service the lab command runs but the control API: proxy,
// DNS and the emulator on both ports.
func Lab() Option {
	return func(c *config) {
		for _, o := range []Option{Proxy(), DNS(), UpstreamHTTP(), UpstreamHTTPS()} {
			o(c)
		}
	}
}

// Control runs the control API; token, if set, is its bearer token.
func Control(token string) Option {
	return func(c *config) { c.o.Control, c.o.ControlToken = anyPort, token }
}

// Intercept makes the proxy intercept (MITM, with the lab CA) CONNECT
// tunnels to these host patterns whether or not a fault targets them.
func Intercept(hosts ...string) Option {
	return func(c *config) { c.o.InterceptHosts = append(c.o.InterceptHosts, hosts...) }
}

// Loopback lets the proxy carry traffic to 127.0.0.0/8, where tests run
// their own origins.
func Loopback() Option {
	return func(c *config) { c.o.AllowUpstream = append(c.o.AllowUpstream, netip.MustParsePrefix("127.0.0.0/8")) }
}

// MaxStall bounds every stall and open-ended delay of the world.
func MaxStall(d time.Duration) Option { return func(c *config) { c.o.MaxStall = d } }

// Faults makes a YAML list of faults (the items of a scenario's faults:)
// the world's active scenario, decoded as strictly as a scenario file.
func Faults(list string) Option { return func(c *config) { c.faults = list } }

// Scenario makes a catalog scenario (or a scenario file) the world's
// active scenario.
func Scenario(nameOrPath string) Option { return func(c *config) { c.scenario = nameOrPath } }

// WithOrigin puts the world in front of the test's own emulator: the
// world's DNS forwards names outside the lab zone to the origin's
// resolver, the proxy intercepts the origin's host and may dial loopback.
func WithOrigin(o *Origin) Option {
	return func(c *config) {
		c.origin = o
		c.o.Resolvers = append(c.o.Resolvers, o.Resolver)
		Intercept(OriginHost)(c)
		Loopback()(c)
	}
}

// Options adjusts the simulate.Options directly, for what no option here
// names.
func Options(f func(*simulate.Options)) Option { return func(c *config) { f(&c.o) } }

// World is a running world and what a test reaches it with.
type World struct {
	*simulate.World
	// Origin is the test's own emulator (WithOrigin), or nil.
	Origin *Origin
	// Clock is the machine clock Env hands the client: real time plus an
	// offset the test advances, as the lab's fixes do.
	Clock *verify.Clock
	t     testing.TB
	log   *slog.Logger
}

// Start starts a world with the services the options ask for, each on
// 127.0.0.1:0, its log in the test's output, and the active scenario they
// name. The world closes when the test ends; an error closing it fails
// the test.
func Start(t testing.TB, opts ...Option) *World {
	t.Helper()
	var c config
	for _, o := range opts {
		o(&c)
	}
	log := testlog.New(t)
	if c.o.Logger == nil {
		c.o.Logger = log
	}
	sw, err := simulate.New(context.Background(), c.o)
	if err != nil {
		t.Fatalf("start world: %v", err)
	}
	t.Cleanup(func() {
		if err := sw.Close(); err != nil {
			t.Errorf("close world: %v", err)
		}
	})
	w := &World{World: sw, Origin: c.origin, Clock: &verify.Clock{}, t: t, log: log}
	switch {
	case c.scenario != "":
		sc, err := scenarios.Find(c.scenario)
		if err != nil {
			t.Fatalf("scenario: %v", err)
		}
		sw.Activate(sc.Name, sc.Seed, sc.Faults)
	case c.faults != "":
		w.Use(c.faults)
	}
	return w
}

// Use makes a YAML list of faults the world's active scenario (none: no
// faults), named after the test.
func (w *World) Use(list string) {
	w.t.Helper()
	w.Activate(w.t.Name(), 1, LoadFaults(w.t, list))
}

// LoadFaults decodes a YAML list of faults with the scenario loader, so a
// test's faults are decoded as strictly as a scenario file's.
func LoadFaults(t testing.TB, list string) []faults.Spec {
	t.Helper()
	if strings.TrimSpace(list) == "" {
		return nil
	}
	sc, err := scenarios.Load(strings.NewReader("name: test\nfaults:\n"+list), "test.yaml")
	if err != nil {
		t.Fatalf("faults: %v", err)
	}
	return sc.Faults
}

// ProxyURL is the proxy as a URL for http.ProxyURL.
func (w *World) ProxyURL() *url.URL {
	w.need("proxy", w.Addrs().Proxy)
	return &url.URL{Scheme: "http", Host: w.Addrs().Proxy}
}

// DNSAddr is the DNS server's host:port.
func (w *World) DNSAddr() string { return w.need("DNS", w.Addrs().DNS) }

// ControlURL is the control API's base URL (no trailing slash).
func (w *World) ControlURL() string { return "http://" + w.need("control", w.Addrs().Control) }

func (w *World) need(service, addr string) string {
	w.t.Helper()
	if addr == "" {
		w.t.Fatalf("the world runs no %s: start it with that option", service)
	}
	return addr
}

// CA is the lab CA's certificate.
func (w *World) CA() *x509.Certificate {
	w.t.Helper()
	ca, err := w.LabCA()
	if err != nil {
		w.t.Fatalf("lab CA: %v", err)
	}
	return ca.Certificate()
}

// CAPool is a pool trusting the lab CA alone.
func (w *World) CAPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(w.CA())
	return p
}

// Env is the client environment pointing at the world, as the lab maps it
// (verify.LabEnv), with the world's Clock and log. With an origin the
// WSUS values are the origin's (http:// and https://wsus.wufault.test on
// its port) and the healthy resolver is the origin's.
func (w *World) Env() client.Env {
	w.t.Helper()
	env, err := verify.LabEnv(w.World, w.log)
	if err != nil {
		w.t.Fatal(err)
	}
	env.Clock = w.Clock
	if o := w.Origin; o != nil {
		env.Server, env.ServerHTTPS, env.HealthyDNS = o.URL("http"), o.URL("https"), o.Resolver
	}
	return env
}
