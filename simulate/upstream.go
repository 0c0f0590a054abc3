package simulate

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/simulate/wsus"
)

// Limits of the upstream ports toward their clients.
const (
	originHeaderTimeout = 30 * time.Second
	originIdleTimeout   = 2 * time.Minute
)

// upstreamPort is one port of the embedded upstream: HTTP (WSUS 8530) or
// HTTPS (8531). It serves the Windows Update emulator and the lab CA's
// revocation data behind the same tcp.* and http.* faults as the proxy,
// so a lab pointed at the emulator directly (WUServer
// http://wsus.lab:8530 or https://wsus.lab:8531) meets them without a
// proxy. Every connection is admitted first (allowed clients,
// connection-wide tcp.* rules); on the HTTPS port TLS is then terminated
// with the lab CA under the active tls.* rules (tlsListener, the same
// machinery as the proxy's MITM).
type upstreamPort struct {
	ln  net.Listener
	t   *connTracker
	tl  *tlsListener // HTTPS only
	srv *http.Server
}

// startUpstreamHTTP opens the HTTP port and serves it.
func (w *World) startUpstreamHTTP(addr string) (service, error) {
	return w.startUpstreamPort("upstream-http", addr, false)
}

// startUpstreamHTTPS opens the HTTPS port and serves it. It creates the
// lab CA first, so a CA problem fails the start, not the first client.
func (w *World) startUpstreamHTTPS(addr string) (service, error) {
	if _, err := w.tlsSetup(); err != nil {
		return nil, err
	}
	return w.startUpstreamPort("upstream-https", addr, true)
}

func (w *World) startUpstreamPort(svc, addr string, secure bool) (service, error) {
	emu, err := w.emulator()
	if err != nil {
		return nil, fmt.Errorf("upstream emulator: %w", err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &upstreamPort{ln: ln, t: newConnTracker(w, svc)}
	var l net.Listener = &admitListener{Listener: ln, t: s.t}
	if secure {
		s.tl = w.newTLSListener(l, svc, DefaultTLSHost)
		l = s.tl
	}
	s.srv = &http.Server{
		Handler:           w.faultChain(svc, w.originMux(emu)),
		ConnContext:       connContext,
		ReadHeaderTimeout: originHeaderTimeout,
		IdleTimeout:       originIdleTimeout,
		MaxHeaderBytes:    proxyMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(w.log.With("service", svc).Handler(), slog.LevelDebug),
	}
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Addr is the listening address.
func (s *upstreamPort) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, ends every connection (stalled ones included)
// and waits for the handshakes in progress.
func (s *upstreamPort) Close() error {
	conns := s.t.shutdown()
	err := s.srv.Close()
	if s.tl != nil {
		_ = s.tl.Close()
	}
	for _, c := range conns {
		c.kill()
	}
	if s.tl != nil {
		s.tl.Wait()
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// emulator returns the world's one Windows Update emulator, shared by the
// HTTP and HTTPS ports (and so by the proxy's routes to them): cookies and
// content are the same whichever port a client uses. Reports real
// clients send (ReportEventBatch) go to the journal with their code.
func (w *World) emulator() (*wsus.Server, error) {
	w.emuOnce.Do(func() {
		w.emu, w.emuErr = wsus.New(wsus.Options{
			Logger:      w.log.With("service", "wsus"),
			ContentPort: func() int { return portOf(w.addr("upstream-http")) },
			OnReport: func(r wsus.Report) {
				c := codes.Code(r.Win32HResult)
				w.journal.Add(Event{Kind: EventReport, Scenario: w.fleet.defaultName(), Service: "wsus", Client: r.ComputerDNSName,
					Code: c.Hex(), Detail: fmt.Sprintf("ReportEventBatch event %d namespace %d update %s: %s", r.EventID, r.NamespaceID, r.UpdateID, c)})
			},
		})
	})
	return w.emu, w.emuErr
}

// originMux is what the upstream ports and the internal origin serve: the
// revocation data under PKIPath, the emulator for everything else.
func (w *World) originMux(emu *wsus.Server) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle(PKIPath+"/", w.pkiHandler())
	mux.Handle("/", emu)
	return mux
}

// faultChain applies the active tcp.* and http.* rules to each request an
// origin port serves, as the proxy does for plain requests: tcp rules are
// armed on the connection at their phase, http hooks wrap next, and the
// request and its answer are journaled.
func (w *World) faultChain(svc string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		fc, _ := r.Context().Value(connKey{}).(*faultConn)
		if fc == nil {
			http.Error(rw, "wufault: no connection state", http.StatusInternalServerError)
			return
		}
		start := time.Now()
		t := faults.Target{Host: r.Host, Path: r.URL.Path, Method: r.Method, Class: profile.ClassOf(r.Host, r.URL.Path)}
		act := w.activeForAddr(fc.client)
		ev := w.beginRequest(svc, "origin", fc, t, act)
		pw := &phaseWriter{ResponseWriter: rw, w: w, fc: fc, ev: ev}
		defer func() { w.endRequest(ev, fc, pw.status, pw.bytes, start, "") }()
		stop := fc.endStallWhenDone(r.Context())
		defer stop()

		rules, ok := w.armRequest(fc, act, ev, momentOrigin, &r.Body)
		if !ok {
			return
		}
		pw.rules = rules
		w.wrapHTTP(act, ev, next).ServeHTTP(pw, r)
	})
}

// internalOrigin is the emulator as the world's own proxy reaches it: the
// same handler on two loopback listeners of its own (HTTP, and HTTPS with
// a good lab certificate), without faults. The proxy has already applied
// every fault its client meets; sending its upstream traffic through the
// public upstream ports would apply them twice (a corrupted body flipped
// back, a latency doubled, a handshake fault on the second hop).
type internalOrigin struct {
	http, https net.Listener
	srv         *http.Server
}

func (w *World) startInternalOrigin() (service, error) {
	emu, err := w.emulator()
	if err != nil {
		return nil, fmt.Errorf("upstream emulator: %w", err)
	}
	o := &internalOrigin{srv: &http.Server{
		Handler:           w.originMux(emu),
		ReadHeaderTimeout: originHeaderTimeout,
		IdleTimeout:       originIdleTimeout,
		ErrorLog:          slog.NewLogLogger(w.log.With("service", "internal-origin").Handler(), slog.LevelDebug),
	}}
	if o.http, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	go func() { _ = o.srv.Serve(o.http) }()
	if w.opts.UpstreamHTTPS != "" {
		st, err := w.tlsSetup()
		if err != nil {
			o.Close()
			return nil, err
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			o.Close()
			return nil, err
		}
		o.https = tls.NewListener(ln, &tls.Config{
			MinVersion: tls.VersionTLS10,
			NextProtos: []string{"http/1.1"},
			GetCertificate: func(chi *tls.ClientHelloInfo) (*tls.Certificate, error) {
				name := normName(chi.ServerName)
				if name == "" {
					name = DefaultTLSHost
				}
				return st.is.leaf(name, "")
			},
		})
		go func() { _ = o.srv.Serve(o.https) }()
	}
	return o, nil
}

// Addr is the internal HTTP listener (not published in Addrs).
func (o *internalOrigin) Addr() string { return "" }

// addrs are both listeners' addresses.
func (o *internalOrigin) addrs() []string {
	var out []string
	for _, l := range []net.Listener{o.http, o.https} {
		if l != nil {
			out = append(out, l.Addr().String())
		}
	}
	return out
}

// Close stops both listeners.
func (o *internalOrigin) Close() error {
	err := o.srv.Close()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// isInternal reports whether addr is one of the internal origin's
// listeners.
func (w *World) isInternal(addr string) bool {
	return addr != "" && (addr == w.internalAddr(true) || addr == w.internalAddr(false))
}

// internalAddr is where the proxy sends traffic for the emulator: the
// internal HTTPS listener for https ports, the HTTP one otherwise.
func (w *World) internalAddr(https bool) string {
	w.mu.Lock()
	defer w.mu.Unlock()
	o, ok := w.services["internal-origin"].(*internalOrigin)
	if !ok {
		// A world assembled by hand (tests) without an internal origin:
		// the published ports stand in.
		name := "upstream-http"
		if https {
			name = "upstream-https"
		}
		if s, ok := w.services[name]; ok {
			return s.Addr()
		}
		return ""
	}
	if https {
		if o.https == nil {
			return ""
		}
		return o.https.Addr().String()
	}
	return o.http.Addr().String()
}
