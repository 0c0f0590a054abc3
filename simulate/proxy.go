package simulate

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/elazarl/goproxy"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// Limits of the proxy toward its clients.
const (
	proxyReadHeaderTimeout = 30 * time.Second // a half-sent request head is dropped then
	proxyIdleTimeout       = 2 * time.Minute  // an idle keep-alive connection is closed then
	proxyMaxHeaderBytes    = 64 << 10         // larger request heads get 431
	tunnelLinger           = 30 * time.Second // after one side of a tunnel ended, the other gets this long
)

// proxyService is the world's forward proxy: plain HTTP requests are
// forwarded by goproxy, CONNECT tunnels are spliced by the service itself
// (goproxy's hijack drops bytes a client pipelines after the CONNECT head),
// and every request passes the fault layers on its way:
//
//	accept      tcp.* rules for the whole connection (connTracker.admit)
//	request     tcp.* rules armed on the connection's write path
//	proxy.*     ProxyHook chain (deny CONNECT, 407 authentication)
//	http.*      HTTPHook chain, around
//	goproxy     the upstream exchange (502/504 pages for upstream failures)
//
// Requests inside a CONNECT tunnel that some rule for its host needs to
// see are served by a second http.Server (inner) with the same handler:
// plain HTTP as it comes, TLS once the lab CA terminated it
// (World.interceptTLS).
type proxyService struct {
	w       *World
	ln      net.Listener
	srv     *http.Server
	inner   *http.Server
	innerLn *chanListener
	gp      *goproxy.ProxyHttpServer
	tr      *http.Transport
	up      *upstream
	origins *originPool // the splicing exchange's origin connections

	// parker holds the origin side of tunnels before the origin's first
	// bytes (nil: two goroutines per tunnel from the start).
	parker *parker

	t    *connTracker // the client connections
	gate              // handlers and tunnel copies

	quiet quietRelease // what a load leaves behind, released once it is over
}

type connKey struct{}
type tunnelKey struct{}
type reqKey struct{}

// tunnel describes the CONNECT an intercepted connection belongs to.
type tunnel struct {
	host    string // host:port of the CONNECT
	scheme  string // http, or https behind the MITM
	connect uint64 // request id of the CONNECT
}

// reqState carries what the layers learn about one request to its
// journal entry.
type reqState struct {
	req    *http.Request // as the client sent it (its context ends when the client leaves)
	body   *deadlineBody // the request body, nil without one
	status int
	detail string
	bytes  int64  // tunnel bytes toward the client
	async  bool   // the tunnel outlives the handler and journals its own end
	finish func() // journals the answer
}

// startProxy opens the proxy listener and serves it.
func (w *World) startProxy(addr string) (service, error) {
	if pp := w.opts.ParentProxy; pp != nil && (pp.Scheme != "http" || pp.Host == "") {
		return nil, fmt.Errorf("parent proxy %q: want http://host:port", pp.Redacted())
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	p := &proxyService{w: w, ln: ln, t: newConnTracker(w, "proxy")}
	if k, err := newParker(); err == nil {
		p.parker = k
	} else {
		w.log.Debug("tunnels without a parker", "service", "proxy", "err", err)
	}
	p.up = newUpstream(w)
	p.tr = &http.Transport{
		DialContext:           p.up.dialDirect,
		DialTLSContext:        p.up.dialTLS,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       upstreamIdleTimeout,
		ResponseHeaderTimeout: upstreamHeaderTimeout,
		TLSHandshakeTimeout:   upstreamDialTimeout,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		TLSNextProto:          map[string]func(string, *tls.Conn) http.RoundTripper{}, // no HTTP/2 upstream
	}
	if w.opts.ParentProxy != nil {
		p.tr.Proxy = p.up.proxyFunc
	}
	gp := goproxy.NewProxyHttpServer()
	gp.Tr = p.tr
	gp.ConnectDial = nil // NewProxyHttpServer wires $HTTPS_PROXY in here
	gp.ConnectDialWithReq = nil
	gp.KeepAcceptEncoding = true // pass the client's Accept-Encoding untouched
	gp.Logger = goproxyLogger{w.log.With("service", "proxy")}
	gp.NonproxyHandler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Error(rw, "wufault proxy: send absolute-URI requests or CONNECT", http.StatusBadRequest)
	})
	p.origins = newOriginPool(p.up.dialDirect, func() time.Duration { return p.tr.ResponseHeaderTimeout })
	gp.OnRequest().DoFunc(p.useSplicer)
	gp.OnResponse().DoFunc(p.upstreamFailure)
	p.gp = gp

	errLog := slog.NewLogLogger(w.log.With("service", "proxy").Handler(), slog.LevelDebug)
	server := func() *http.Server {
		return &http.Server{
			Handler:           p,
			ConnContext:       connContext,
			ReadHeaderTimeout: proxyReadHeaderTimeout,
			IdleTimeout:       proxyIdleTimeout,
			MaxHeaderBytes:    proxyMaxHeaderBytes,
			ErrorLog:          errLog,
		}
	}
	p.quiet.release = p.releaseIdle
	p.t.idle = p.quiet.arm
	p.srv, p.inner = server(), server()
	p.innerLn = newChanListener(ln.Addr())
	fl := &admitListener{Listener: ln, t: p.t}
	go func() { _ = p.srv.Serve(fl) }()
	go func() { _ = p.inner.Serve(p.innerLn) }()
	return p, nil
}

// Addr is the proxy's listening address.
func (p *proxyService) Addr() string { return p.ln.Addr().String() }

// Close stops accepting, ends every connection (stalls included) and waits
// for the handlers and tunnel copies to return.
func (p *proxyService) Close() error {
	p.quiet.stop()
	p.shut()
	conns := p.t.shutdown()
	err := p.srv.Close()
	_ = p.inner.Close()
	_ = p.innerLn.Close()
	for _, c := range conns {
		c.kill()
	}
	p.tr.CloseIdleConnections()
	p.origins.closeIdle(false)
	p.wait()
	p.tr.CloseIdleConnections()
	p.origins.closeIdle(true)
	if p.parker != nil {
		p.parker.Close()
	}
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// boundBody gives the reading of r's body d: the connection's read
// deadline, lifted once the body is read whole (a slow client must not
// hold a handler forever; a slow answer after it is the origin's). The
// body remembers how the client broke it, if it did.
func boundBody(rw http.ResponseWriter, r *http.Request, d time.Duration) *deadlineBody {
	if r.Body == nil || r.Body == http.NoBody {
		return nil
	}
	b := &deadlineBody{ReadCloser: r.Body, rc: http.NewResponseController(rw)}
	if d > 0 && b.rc.SetReadDeadline(time.Now().Add(d)) != nil {
		return nil
	}
	b.limit = d
	r.Body = b
	return b
}

// deadlineBody lifts the read deadline at the body's end and keeps the
// client's error.
type deadlineBody struct {
	io.ReadCloser
	rc    *http.ResponseController
	limit time.Duration
	done  bool
	err   error // how the client broke the body (nil: it did not)
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF && !b.done:
		b.done = true
		_ = b.rc.SetReadDeadline(time.Time{})
	case err != nil && err != io.EOF && !errors.Is(err, http.ErrBodyReadAfterClose) && b.err == nil:
		// (a read after the body was closed is the reader's doing: the
		// origin answered before it took the whole body, say)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = fmt.Errorf("request body not received within %v: %w", b.limit, err)
		}
		b.err = err
	}
	return n, err
}

// clientError says whether err, met while serving r, is the client's
// doing: a body it broke (a bad chunk size, too slow), or a connection it
// closed (or half-closed) before the answer. It gives the journal's
// detail and the status a proxy answers.
func clientError(r *http.Request, body *deadlineBody, err error) (detail string, status int, ok bool) {
	if body != nil && body.err != nil {
		status = http.StatusBadRequest
		if errors.Is(body.err, os.ErrDeadlineExceeded) {
			status = http.StatusRequestTimeout
		}
		return "client: " + body.err.Error(), status, true
	}
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		return "client: connection closed before the answer (" + err.Error() + ")", http.StatusBadRequest, true
	}
	return "", 0, false
}

// closeAfter ends the connection once the answer is out: after a broken
// body nothing more on it can be read as a request.
func closeAfter(rw http.ResponseWriter) {
	if c, _, err := http.NewResponseController(rw).Hijack(); err == nil {
		_ = c.Close()
	}
}

// connContext gives handlers the connection a request arrived on.
func connContext(ctx context.Context, c net.Conn) context.Context {
	for x := c; x != nil; x = faults.Unwrap(x) {
		switch v := x.(type) {
		case *interceptConn:
			return faults.WithConnID(context.WithValue(context.WithValue(ctx, connKey{}, v.faultConn), tunnelKey{}, v.tun), v.faultConn.id)
		case *faultConn:
			// The id keys per-connection state of hooks (NTLM's challenge).
			return faults.WithConnID(context.WithValue(ctx, connKey{}, v), v.id)
		}
	}
	return ctx
}

// ServeHTTP handles one request on the proxy port or inside an
// intercepted tunnel.
func (p *proxyService) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if !p.enter() {
		http.Error(rw, "wufault proxy is shutting down", http.StatusServiceUnavailable)
		return
	}
	defer p.leave()
	w := p.w
	fc, _ := r.Context().Value(connKey{}).(*faultConn)
	tun, _ := r.Context().Value(tunnelKey{}).(*tunnel)
	if fc == nil {
		http.Error(rw, "wufault proxy: no connection state", http.StatusInternalServerError)
		return
	}
	start := time.Now()
	connect := r.Method == http.MethodConnect
	var body *deadlineBody
	if !connect {
		body = boundBody(rw, r, w.opts.BodyTimeout)
	}
	if tun != nil {
		if connect {
			http.Error(rw, "CONNECT inside a tunnel", http.StatusMethodNotAllowed)
			return
		}
		r.URL.Scheme, r.URL.Host = tun.scheme, tun.host
	}
	if !connect && !r.URL.IsAbs() {
		w.journal.Add(Event{Kind: EventRequest, Service: "proxy", Conn: fc.id, Method: r.Method, Path: r.URL.Path, Detail: "not a proxy request (relative URL): 400"})
		p.gp.NonproxyHandler.ServeHTTP(rw, r)
		return
	}
	host := r.URL.Host
	if connect || host == "" {
		host = r.Host
	}
	t := faults.Target{Host: host, Method: r.Method}
	kind := "connect"
	if !connect {
		t.Path = r.URL.Path
		t.Class = profile.ClassOf(host, r.URL.Path)
		kind = "http"
		if tun != nil {
			kind = "intercepted"
		}
	}
	act := w.activeForAddr(fc.client)
	ev := w.beginRequest("proxy", kind, fc, t, act)

	st := &reqState{body: body, req: r}
	r = r.WithContext(context.WithValue(r.Context(), reqKey{}, st))
	pw := &phaseWriter{ResponseWriter: rw, w: w, fc: fc, ev: ev}
	// finish journals the answer. A tunnel calls it when it ends, long
	// after the handler: it must not hold net/http's state (pw, r).
	st.finish = func() { w.endRequest(ev, fc, st.status, st.bytes, start, st.detail) }
	defer func() {
		if st.async {
			return
		}
		if st.status == 0 {
			st.status = pw.status // an answer written through the hooks (403 to a CONNECT, say)
		}
		if body != nil && body.err != nil {
			if !strings.HasPrefix(st.detail, "client: ") {
				st.detail, _, _ = clientError(r, body, nil)
				w.metrics.clientErr.WithLabelValues("proxy").Inc()
			}
			closeAfter(rw)
		}
		if !connect {
			st.bytes = pw.bytes
		}
		st.finish()
	}()

	stop := fc.endStallWhenDone(r.Context())
	defer stop()

	if tun == nil {
		target := canonicalAddr(r.URL)
		if connect {
			target = connectTarget(r.Host)
		}
		if ref, refused := asRefused(p.up.checkTarget(target)); refused {
			st.detail = w.refusePage(pw, ref)
			return
		}
	}
	if connect {
		p.serveProxyHooks(pw, r, act, ev, func(rw http.ResponseWriter, r *http.Request) { p.serveConnect(rw, r, fc, act, ev, st) })
		return
	}
	at := momentPlain
	if tun != nil {
		at = momentInner
	}
	slot := &r.Body
	if body != nil {
		slot = &body.ReadCloser
	}
	rules, ok := w.armRequest(fc, act, ev, at, slot)
	if !ok {
		return
	}
	pw.rules = rules
	h := w.wrapHTTP(act, ev, p.gp)
	if tun == nil && h == http.Handler(p.gp) && p.spliceable(r) {
		// No http.* rule sees this answer: its body may be spliced.
		r = r.WithContext(context.WithValue(r.Context(), spliceKey{}, struct{}{}))
	}
	if tun != nil {
		h.ServeHTTP(pw, r)
		return
	}
	p.serveProxyHooks(pw, r, act, ev, h.ServeHTTP)
}

// serveProxyHooks runs the proxy.* rules that fire for the request in
// front of last.
func (p *proxyService) serveProxyHooks(rw http.ResponseWriter, r *http.Request, act *Active, ev event, last http.HandlerFunc) {
	var h http.Handler = last
	for _, rule := range reversed(act.Set.Select("proxy", ev.target)) {
		hook, ok := rule.Fault.(faults.ProxyHook)
		if !ok {
			continue
		}
		p.w.fired(ev, rule, profile.PhaseProxy)
		next := h
		h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			// Authentication legs reach the journal (auth.go), without secrets.
			hook.ServeProxy(rw, r.WithContext(p.w.authContext(r.Context(), ev, rule)), next)
		})
	}
	h.ServeHTTP(rw, r)
}

// reversed returns rs in reverse order (rs is the caller's own slice).
func reversed(rs []*faults.Rule) []*faults.Rule {
	slices.Reverse(rs)
	return rs
}

// upstreamFailure turns an upstream error on a forwarded request into the
// answer a real proxy gives: 504 for a timeout, 502 otherwise, with a
// short HTML page.
func (p *proxyService) upstreamFailure(resp *http.Response, ctx *goproxy.ProxyCtx) *http.Response {
	if resp != nil || ctx.Error == nil {
		return resp
	}
	st, _ := ctx.Req.Context().Value(reqKey{}).(*reqState)
	if st != nil {
		if detail, status, ok := clientError(st.req, st.body, ctx.Error); ok {
			p.w.metrics.clientErr.WithLabelValues("proxy").Inc()
			st.detail = detail
			return goproxy.NewResponse(ctx.Req, "text/html; charset=utf-8", status, faults.HTMLPage(status, "the request could not be read from the client"))
		}
	}
	if ref, refused := asRefused(ctx.Error); refused {
		p.w.metrics.refused.Inc()
		if st != nil {
			st.detail = "refused: " + ref.Error()
		}
		return goproxy.NewResponse(ctx.Req, "text/html; charset=utf-8", http.StatusForbidden, ref.page())
	}
	if st != nil {
		st.detail = "upstream: " + ctx.Error.Error()
	}
	status, page := p.w.upstreamPage(ctx.Error)
	return goproxy.NewResponse(ctx.Req, "text/html; charset=utf-8", status, page)
}

// goproxyLogger routes goproxy's Printf logging to slog at debug level
// (its warnings are mostly clients and faults cutting copies short).
type goproxyLogger struct{ l *slog.Logger }

func (g goproxyLogger) Printf(format string, v ...any) {
	g.l.Debug(fmt.Sprintf(format, v...))
}

// chanListener hands intercepted tunnel connections to the inner server.
type chanListener struct {
	addr net.Addr
	ch   chan net.Conn
	done chan struct{}
	once sync.Once
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, ch: make(chan net.Conn), done: make(chan struct{})}
}

// Accept returns the next pushed connection.
func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ch:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// push hands c to the server; false when closed.
func (l *chanListener) push(c net.Conn) bool {
	select {
	case l.ch <- c:
		return true
	case <-l.done:
		return false
	}
}

// Close stops Accept.
func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr is the proxy's address.
func (l *chanListener) Addr() net.Addr { return l.addr }
