package client

import (
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// Machine is an emulated Windows machine running the Windows Update
// client: its configuration and the state that lasts across sessions —
// the DNS client cache, whether the Windows Update service is running and
// the system proxy it read when it started, and the configured ("registry")
// settings that fixes change. Run runs one session. A Machine is safe for
// concurrent use, but sessions run one at a time.
type Machine struct {
	env   Env
	log   *slog.Logger
	clock Clock
	cache *dnsCache

	mu  sync.Mutex
	cfg Config
	// running and runningProxy: the service state. A running service
	// uses the proxy it read at start until it is restarted (seed 002).
	running      bool
	runningProxy string
	run          sync.Mutex // one session at a time
}

// NewMachine builds a machine from a scenario profile (the lab defaults
// applied, symbolic values mapped through env).
func NewMachine(p profile.Profile, env Env) (*Machine, error) {
	cfg, err := NewConfig(p, env)
	if err != nil {
		return nil, fmt.Errorf("client profile: %w", err)
	}
	return NewMachineConfig(cfg, env), nil
}

// NewMachineConfig builds a machine from an effective configuration.
func NewMachineConfig(cfg Config, env Env) *Machine {
	m := &Machine{env: env, cfg: cfg.clone(), cache: newDNSCache(), clock: env.Clock, log: env.Logger}
	if m.clock == nil {
		m.clock = systemClock{}
	}
	if m.log == nil {
		m.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m.running = cfg.Running
	m.runningProxy = cfg.RunningProxy
	return m
}

// Config returns a copy of the machine's current configuration.
func (m *Machine) Config() Config {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.cfg.clone()
}

// DNSCache lists the live entries of the DNS client cache
// (ipconfig /displaydns).
func (m *Machine) DNSCache() []CacheEntry { return m.cache.snapshot(m.clock.Now()) }

// ServiceProxy returns the system proxy the running service uses, and
// whether the service is running.
func (m *Machine) ServiceProxy() (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runningProxy, m.running
}

// Run runs one Windows Update session: self-update check, scan, content
// download and report. The error is for the emulator's own failures only
// (a cancelled context); every network failure is in the Result.
func (m *Machine) Run(ctx context.Context) (*Result, error) {
	m.run.Lock()
	defer m.run.Unlock()
	m.mu.Lock()
	if !m.running { // the service starts and reads the proxy settings
		m.running = true
		m.runningProxy = m.cfg.Proxy
	}
	cfg := m.cfg.clone()
	sysProxy := m.runningProxy
	m.mu.Unlock()

	s := m.newSession(cfg, sysProxy)
	defer s.t.close()
	start := time.Now()
	f, err := s.run(ctx)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("client: session cancelled: %w", ctx.Err())
	}
	if err != nil {
		return nil, err
	}
	r := &Result{Observations: s.obs, Updates: len(s.revisions), Downloaded: s.downloaded, Start: start,
		Duration: Duration(time.Since(start)), Failed: f}
	if f != nil {
		r.Code, r.Class, r.Confidence, r.Source = f.Code, f.Class, f.Confidence, f.Source
	}
	if r.Observations == nil {
		r.Observations = []Observation{}
	}
	return r, nil
}

// newSession wires a session: resolver, TLS, proxy authentication and
// transport, from the configuration and the machine state.
func (m *Machine) newSession(cfg Config, sysProxy string) *session {
	res := &resolver{servers: cfg.DNS, hosts: cfg.Hosts, cache: m.cache, now: m.clock.Now, scale: cfg.TimeScale,
		timeout: cfg.scaled(cfg.Timeouts.Resolve), log: m.log}
	roots := x509.NewCertPool()
	if m.env.Roots != nil {
		roots = m.env.Roots.Clone()
	}
	if cfg.TrustLabCA && m.env.LabCA != nil {
		roots.AddCert(m.env.LabCA)
	}
	offset := cfg.ClockOffset
	ts := &tlsSettings{roots: roots, minVersion: cfg.TLSMin, maxVersion: cfg.TLSMax, cipherSuites: cfg.CipherSuites,
		now: func() time.Time { return m.clock.Now().Add(offset) }, checkRevocation: cfg.CheckRevocation,
		timeout: max(cfg.scaled(cfg.Timeouts.Receive), 100*time.Millisecond), log: m.log}
	ts.fetch = crlFetcher(res, ts.timeout)
	auth := newAuthenticator(cfg.Credentials, cfg.AuthSchemes)
	t := newTransport(res, ts.config(), auth, cfg.scaled(cfg.Timeouts.Connect), cfg.scaled(cfg.Timeouts.Send),
		cfg.scaled(cfg.Timeouts.Receive), m.log)
	s := &session{cfg: cfg, t: t, now: m.clock.Now, log: m.log}
	cfg.RunningProxy = sysProxy
	s.cfg = cfg
	var err error
	if s.sys, err = ParseProxyList(sysProxy); err != nil {
		s.sysErr = err
	}
	if cfg.UserProxy != "" {
		s.user, s.uerr = ParseProxyList(cfg.UserProxy)
	}
	return s
}

// The fixes of DESIGN.md's table, as their client-side effects. Fixes
// that act on the world (open-firewall, allow-range-requests) or only
// rerun (retry-later) have no method here.

// FlushDNS empties the DNS client cache (ipconfig /flushdns, or
// restarting the DNS Client service).
func (m *Machine) FlushDNS() { m.cache.flush() }

// RestartServices restarts the Windows Update services (net stop/start
// wuauserv bits cryptsvc): the service reads the proxy settings again.
func (m *Machine) RestartServices() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.running = true
	m.runningProxy = m.cfg.Proxy
}

// SetWinHTTPProxy configures the system proxy (netsh winhttp set proxy,
// proxycfg -p). "lab" is the world's proxy. A running service keeps the
// proxy it read at start until RestartServices.
func (m *Machine) SetWinHTTPProxy(list string) error {
	p, err := mapProxy("proxy", list, m.env)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Proxy = p
	return nil
}

// ImportIEProxy copies the user proxy to the system proxy (netsh winhttp
// import proxy source=ie, proxycfg -u); it takes effect at restart.
func (m *Machine) ImportIEProxy() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Proxy = m.cfg.UserProxy
}

// ResetWinHTTPProxy sets a direct connection (netsh winhttp reset proxy,
// proxycfg -d); it takes effect at restart.
func (m *Machine) ResetWinHTTPProxy() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Proxy = ""
}

// SetProxyCredentials gives the client credentials for the proxy's 407.
func (m *Machine) SetProxyCredentials(user, password string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Credentials = &Credentials{User: user, Password: password}
}

// EnableNegotiate lets the client answer Negotiate and NTLM challenges
// (EnableAuthenticateNegotiate).
func (m *Machine) EnableNegotiate() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range []string{SchemeNegotiate, SchemeNTLM} {
		if !slices.Contains(m.cfg.AuthSchemes, s) {
			m.cfg.AuthSchemes = append(m.cfg.AuthSchemes, s)
		}
	}
}

// SetDNS replaces the resolvers ("lab", "healthy", or host:port). The
// cache is kept, as on Windows.
func (m *Machine) SetDNS(servers ...string) error {
	var out []string
	for _, s := range servers {
		a, err := mapDNS(s, m.env)
		if err != nil {
			return err
		}
		out = append(out, a)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.DNS = out
	return nil
}

// UsePublicDNS points the client at the healthy resolver (use-public-dns).
func (m *Machine) UsePublicDNS() error { return m.SetDNS("healthy") }

// RemoveHostsOverride drops every hosts-file entry.
func (m *Machine) RemoveHostsOverride() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Hosts = nil
}

// TrustLabCA adds the lab CA to the trusted roots (trust-lab-ca,
// certutil -addstore Root lab-ca.cer).
func (m *Machine) TrustLabCA() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.TrustLabCA = true
}

// EnableTLS12Ciphers enables TLS 1.2 with Go's default (ECDHE) suites, as
// the cipher suite order policy of seed 000 does.
func (m *Machine) EnableTLS12Ciphers() {
	m.mu.Lock()
	defer m.mu.Unlock()
	const v12 = 0x0303
	if m.cfg.TLSMin == 0 || m.cfg.TLSMin > v12 {
		m.cfg.TLSMin = v12
	}
	m.cfg.TLSMax = max(m.cfg.TLSMax, v12)
	m.cfg.CipherSuites = nil
}

// ResetWUComponents is Microsoft's manual reset of the Windows Update
// components (KB971058): the services stop, the caches are renamed, the
// WinHTTP proxy is reset to direct (netsh winhttp reset proxy, proxycfg
// -d on XP) and the services start again, reading the direct setting.
func (m *Machine) ResetWUComponents() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.Proxy = ""
	m.running = true
	m.runningProxy = m.cfg.Proxy
}

// FixClock sets the clock offset to 0 (w32tm /resync).
func (m *Machine) FixClock() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cfg.ClockOffset = 0
}
