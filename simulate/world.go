package simulate

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/simulate/wsus"
)

// Options configure a World. An empty address leaves that service off;
// "127.0.0.1:0" picks a free port (tests always do).
type Options struct {
	Proxy         string // forward proxy (CONNECT and plain HTTP)
	DNS           string // DNS server, UDP and TCP on the same port
	UpstreamHTTP  string // embedded Windows Update emulator, HTTP (WSUS 8530)
	UpstreamHTTPS string // the same over TLS (WSUS 8531)
	Control       string // control API

	// AllowCIDRs lists the client networks allowed to use a service bound
	// to a non-loopback address. Without it such a bind is refused: the
	// world is never an open proxy or resolver.
	AllowCIDRs []netip.Prefix
	// AllowOpenCIDR accepts AllowCIDRs wider than an IPv4 /8 or an IPv6
	// /32 (0.0.0.0/0 included); without it they are refused, as a typo
	// that would make the world an open proxy.
	AllowOpenCIDR bool
	// AllowUpstream lists loopback and link-local destinations the proxy
	// may carry traffic to (destination.go); the world's own listeners
	// stay refused.
	AllowUpstream []netip.Prefix
	// ControlToken is required on the control API when it is not on
	// loopback, and when the proxy serves a non-loopback network (a bearer
	// token).
	ControlToken string
	// ParentProxy, if set, is where the proxy sends its upstream traffic.
	ParentProxy *url.URL
	// Resolvers are DNS servers (host:port) for names outside the lab zone
	// and the proxy's own lookups of them. None: such names are REFUSED.
	Resolvers []string
	// ZoneIP, if set, is the address the DNS server gives lab-zone names
	// instead of this world's own emulator: a second resolver without
	// faults ("use-public-dns" in the lab) points at the first world's
	// emulator this way.
	ZoneIP string
	// StateDir holds the lab CA (created on first use, key mode 0600).
	StateDir string
	// InterceptHosts are host patterns ("wsus.corp.example",
	// "*.corp.example") whose CONNECT tunnels the proxy always intercepts
	// (TLS with the lab CA), whether or not a fault targets them. They are
	// added to the lab CA's name constraints when it is created.
	InterceptHosts []string
	// MaxStall bounds every stall and open-ended delay (default 2m), so no
	// fault holds a goroutine or descriptor forever.
	MaxStall time.Duration
	// TunnelPeek bounds the wait for a client's first byte in a CONNECT
	// tunnel the proxy would intercept (default 1s); a client still silent
	// then may be waiting for an origin that speaks first, and the tunnel
	// is relayed opaque.
	TunnelPeek time.Duration
	// TunnelIdle closes an opaque tunnel that carried nothing either way
	// for this long (default 5m; negative: never).
	TunnelIdle time.Duration
	// BodyTimeout bounds the reading of one request body, on the proxy
	// and on the control API (default 60s).
	BodyTimeout time.Duration
	// Logger receives the world's own diagnostics (nil: discard).
	Logger *slog.Logger
}

// Addrs are the addresses the world listens on, as written to the ready file.
type Addrs struct {
	Proxy         string `json:"proxy,omitempty"`
	DNS           string `json:"dns,omitempty"`
	UpstreamHTTP  string `json:"upstream_http,omitempty"`
	UpstreamHTTPS string `json:"upstream_https,omitempty"`
	Control       string `json:"control,omitempty"`
}

// Active is the scenario one client meets, armed for that client
// (fleet.go): its rules count that client's events.
type Active struct {
	Name  string
	Seed  int64
	Set   *faults.Set
	Since time.Time
	// Client is the client network the scenario is assigned to ("" for
	// the default scenario).
	Client string

	plan *plan
}

// service is one listener-owning part of the world.
type service interface {
	Addr() string
	Close() error
}

// World is one running lab: proxy, DNS, upstream emulator, control API and
// journal, sharing one active fault set. Its zero value is not usable; call New.
type World struct {
	opts    Options
	log     *slog.Logger
	journal *Journal
	metrics *worldMetrics
	tls     tlsLazy         // the lab CA and issuer, from first use (tls.go)
	fleet   *fleet          // the default scenario and the per-client ones (fleet.go)
	ctx     context.Context // ends at Close; bounds stalls and delays
	cancel  context.CancelFunc

	// The Windows Update emulator, shared by the upstream ports.
	emuOnce sync.Once
	emu     *wsus.Server
	emuErr  error

	mu       sync.Mutex
	services map[string]service
	closed   bool
}

// New validates o, opens every configured listener and returns once all of
// them accept connections. No fault is active until Activate.
func New(ctx context.Context, o Options) (*World, error) {
	if o.MaxStall <= 0 {
		o.MaxStall = 2 * time.Minute
	}
	if o.TunnelPeek <= 0 {
		o.TunnelPeek = time.Second
	}
	if o.TunnelIdle == 0 {
		o.TunnelIdle = 5 * time.Minute
	}
	if o.BodyTimeout <= 0 {
		o.BodyTimeout = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := checkBinds(o); err != nil {
		return nil, err
	}
	for _, p := range o.AllowCIDRs {
		if wideCIDR(p) {
			o.Logger.Warn("client network wider than a /8 allowed: the world serves a large part of the internet", "cidr", p.String())
		}
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	w := &World{
		opts:     o,
		log:      o.Logger,
		journal:  NewJournal(0),
		ctx:      wctx,
		cancel:   cancel,
		services: map[string]service{},
		fleet:    newFleet(),
	}
	w.metrics = newWorldMetrics(w)
	w.Activate("", 0, nil)
	starts := []struct {
		name, addr string
		start      func(string) (service, error)
	}{
		{"upstream-http", o.UpstreamHTTP, w.startUpstreamHTTP},
		{"upstream-https", o.UpstreamHTTPS, w.startUpstreamHTTPS},
		// The proxy's route to the emulator, after the upstream ports (the
		// lab CA's leaves name the HTTP port for revocation data).
		{"internal-origin", cmp.Or(o.UpstreamHTTP, o.UpstreamHTTPS), func(string) (service, error) { return w.startInternalOrigin() }},
		{"dns", o.DNS, w.startDNS},
		{"proxy", o.Proxy, w.startProxy},
		{"control", o.Control, w.startControl},
	}
	for _, s := range starts {
		if s.addr == "" {
			continue
		}
		svc, err := s.start(s.addr)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("start %s on %s: %w", s.name, s.addr, err)
		}
		w.mu.Lock()
		w.services[s.name] = svc
		w.mu.Unlock()
	}
	return w, nil
}

// checkBinds refuses non-loopback listen addresses unless client networks
// are allowed explicitly, client networks wider than a /8 unless
// AllowOpenCIDR says so, and a control API without a token when the proxy
// serves a non-loopback network (its clients could reach it).
func checkBinds(o Options) error {
	var errs []error
	for _, p := range o.AllowCIDRs {
		if wideCIDR(p) && !o.AllowOpenCIDR {
			errs = append(errs, fmt.Errorf("--allow-cidr %s is wider than a /8: pass --allow-open-cidr as well if the world is really to serve that much", p))
		}
	}
	if o.Proxy != "" && o.Control != "" && o.ControlToken == "" {
		if host, _, err := net.SplitHostPort(o.Proxy); err == nil {
			if ip, err := netip.ParseAddr(host); err == nil && !ip.IsLoopback() {
				errs = append(errs, fmt.Errorf("proxy address %q is not loopback: set a control token (its clients could otherwise rewrite the scenario)", o.Proxy))
			}
		}
	}
	for name, addr := range map[string]string{"proxy": o.Proxy, "dns": o.DNS, "upstream-http": o.UpstreamHTTP, "upstream-https": o.UpstreamHTTPS, "control": o.Control} {
		if addr == "" {
			continue
		}
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s address %q: %w", name, addr, err))
			continue
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s address %q: listen on an IP address, not a name", name, addr))
			continue
		}
		if !ip.IsLoopback() && len(o.AllowCIDRs) == 0 {
			errs = append(errs, fmt.Errorf("%s address %q is not loopback: pass --allow-cidr with the lab's client networks (wufault is never an open proxy)", name, addr))
		}
		if name == "control" && !ip.IsLoopback() && o.ControlToken == "" {
			errs = append(errs, fmt.Errorf("control address %q is not loopback: set a control token", addr))
		}
	}
	return errors.Join(errs...)
}

// wideCIDR reports a client network wider than an IPv4 /8 (an IPv6 /32).
func wideCIDR(p netip.Prefix) bool {
	if p.Addr().Unmap().Is4() {
		return p.Bits() < 8 || (p.Addr().Is4In6() && p.Bits() < 104)
	}
	return p.Bits() < 32
}

// clientAllowed reports whether a remote address may use the world's
// services: loopback always, others only inside AllowCIDRs.
func (w *World) clientAllowed(remote net.Addr) bool {
	ap, err := netip.ParseAddrPort(remote.String())
	if err != nil {
		return false
	}
	ip := ap.Addr().Unmap()
	if ip.IsLoopback() {
		return true
	}
	for _, p := range w.opts.AllowCIDRs {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// Activate makes a fault list the default scenario (that of every client
// no assignment holds), atomically: connections in flight keep the rules
// they started with, new events see the new ones.
func (w *World) Activate(name string, seed int64, specs []faults.Spec) {
	w.fleet.setDefault(newPlan(name, seed, specs))
	if name != "" || len(specs) > 0 {
		w.metrics.scenarios.Inc()
		w.journal.Add(Event{Kind: EventScenario, Scenario: name, Detail: fmt.Sprintf("%d faults, seed %d", len(specs), seed)})
	}
}

// Active returns the default scenario as the lab host itself (127.0.0.1)
// meets it, when no assignment holds that address (never nil).
func (w *World) Active() *Active { return w.ActiveFor(netip.AddrFrom4([4]byte{127, 0, 0, 1})) }

// Default returns the default scenario with its rules' hits summed over
// every client that meets it.
func (w *World) Default() ScenarioView {
	vs := w.fleet.views()
	return vs[len(vs)-1].Scenario
}

// Journal returns the world's journal.
func (w *World) Journal() *Journal { return w.journal }

// Addrs returns the bound addresses.
func (w *World) Addrs() Addrs {
	return Addrs{Proxy: w.addr("proxy"), DNS: w.addr("dns"), UpstreamHTTP: w.addr("upstream-http"),
		UpstreamHTTPS: w.addr("upstream-https"), Control: w.addr("control")}
}

// addr is the address of the service called name ("" when it does not
// run): what Addrs says of it, without formatting the others.
func (w *World) addr(name string) string {
	w.mu.Lock()
	s, ok := w.services[name]
	w.mu.Unlock()
	if !ok {
		return ""
	}
	return s.Addr()
}

// WriteReadyFile writes the addresses as JSON to path, atomically (a
// reader never sees a partial file).
func (w *World) WriteReadyFile(path string) error {
	b, err := json.MarshalIndent(w.Addrs(), "", "  ")
	if err != nil {
		return err
	}
	if err := WriteFileAtomic(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write ready file: %w", err)
	}
	return nil
}

// WriteFileAtomic writes body to path with mode perm through a temporary
// file in the same directory and a rename, so a reader sees the old file
// or the whole new one, never half of it.
func WriteFileAtomic(path string, body []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(body)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Close stops every service, ends stalls and delays, and waits for the
// listeners to close.
func (w *World) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	w.closed = true
	svcs := w.services
	w.mu.Unlock()
	w.cancel()
	var errs []error
	for name, s := range svcs {
		if err := s.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close %s: %w", name, err))
		}
	}
	return errors.Join(errs...)
}
