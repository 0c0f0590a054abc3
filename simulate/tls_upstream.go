package simulate

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/wufault/wufault/faults"
)

// Limits of the upstream's HTTPS port toward its clients.
const (
	tlsUpstreamHeaderTimeout = 30 * time.Second
	tlsUpstreamIdleTimeout   = 2 * time.Minute
)

// upstreamHTTPS is the embedded upstream's HTTPS port (WSUS 8531): every
// connection is admitted (allowed clients, connection-wide tcp.* rules),
// then TLS is terminated with the lab CA under the active tls.* rules
// (tlsListener, the same machinery as the proxy's MITM), then HTTP is
// served. A lab pointed at the emulator directly (WUServer
// https://wsus.lab:8531) meets the same TLS faults as one behind the proxy.
type upstreamHTTPS struct {
	w   *World
	ln  net.Listener
	tl  *tlsListener
	srv *http.Server

	mu      sync.Mutex
	conns   map[*faultConn]struct{}
	closing bool
}

// startUpstreamHTTPS opens the HTTPS port and serves it. It creates the
// lab CA first, so a CA problem fails the start, not the first client.
func (w *World) startUpstreamHTTPS(addr string) (service, error) {
	if _, err := w.tlsSetup(); err != nil {
		return nil, err
	}
	h, err := w.upstreamTLSHandler()
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &upstreamHTTPS{w: w, ln: ln, conns: map[*faultConn]struct{}{}}
	s.tl = w.newTLSListener(&httpsAdmitListener{Listener: ln, s: s}, "upstream-https", DefaultTLSHost)
	s.srv = &http.Server{
		Handler:           h,
		ConnContext:       connContext,
		ReadHeaderTimeout: tlsUpstreamHeaderTimeout,
		IdleTimeout:       tlsUpstreamIdleTimeout,
		MaxHeaderBytes:    proxyMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(w.log.With("service", "upstream-https").Handler(), slog.LevelDebug),
	}
	go func() { _ = s.srv.Serve(s.tl) }()
	return s, nil
}

// upstreamTLSHandler is what the HTTPS port serves: the same emulator,
// revocation data and fault chain as the HTTP port.
func (w *World) upstreamTLSHandler() (http.Handler, error) {
	return w.upstreamHandler("upstream-https")
}

// Addr is the listening address.
func (s *upstreamHTTPS) Addr() string { return s.ln.Addr().String() }

// Close stops accepting, ends every connection and waits for the
// handshakes in progress.
func (s *upstreamHTTPS) Close() error {
	s.mu.Lock()
	s.closing = true
	conns := make([]*faultConn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.srv.Close()
	_ = s.tl.Close()
	for _, c := range conns {
		c.kill()
	}
	s.tl.Wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// httpsAdmitListener admits connections to the HTTPS port as the proxy admits
// its own: only allowed clients; the connection-wide tcp.* rules (empty
// match: refuse, shaping, phase connect) armed before the first byte.
type httpsAdmitListener struct {
	net.Listener
	s *upstreamHTTPS
}

// Accept returns the next admitted connection.
func (l *httpsAdmitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if fc := l.s.admit(c); fc != nil {
			return fc, nil
		}
	}
}

func (s *upstreamHTTPS) admit(raw net.Conn) *faultConn {
	w := s.w
	const svc = "upstream-https"
	client := raw.RemoteAddr().String()
	if !w.clientAllowed(raw.RemoteAddr()) {
		w.metrics.conns.WithLabelValues(svc, "denied").Inc()
		w.journal.Add(Event{Kind: EventConnClose, Service: svc, Client: client, Detail: "client not allowed (not loopback, not in --allow-cidr): closed"})
		_ = faults.Abort(raw)
		return nil
	}
	id := w.journal.NewID()
	act := w.Active()
	fc := newFaultConn(raw, id, uint64(act.Seed)*0x9e3779b97f4a7c15^id, s.closed)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		_ = raw.Close()
		return nil
	}
	s.conns[fc] = struct{}{}
	s.mu.Unlock()
	w.metrics.conns.WithLabelValues(svc, "accepted").Inc()
	w.metrics.open.WithLabelValues(svc).Inc()
	w.journal.Add(Event{Kind: EventConnOpen, Service: svc, Conn: id, Client: client, Scenario: act.Name})
	ev := event{service: svc, conn: id, client: client}
	for _, r := range act.Set.SelectFunc("tcp", faults.Target{}, keepAccept) {
		w.arm(fc, ev, armed{rule: r, shape: shapeOf(r)})
	}
	if fc.ended() {
		w.metrics.conns.WithLabelValues(svc, "refused").Inc()
		_ = fc.Close()
		return nil
	}
	fc.promote()
	return fc
}

// closed is every connection's end: journal, metrics, bookkeeping.
func (s *upstreamHTTPS) closed(fc *faultConn) {
	const svc = "upstream-https"
	s.mu.Lock()
	delete(s.conns, fc)
	s.mu.Unlock()
	m := s.w.metrics
	m.open.WithLabelValues(svc).Dec()
	m.bytes.WithLabelValues(svc, "to_client").Add(float64(fc.out.Load()))
	m.bytes.WithLabelValues(svc, "from_client").Add(float64(fc.in.Load()))
	detail := ""
	switch {
	case fc.sock.aborted.Load():
		detail = "reset by a fault"
	case fc.sock.halfClosed.Load():
		detail = "FIN sent by a fault"
	}
	s.w.journal.Add(Event{Kind: EventConnClose, Service: svc, Conn: fc.id, Client: fc.raw.RemoteAddr().String(),
		Bytes: fc.out.Load(), Duration: time.Since(fc.since), Detail: detail})
}
