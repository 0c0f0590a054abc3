package client

import (
	"cmp"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"slices"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// Env maps the symbolic values of a profile to the real addresses of the
// lab the client runs in. The client sees nothing else of the world.
type Env struct {
	// Proxy is the world's forward proxy (host:port), the profile value
	// "lab" of proxy, user_proxy and running_proxy; "lab-name" is the same
	// port under the name proxy.lab, resolved through the client's DNS.
	Proxy string
	// DeadProxy is an address where nothing listens (host:port), the
	// profile value "dead". Empty: 127.0.0.1:1.
	DeadProxy string
	// DNS is the world's DNS server (host:port), the profile value "lab"
	// of dns.
	DNS string
	// HealthyDNS is a resolver without faults (host:port), the profile
	// value "healthy" of dns and the target of use-public-dns.
	HealthyDNS string
	// Server is the world's WSUS emulator over HTTP as a WUServer URL
	// ("http://wsus.lab:41234"), the profile value "lab" of server.
	Server string
	// ServerHTTPS is the emulator over HTTPS, the profile value
	// "lab-https" of server.
	ServerHTTPS string
	// Alternate is the lab's alternate download server
	// (UpdateServiceUrlAlternate), the profile value "lab" of
	// alternate_download_server: the emulator's HTTP port under its own
	// name ("http://content.wsus.lab:41234").
	Alternate string
	// LabCA is the lab CA, trusted only with trust_lab_ca or after the
	// trust-lab-ca fix.
	LabCA *x509.Certificate
	// Roots, if set, are trusted in addition (wufault probe passes the
	// system roots; the lab leaves it nil).
	Roots *x509.CertPool
	// Clock is the machine clock of DNS cache expiry and of TLS validity
	// checks (before the profile's clock offset). Nil: the system clock.
	Clock Clock
	// Logger receives the client's diagnostics. Nil: discard.
	Logger *slog.Logger
}

// Clock tells the machine's time. The lab injects one it can advance.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }

// WinHTTP's default timeouts ([L-TIMEOUTS]): resolve 0 (none: the DNS
// client's schedule bounds it), connect 60 s, send 30 s, receive 30 s.
const (
	DefaultConnectTimeout = 60 * time.Second
	DefaultSendTimeout    = 30 * time.Second
	DefaultReceiveTimeout = 30 * time.Second
)

// DefaultTimeScale is the lab's time scale: every client timeout is
// multiplied by it (wufault's --realtime uses 1).
const DefaultTimeScale = 0.01

// Timeouts are WinHTTP's four timeouts, before scaling. Zero Resolve
// means none.
type Timeouts struct {
	Resolve, Connect, Send, Receive time.Duration
}

// Config is the client's effective environment: a profile with the lab's
// defaults applied and its symbolic values mapped through an Env. Values
// a real client would reject (a malformed proxy list or WUServer URL) are
// kept as written; the session fails on them as Windows does.
type Config struct {
	Generation Generation
	// Server is the WUServer policy URL; empty means Microsoft Update.
	Server string
	// AlternateServer is the UpdateServiceUrlAlternate policy URL: WSUS
	// content is downloaded from it ("" none).
	AlternateServer string
	// Proxy is the configured WinHTTP system proxy list ("" direct).
	Proxy string
	// UserProxy is the IE/user proxy list ("" none).
	UserProxy string
	// ProxyFallback allows falling back to the user proxy for detection
	// (SetProxyBehaviorForUpdateDetection = 1, [L-PROXY]).
	ProxyFallback bool
	Bypass        Bypass
	Credentials   *Credentials
	AuthSchemes   []string
	// DNS are the resolvers (host:port), in order.
	DNS []string
	// Hosts are hosts-file entries, lower-case name → address.
	Hosts map[string]netip.Addr
	// TrustLabCA adds the lab CA (Env.LabCA) to the trusted roots, which
	// are Env.Roots otherwise.
	TrustLabCA bool
	// TLSMin and TLSMax bound the protocol versions; CipherSuites nil
	// means Go's defaults.
	TLSMin, TLSMax  uint16
	CipherSuites    []uint16
	CheckRevocation bool
	ClockOffset     time.Duration
	Timeouts        Timeouts
	TimeScale       float64
	Download        Stack
	// Running and RunningProxy: the service state at the start (see
	// profile.Profile).
	Running      bool
	RunningProxy string
}

// NewConfig applies the lab defaults to a profile and maps its symbolic
// values through env. The empty profile is the lab's default client:
// modern, WSUS "lab" (the emulator over HTTP), system proxy "lab", DNS
// "lab", time_scale 0.01, lab CA not trusted, downloads through Delivery
// Optimization. It fails on what no Windows machine could hold
// (profile.Validate, the one check scenarios also use) and on symbolic
// values env does not provide.
func NewConfig(p profile.Profile, env Env) (Config, error) {
	if err := p.Validate(); err != nil {
		return Config{}, fmt.Errorf("profile: %w", err)
	}
	c := Config{
		Generation:      Generation(cmp.Or(p.Generation, string(Modern))),
		Timeouts:        timeouts(p.Timeouts),
		TimeScale:       deref(p.TimeScale, DefaultTimeScale),
		CheckRevocation: deref(p.CheckRevocation, true),
		AuthSchemes:     []string{SchemeBasic, SchemeNTLM, SchemeNegotiate},
		ProxyFallback:   deref(p.ProxyFallback, false),
		Bypass:          Bypass(slices.Clone(p.Bypass)),
		TrustLabCA:      deref(p.TrustLabCA, false),
		Running:         deref(p.Running, false),
		Download:        Stack(p.Download),
	}
	if len(p.AuthSchemes) > 0 {
		c.AuthSchemes = slices.Clone(p.AuthSchemes)
	}
	if pc := p.ProxyCredentials; pc != nil {
		c.Credentials = &Credentials{User: pc.User, Password: pc.Password.Reveal()}
	}
	if p.ClockOffset != nil {
		c.ClockOffset = p.ClockOffset.D()
	}
	if c.Download == "" {
		c.Download = StackDO
		if c.Generation == Legacy {
			c.Download = StackBITS // DO exists from Windows 10 on
		}
	}
	for _, h := range p.Hosts {
		if c.Hosts == nil {
			c.Hosts = map[string]netip.Addr{}
		}
		c.Hosts[cacheKey(h.Host)] = netip.MustParseAddr(h.Address) // Validate parsed it
	}
	c.TLSMin, c.TLSMax = tlsRange(p.TLSVersions, c.Generation)
	for _, name := range p.CipherSuites {
		id, _ := profile.CipherSuiteID(name) // Validate found it
		c.CipherSuites = append(c.CipherSuites, id)
	}
	var errs []error
	var err error
	if c.Server, err = mapServer(deref(p.Server, "lab"), env); err != nil {
		errs = append(errs, err)
	}
	if p.AlternateDownloadServer != nil {
		if c.AlternateServer, err = mapAlternate(*p.AlternateDownloadServer, env); err != nil {
			errs = append(errs, err)
		}
	}
	if c.Proxy, err = mapProxy("proxy", deref(p.Proxy, "lab"), env); err != nil {
		errs = append(errs, err)
	}
	if p.UserProxy != nil {
		if c.UserProxy, err = mapProxy("user_proxy", *p.UserProxy, env); err != nil {
			errs = append(errs, err)
		}
	}
	c.RunningProxy = c.Proxy
	if p.RunningProxy != nil {
		if c.RunningProxy, err = mapProxy("running_proxy", *p.RunningProxy, env); err != nil {
			errs = append(errs, err)
		}
	}
	dnsList := p.DNS
	if len(dnsList) == 0 {
		dnsList = []string{"lab"}
	}
	for _, d := range dnsList {
		addr, err := mapDNS(d, env)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.DNS = append(c.DNS, addr)
	}
	return c, errors.Join(errs...)
}

// deref is *p, or def when p is nil.
func deref[T any](p *T, def T) T {
	if p == nil {
		return def
	}
	return *p
}

// timeouts are WinHTTP's defaults with the profile's overrides.
func timeouts(t *profile.Timeouts) Timeouts {
	out := Timeouts{Connect: DefaultConnectTimeout, Send: DefaultSendTimeout, Receive: DefaultReceiveTimeout}
	if t == nil {
		return out
	}
	for _, f := range []struct {
		from *profile.Duration
		to   *time.Duration
	}{{t.Resolve, &out.Resolve}, {t.Connect, &out.Connect}, {t.Send, &out.Send}, {t.Receive, &out.Receive}} {
		if f.from != nil {
			*f.to = f.from.D()
		}
	}
	return out
}

// tlsRange is the lowest and highest of the enabled versions; none listed
// means the generation's defaults (1.2 and 1.3 for modern clients, 1.0 to
// 1.2 for legacy ones).
func tlsRange(versions []string, g Generation) (lo, hi uint16) {
	if len(versions) == 0 {
		versions = []string{"1.2", "1.3"}
		if g == Legacy {
			versions = []string{"1.0", "1.1", "1.2"}
		}
	}
	for _, v := range versions {
		n := profile.TLSVersions[v] // Validate found it
		if lo == 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return lo, hi
}

// envAddr is the address env holds for a symbolic value of a profile
// field, or an error naming what the environment lacks.
func envAddr(field, v, addr, what string) (string, error) {
	if addr == "" {
		return "", fmt.Errorf("%s %q: the environment has no %s", field, v, what)
	}
	return addr, nil
}

func mapServer(v string, env Env) (string, error) {
	switch v {
	case "lab":
		return envAddr("server", v, env.Server, "lab WSUS")
	case "lab-https":
		return envAddr("server", v, env.ServerHTTPS, "lab WSUS over HTTPS")
	}
	return v, nil
}

func mapAlternate(v string, env Env) (string, error) {
	if v == "lab" {
		return envAddr("alternate_download_server", v, env.Alternate, "lab alternate download server")
	}
	return v, nil
}

// labProxyName is the lab zone's name of the world's proxy.
const labProxyName = "proxy.lab"

func mapProxy(field, v string, env Env) (string, error) {
	switch v {
	case "lab":
		return envAddr(field, v, env.Proxy, "lab proxy")
	case "lab-name":
		if _, err := envAddr(field, v, env.Proxy, "lab proxy"); err != nil {
			return "", err
		}
		_, port, err := net.SplitHostPort(env.Proxy)
		if err != nil {
			return "", fmt.Errorf(`%s "lab-name": lab proxy %q: %w`, field, env.Proxy, err)
		}
		return net.JoinHostPort(labProxyName, port), nil
	case "dead":
		if env.DeadProxy == "" {
			return "127.0.0.1:1", nil
		}
		return env.DeadProxy, nil
	}
	return v, nil
}

func mapDNS(v string, env Env) (string, error) {
	addr, symbolic, err := profile.DNSServer(v)
	switch {
	case err != nil || !symbolic:
		return addr, err
	case v == "lab":
		return envAddr("dns", v, env.DNS, "lab DNS")
	}
	return envAddr("dns", v, env.HealthyDNS, "healthy resolver")
}

// scaled multiplies a timeout by the time scale; zero stays zero.
func (c *Config) scaled(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return max(time.Duration(float64(d)*c.TimeScale), time.Millisecond)
}

// clone returns a deep copy.
func (c Config) clone() Config {
	c.Bypass = slices.Clone(c.Bypass)
	c.AuthSchemes = slices.Clone(c.AuthSchemes)
	c.DNS = slices.Clone(c.DNS)
	c.CipherSuites = slices.Clone(c.CipherSuites)
	c.Hosts = maps.Clone(c.Hosts)
	if c.Credentials != nil {
		cr := *c.Credentials
		c.Credentials = &cr
	}
	return c
}
