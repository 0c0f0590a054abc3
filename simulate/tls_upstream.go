package simulate

import (
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
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

	t *connTracker
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
	s := &upstreamHTTPS{w: w, ln: ln, t: newConnTracker(w, "upstream-https")}
	s.tl = w.newTLSListener(&admitListener{Listener: ln, t: s.t}, "upstream-https", DefaultTLSHost)
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
	conns := s.t.shutdown()
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
