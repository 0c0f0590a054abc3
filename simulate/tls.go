package simulate

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// TLS endpoints of the world.
const (
	// DefaultTLSHost is the name the upstream's HTTPS port presents to a
	// client that sends no server name (SNI), as when it connects by IP.
	DefaultTLSHost = "wsus.lab"
	// tlsHandshakeTimeout bounds a handshake: a client that sends garbage,
	// half a ClientHello or nothing at all loses its connection then.
	tlsHandshakeTimeout = 10 * time.Second
)

// tlsLazy holds the world's TLS side once something needs it.
type tlsLazy struct {
	mu sync.Mutex
	st *tlsState
}

// tlsState is the world's TLS side: the lab CA and the issuer under it.
type tlsState struct {
	ca               *CA
	is               *issuer
	handshakeTimeout time.Duration
}

// LabCA returns the world's lab CA: loaded from Options.StateDir, created
// there on first use, or held in memory when StateDir is empty (tests).
func (w *World) LabCA() (*CA, error) {
	st, err := w.tlsSetup()
	if err != nil {
		return nil, err
	}
	return st.ca, nil
}

// tlsSetup opens the lab CA and creates the issuer, once; a failure is
// returned to every caller until a later call succeeds.
func (w *World) tlsSetup() (*tlsState, error) {
	w.tls.mu.Lock()
	defer w.tls.mu.Unlock()
	if w.tls.st != nil {
		return w.tls.st, nil
	}
	domains, err := CADomains(w.opts.InterceptHosts...)
	if err != nil {
		return nil, err
	}
	var ca *CA
	if w.opts.StateDir == "" {
		ca, err = NewCA(domains)
	} else {
		var created bool
		ca, created, err = OpenCA(w.opts.StateDir, domains)
		if created {
			w.log.Info("created the lab CA; a Windows client trusts it after: certutil -addstore Root lab-ca.cer (wufault ca export)", "key", ca.KeyPath())
			w.journal.Add(Event{Kind: EventCA, Detail: fmt.Sprintf("created the lab CA %q (thumbprint %s, key %s); on each Windows VM: certutil -addstore Root lab-ca.cer (wufault ca export --out lab-ca.cer)",
				ca.Certificate().Subject.CommonName, ca.Thumbprint(), ca.KeyPath())})
		}
		if err == nil {
			if missing := ca.Missing(domains); len(missing) > 0 {
				w.log.Warn("the lab CA's name constraints do not cover names of the configuration: TLS to them is not intercepted; recreate the CA with wufault ca init --force and import it again", "missing", missing)
			}
		}
	}
	if err != nil {
		return nil, err
	}
	is, err := newIssuer(ca, w.pkiBaseURL(), nil)
	if err != nil {
		return nil, err
	}
	w.tls.st = &tlsState{ca: ca, is: is, handshakeTimeout: tlsHandshakeTimeout}
	return w.tls.st, nil
}

// pkiBaseURL is where the certificates say the OCSP responder and the
// CRLs are: pki.lab (a lab-zone name, so the world's DNS and proxy route
// it to the emulator) on the upstream HTTP port. Without that port there is
// no responder to point at: "".
func (w *World) pkiBaseURL() string {
	_, port, err := net.SplitHostPort(w.addr("upstream-http"))
	if err != nil {
		return ""
	}
	host := pkiHostName
	if port != "80" {
		host = net.JoinHostPort(host, port)
	}
	return "http://" + host + PKIPath
}

// pkiHandler serves the revocation data under PKIPath: the upstream HTTP
// port mounts it (mux.Handle(PKIPath+"/", w.pkiHandler())).
func (w *World) pkiHandler() http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		st, err := w.tlsSetup()
		if err != nil {
			http.Error(rw, "lab CA unavailable", http.StatusServiceUnavailable)
			return
		}
		st.is.ServeHTTP(rw, r)
	})
}

// handshake is one TLS connection the world terminates: what it stands
// for, the rules it started with, and what its journal entries need.
type handshake struct {
	w       *World
	st      *tlsState
	act     *Active
	service string // upstream-https, proxy
	conn    uint64
	client  string
	host    string // the name without SNI: the CONNECT host, DefaultTLSHost

	mu     sync.Mutex
	sni    string   // the name the client asked for (host without SNI)
	fired  []string // kinds of the tls rules that fired
	failed bool     // a rule ended the handshake, or the world could not serve it
}

// newHandshake prepares the TLS side of conn, whose faults are those of
// the scenario active now.
func (w *World) newHandshake(st *tlsState, service string, conn net.Conn, host string) *handshake {
	hs := &handshake{w: w, st: st, service: service, host: host}
	if fc := findFaultConn(conn); fc != nil {
		hs.conn, hs.client = fc.id, fc.client
	} else {
		hs.conn, hs.client = w.journal.NewID(), conn.RemoteAddr().String()
	}
	hs.act = w.activeForAddr(hs.client)
	return hs
}

// findFaultConn returns the world's connection under c, if any.
func findFaultConn(c net.Conn) *faultConn {
	for range 32 {
		if fc, ok := c.(*faultConn); ok {
			return fc
		}
		if c = faults.Unwrap(c); c == nil {
			return nil
		}
	}
	return nil
}

// config is the server configuration of the connection: per ClientHello,
// the tls.* rules that fire for the name asked for shape it in scenario
// order, each hook seeing the previous one's result as its base.
func (hs *handshake) config() *tls.Config {
	base := &tls.Config{
		// Windows 7 and 8 clients may still speak TLS 1.0 only; a fault
		// (tls.version) narrows this, the base accepts what they send.
		MinVersion: tls.VersionTLS10,
		NextProtos: []string{"http/1.1"},
		GetCertificate: func(chi *tls.ClientHelloInfo) (*tls.Certificate, error) {
			return hs.env(nil).Certificate(chi.ServerName, "")
		},
		VerifyConnection: hs.succeeded,
	}
	return &tls.Config{GetConfigForClient: func(hello *tls.ClientHelloInfo) (*tls.Config, error) { return hs.configFor(hello, base) }}
}

func (hs *handshake) configFor(hello *tls.ClientHelloInfo, base *tls.Config) (*tls.Config, error) {
	name := normName(hello.ServerName)
	if name == "" {
		name = hs.host
	}
	hs.mu.Lock()
	hs.sni = name
	hs.mu.Unlock()
	cfg := base
	for _, r := range hs.act.Set.Select("tls", faults.Target{Host: name}) {
		hook, ok := r.Fault.(faults.TLSHook)
		if !ok {
			continue
		}
		hs.ruleFired(r, name)
		next, err := hook.ConfigForClient(hello, hs.env(cfg))
		if err != nil {
			hs.mu.Lock()
			hs.failed = true
			hs.mu.Unlock()
			if !errors.Is(err, faults.ErrInjected) {
				hs.w.journal.Add(Event{Kind: EventError, Service: hs.service, Conn: hs.conn, Client: hs.client, Host: name,
					Phase: profile.PhaseHandshake, Fault: r.Kind, Rule: r.Index + 1, Detail: err.Error()})
			}
			return nil, err
		}
		if next != nil {
			cfg = next
		}
	}
	return cfg, nil
}

// ruleFired journals a tls.* rule that was selected for the handshake.
func (hs *handshake) ruleFired(r *faults.Rule, name string) {
	hs.mu.Lock()
	hs.fired = append(hs.fired, r.Kind)
	hs.mu.Unlock()
	m := hs.w.metrics
	m.fired.WithLabelValues(r.Kind).Inc()
	m.acted.WithLabelValues(r.Kind).Inc()
	hs.w.journal.Add(Event{Kind: EventFault, Scenario: hs.act.Name, Service: hs.service, Conn: hs.conn, Client: hs.client, Host: name,
		Phase: profile.PhaseHandshake, Fault: r.Kind, Rule: r.Index + 1, Detail: params(r.Fault)})
}

// params renders a fault's parameters for the journal ("" when it has none).
func params(f faults.Fault) string {
	b, err := json.Marshal(f)
	if err != nil || string(b) == "{}" {
		return ""
	}
	return string(b)
}

// succeeded journals a finished handshake (VerifyConnection runs on every
// successful server handshake).
func (hs *handshake) succeeded(cs tls.ConnectionState) error {
	hs.mu.Lock()
	detail := tls.VersionName(cs.Version) + " " + tls.CipherSuiteName(cs.CipherSuite)
	if len(hs.fired) > 0 {
		detail += ", faults " + strings.Join(hs.fired, " ")
	}
	if len(cs.PeerCertificates) > 0 {
		detail += ", client certificate " + cs.PeerCertificates[0].Subject.CommonName
	}
	name := hs.sni
	hs.mu.Unlock()
	hs.w.journal.Add(Event{Kind: EventHandshake, Service: hs.service, Conn: hs.conn, Client: hs.client, Host: name, Detail: detail})
	return nil
}

// finished journals a failed handshake (the listener path, which sees the
// error; a success was journaled by succeeded).
func (hs *handshake) finished(err error) {
	if err == nil {
		return
	}
	hs.mu.Lock()
	name, failed := hs.sni, hs.failed
	hs.mu.Unlock()
	detail := "failed: " + err.Error()
	if failed {
		detail = "ended by a fault: " + err.Error()
	}
	hs.w.journal.Add(Event{Kind: EventHandshake, Service: hs.service, Conn: hs.conn, Client: hs.client, Host: name, Detail: detail})
}

// env is the faults.TLSEnv a hook sees: base is the configuration so far.
func (hs *handshake) env(base *tls.Config) *tlsEnv { return &tlsEnv{hs: hs, base: base} }

// tlsEnv implements faults.TLSEnv for one handshake.
type tlsEnv struct {
	hs   *handshake
	base *tls.Config
}

// Base returns the configuration the handshake would use without the hook.
func (e *tlsEnv) Base() *tls.Config { return e.base }

// Certificate returns the certificate for host (the connection's own name
// when ""), shaped by profile. A name the lab CA may not issue for falls
// back to the connection's name: the client sees a name mismatch, as with
// a real server that does not know the name.
func (e *tlsEnv) Certificate(host, certProfile string) (*tls.Certificate, error) {
	host = normName(host)
	if host == "" {
		host = e.hs.host
	}
	c, err := e.hs.st.is.leaf(host, certProfile)
	if errors.Is(err, ErrNotPermitted) && host != e.hs.host {
		c, err = e.hs.st.is.leaf(e.hs.host, certProfile)
	}
	if err != nil {
		e.hs.w.journal.Add(Event{Kind: EventError, Service: e.hs.service, Conn: e.hs.conn, Client: e.hs.client, Host: host,
			Phase: profile.PhaseHandshake, Detail: "certificate: " + err.Error()})
	}
	return c, err
}

var _ faults.TLSEnv = (*tlsEnv)(nil)

// serveTLS terminates TLS on conn for service, standing for host when the
// client sends no SNI, under the active tls.* rules. It performs the
// handshake within the handshake timeout and journals the outcome; on
// failure conn is closed. The upstream HTTPS port runs it per accepted
// connection (tlsListener).
func (w *World) serveTLS(conn net.Conn, service, host string) (*tls.Conn, error) {
	st, err := w.tlsSetup()
	if err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("tls: %w", err)
	}
	hs := w.newHandshake(st, service, conn, host)
	tc := tls.Server(conn, hs.config())
	_ = conn.SetDeadline(time.Now().Add(st.handshakeTimeout))
	err = tc.Handshake()
	hs.finished(err)
	if err != nil {
		_ = conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return tc, nil
}

// interceptTLS returns the server side of a TLS connection over c for
// hostport, with the leaf of the lab CA (or what a tls.* rule presents
// instead). The handshake runs on the first read (the proxy's inner HTTP
// server does it, under its header timeout), after the proxy armed its
// handshake-phase connection rules. ok is false, and the tunnel stays
// opaque, when the lab CA may not issue for the host: the journal says why.
func (w *World) interceptTLS(c net.Conn, hostport string) (net.Conn, bool) {
	host := faults.NormHost(hostport)
	st, err := w.tlsSetup()
	if err != nil {
		w.journal.Add(Event{Kind: EventError, Service: "proxy", Client: c.RemoteAddr().String(), Host: host, Detail: "MITM: " + err.Error()})
		return nil, false
	}
	if !st.ca.Permits(host) {
		w.journal.Add(Event{Kind: EventError, Service: "proxy", Client: c.RemoteAddr().String(), Host: host,
			Detail: fmt.Sprintf("MITM: %s is outside the lab CA's name constraints %v: tunnel left opaque (add it to --intercept and run wufault ca init --force)", host, st.ca.Domains())})
		return nil, false
	}
	hs := w.newHandshake(st, "proxy", c, host)
	return tls.Server(c, hs.config()), true
}

// interceptWanted reports whether the proxy should terminate TLS in a
// tunnel to hostport: a tls.* or http.* rule could fire for the host, a
// tcp.* rule matching it looks inside HTTP (path or class), or the
// configuration lists it (Options.InterceptHosts). Every other tunnel is
// spliced untouched.
func (w *World) interceptWanted(set *faults.Set, hostport string) bool {
	if set.AnyForHost(hostport, "tls", "http") {
		return true
	}
	for _, r := range set.Rules() {
		if r.Layer() == "tcp" && r.Match.NeedsHTTP() && r.Match.MatchesHost(hostport) {
			return true
		}
	}
	host := faults.NormHost(hostport)
	for _, p := range w.opts.InterceptHosts {
		if faults.Glob(strings.ToLower(p), host) {
			return true
		}
	}
	return false
}

// tlsListener wraps a listener of admitted connections: Accept returns
// only TLS connections whose handshake finished (each handshake runs in
// its own goroutine, bounded by the handshake timeout, so a slow or broken
// client delays nobody). Failed handshakes are journaled and closed.
type tlsListener struct {
	net.Listener
	w       *World
	service string
	host    string

	ready chan *tls.Conn
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup

	mu      sync.Mutex
	pending map[net.Conn]struct{}
	err     error // why the accept loop stopped
}

// newTLSListener starts accepting from l.
func (w *World) newTLSListener(l net.Listener, service, host string) *tlsListener {
	tl := &tlsListener{Listener: l, w: w, service: service, host: host, ready: make(chan *tls.Conn), done: make(chan struct{}), pending: map[net.Conn]struct{}{}}
	tl.wg.Add(1)
	go tl.loop()
	return tl
}

func (tl *tlsListener) loop() {
	defer tl.wg.Done()
	backoff := 5 * time.Millisecond
	for {
		c, err := tl.Listener.Accept()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) { // EMFILE and the like: wait, retry
				tl.w.log.Debug("tls: accept", "service", tl.service, "err", err)
				select {
				case <-time.After(backoff):
					backoff = min(2*backoff, time.Second)
					continue
				case <-tl.done:
				}
			}
			tl.mu.Lock()
			tl.err = err
			tl.mu.Unlock()
			tl.Close()
			return
		}
		backoff = 5 * time.Millisecond
		tl.mu.Lock()
		select {
		case <-tl.done:
			tl.mu.Unlock()
			_ = c.Close()
			continue
		default:
		}
		tl.pending[c] = struct{}{}
		tl.wg.Add(1)
		tl.mu.Unlock()
		go tl.handshake(c)
	}
}

func (tl *tlsListener) handshake(c net.Conn) {
	defer tl.wg.Done()
	tc, err := tl.w.serveTLS(c, tl.service, tl.host)
	tl.mu.Lock()
	delete(tl.pending, c)
	tl.mu.Unlock()
	if err != nil {
		return
	}
	select {
	case tl.ready <- tc:
	case <-tl.done:
		_ = tc.Close()
	}
}

// Accept returns the next connection whose handshake finished.
func (tl *tlsListener) Accept() (net.Conn, error) {
	select {
	case c := <-tl.ready:
		return c, nil
	case <-tl.done:
		tl.mu.Lock()
		defer tl.mu.Unlock()
		if tl.err != nil && !errors.Is(tl.err, net.ErrClosed) {
			return nil, tl.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting and ends handshakes in progress. It does not wait
// for them (Accept's caller may be the one closing); Wait does.
func (tl *tlsListener) Close() error {
	var err error
	tl.once.Do(func() {
		close(tl.done)
		err = tl.Listener.Close()
		tl.mu.Lock()
		for c := range tl.pending {
			_ = c.Close()
		}
		tl.mu.Unlock()
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// Wait waits for the accept loop and the handshakes to end after Close.
func (tl *tlsListener) Wait() { tl.wg.Wait() }
