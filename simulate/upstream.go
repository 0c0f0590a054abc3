package simulate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/simulate/wsus"
)

// Limits of the upstream's HTTP port toward its clients.
const (
	originHeaderTimeout = 30 * time.Second
	originIdleTimeout   = 2 * time.Minute
)

// upstreamHTTP is the embedded upstream's HTTP port (WSUS 8530): the
// Windows Update emulator and the lab CA's revocation data, behind the
// same tcp.* and http.* faults as the proxy, so a lab pointed at the
// emulator directly (WUServer http://wsus.lab:8530) meets them without a
// proxy.
type upstreamHTTP struct {
	ln  net.Listener
	t   *connTracker
	srv *http.Server
}

// startUpstreamHTTP opens the HTTP port and serves it.
func (w *World) startUpstreamHTTP(addr string) (service, error) {
	h, err := w.upstreamHandler("upstream-http")
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &upstreamHTTP{ln: ln, t: newConnTracker(w, "upstream-http")}
	s.srv = &http.Server{
		Handler:           h,
		ConnContext:       connContext,
		ReadHeaderTimeout: originHeaderTimeout,
		IdleTimeout:       originIdleTimeout,
		MaxHeaderBytes:    proxyMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(w.log.With("service", "upstream-http").Handler(), slog.LevelDebug),
	}
	go func() { _ = s.srv.Serve(&admitListener{Listener: ln, t: s.t}) }()
	return s, nil
}

// Addr is the listening address.
func (s *upstreamHTTP) Addr() string { return s.ln.Addr().String() }

// Close stops accepting and ends every connection, stalled ones included.
func (s *upstreamHTTP) Close() error {
	conns := s.t.shutdown()
	err := s.srv.Close()
	for _, c := range conns {
		c.kill()
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
			Logger: w.log.With("service", "wsus"),
			OnReport: func(r wsus.Report) {
				c := codes.Code(r.Win32HResult)
				w.journal.Add(Event{Kind: EventReport, Scenario: w.Active().Name, Service: "wsus", Client: r.ComputerDNSName,
					Code: c.Hex(), Detail: fmt.Sprintf("ReportEventBatch event %d namespace %d update %s: %s", r.EventID, r.NamespaceID, r.UpdateID, c)})
			},
		})
	})
	return w.emu, w.emuErr
}

// upstreamHandler is what an upstream port serves: the revocation data
// under PKIPath, the emulator for everything else, behind the fault chain.
func (w *World) upstreamHandler(svc string) (http.Handler, error) {
	emu, err := w.emulator()
	if err != nil {
		return nil, fmt.Errorf("upstream emulator: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle(PKIPath+"/", w.pkiHandler())
	mux.Handle("/", emu)
	return w.faultChain(svc, mux), nil
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
		t := faults.Target{Host: r.Host, Path: r.URL.Path, Method: r.Method, Class: faults.ClassOf(r.URL.Path)}
		act := w.Active()
		ev := event{service: svc, conn: fc.id, req: w.journal.NewID(), client: fc.raw.RemoteAddr().String(), target: t}
		w.metrics.requests.WithLabelValues(svc, "origin", string(t.Class)).Inc()
		w.journal.Add(Event{Kind: EventRequest, Service: svc, Scenario: act.Name, Conn: ev.conn, Req: ev.req, Client: ev.client,
			Host: t.Host, Method: t.Method, Path: t.Path, Class: t.Class})
		pw := &phaseWriter{ResponseWriter: rw, w: w, fc: fc, ev: ev}
		defer func() {
			detail := ""
			if fc.ended() {
				detail = "connection ended by a fault"
			}
			w.metrics.responses.WithLabelValues(svc, statusClass(pw.status)).Inc()
			w.journal.Add(Event{Kind: EventResponse, Service: svc, Conn: ev.conn, Req: ev.req, Client: ev.client, Host: t.Host,
				Method: t.Method, Path: t.Path, Class: t.Class, Status: pw.status, Bytes: pw.bytes, Duration: time.Since(start), Detail: detail})
		}()
		// A stalled answer ends when the client gives up.
		stop := context.AfterFunc(r.Context(), func() {
			if fc.stalling.Load() {
				fc.kill()
			}
		})
		defer stop()

		fc.resetPath()
		pw.rules = splitPhases(act.Set.SelectFunc("tcp", t, keepOrigin))
		for _, a := range pw.rules.now {
			w.arm(fc, ev, a)
		}
		if fc.ended() {
			return
		}
		h := next
		for _, rule := range reversed(act.Set.Select("http", t)) {
			hook, ok := rule.Fault.(faults.HTTPHook)
			if !ok {
				continue
			}
			w.fired(ev, rule, faults.PhaseRequest)
			inner := h
			h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { hook.ServeHTTP(rw, r, inner) })
		}
		h.ServeHTTP(pw, r)
	})
}

// keepOrigin selects the tcp.* rules an origin port arms per request:
// those of a plain proxied request but the proxy phase, which only the
// proxy has.
func keepOrigin(r *faults.Rule) bool {
	return keepPlain(r) && shapeOf(r).phase != faults.PhaseProxy
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
	mux := http.NewServeMux()
	mux.Handle(PKIPath+"/", w.pkiHandler())
	mux.Handle("/", emu)
	o := &internalOrigin{srv: &http.Server{
		Handler:           mux,
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
				name := strings.ToLower(strings.TrimSuffix(chi.ServerName, "."))
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
