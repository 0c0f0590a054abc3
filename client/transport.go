package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// Limits of WinHTTP that the transport enforces.
const (
	// maxRedirects is WinHTTP's default limit of automatic redirects
	// (WINHTTP_OPTION_MAX_HTTP_AUTOMATIC_REDIRECTS); past it WinHTTP fails
	// with 12156.
	maxRedirects = 10
	// maxHeaderBytes is WinHTTP's default maximum response header size
	// (WINHTTP_OPTION_MAX_RESPONSE_HEADER_SIZE, 64 KiB); past it 12182.
	maxHeaderBytes = 64 << 10
	// maxHeaderLines bounds the number of header lines; past it 12181.
	// WinHTTP's own count limit is not in our references (inferred).
	maxHeaderLines = 1000
	// maxBody bounds a response body held in memory.
	maxBody = 256 << 20
	// maxAuthLegs bounds the 407 round trips of one request.
	maxAuthLegs = 4
)

// request is one HTTP request of the session.
type request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
}

// response is a complete HTTP response.
type response struct {
	Status int
	Header http.Header
	Body   []byte
	URL    string // the final URL, after redirects
	Proxy  string // the proxy it came through, empty when direct
}

// statusError is the failure of a response whose status the caller does
// not accept: a *StatusError in the headers phase.
func (r *response) statusError() error {
	return &TransportError{Phase: profile.PhaseHeaders, URL: r.URL, Proxy: r.Proxy,
		Err: &StatusError{Status: r.Status, ContentType: r.Header.Get("Content-Type")}}
}

// transport is an HTTP/1.1 client with WinHTTP semantics: its own
// resolver, per-operation timeouts, proxies with CONNECT for HTTPS, proxy
// authentication, keep-alive, automatic redirects, and errors that carry
// the phase they happened in. It never consults the host's resolver or
// proxy settings.
type transport struct {
	res     *resolver
	tls     *tls.Config // base; ServerName set per connection
	auth    *authenticator
	connect time.Duration // scaled WinHTTP timeouts
	send    time.Duration
	recv    time.Duration
	log     *slog.Logger

	mu   sync.Mutex
	idle map[string]*pconn
}

// pconn is a connection ready for requests: to the origin (direct, or a
// tunnel through a proxy) or to a proxy for plain HTTP.
type pconn struct {
	w      *wconn   // the socket
	c      net.Conn // w, or a TLS client over it
	br     *bufio.Reader
	lim    *headerLimit
	key    string
	reused bool
}

// headerLimit counts the bytes and lines read while a response's headers
// are parsed and fails past WinHTTP's limits.
type headerLimit struct {
	r      io.Reader
	on     bool
	bytes  int
	lines  int
	failed error
}

func (h *headerLimit) Read(p []byte) (int, error) {
	if h.failed != nil {
		return 0, h.failed
	}
	n, err := h.r.Read(p)
	if h.on {
		h.bytes += n
		h.lines += bytes.Count(p[:n], []byte{'\n'})
		switch {
		case h.lines > maxHeaderLines+8: // room for the status line and read-ahead
			h.failed = ErrHeaderCount
		case h.bytes > maxHeaderBytes+8192: // room for the bufio read-ahead
			h.failed = ErrHeaderSize
		}
		if h.failed != nil {
			// Deliver only whole lines: bufio.Reader.ReadLine hands a
			// partial line over without the error that ended it.
			if i := bytes.LastIndexByte(p[:n], '\n'); i >= 0 {
				return i + 1, nil
			}
			return 0, h.failed
		}
	}
	return n, err
}

func newTransport(res *resolver, tc *tls.Config, auth *authenticator, connect, send, recv time.Duration, log *slog.Logger) *transport {
	return &transport{res: res, tls: tc, auth: auth, connect: connect, send: send, recv: recv, log: log, idle: map[string]*pconn{}}
}

// close drops every idle connection.
func (t *transport) close() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, pc := range t.idle {
		_ = pc.c.Close()
		delete(t.idle, k)
	}
}

// do sends req through the proxies (tried in order while the proxy itself
// is unreachable; none: direct) and follows redirects as WinHTTP does.
func (t *transport) do(ctx context.Context, req *request, proxies func(u *url.URL) []string) (*response, error) {
	cur := *req
	for n := 0; ; n++ {
		resp, err := t.viaProxies(ctx, &cur, proxies(cur.URL))
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		if resp.Status < 300 || resp.Status > 399 || resp.Status == 304 || loc == "" {
			return resp, nil
		}
		next, err := cur.URL.Parse(loc)
		if err != nil || (next.Scheme != "http" && next.Scheme != "https") {
			return nil, &TransportError{Phase: profile.PhaseHeaders, URL: cur.URL.String(), Proxy: resp.Proxy,
				Err: &RedirectError{URL: cur.URL.String(), Reason: fmt.Sprintf("invalid Location %q", loc)}}
		}
		if cur.URL.Scheme == "https" && next.Scheme == "http" {
			return nil, &TransportError{Phase: profile.PhaseHeaders, URL: cur.URL.String(), Proxy: resp.Proxy,
				Err: &RedirectError{URL: cur.URL.String(), Reason: "redirect from https to http"}}
		}
		if n+1 > maxRedirects {
			return nil, &TransportError{Phase: profile.PhaseHeaders, URL: cur.URL.String(), Proxy: resp.Proxy,
				Err: &RedirectError{URL: cur.URL.String(), Reason: fmt.Sprintf("more than %d redirects", maxRedirects)}}
		}
		t.log.Debug("http: redirect", "from", cur.URL.String(), "to", next.String(), "status", resp.Status)
		if resp.Status != http.StatusTemporaryRedirect && resp.Status != http.StatusPermanentRedirect && cur.Method == http.MethodPost {
			cur.Method, cur.Body = http.MethodGet, nil
		}
		cur.URL = next
	}
}

// viaProxies tries each proxy in turn while the failure is the proxy's
// own (its name, its port): WinHTTP moves down its proxy list then.
func (t *transport) viaProxies(ctx context.Context, req *request, proxies []string) (*response, error) {
	if len(proxies) == 0 {
		return t.roundTrip(ctx, req, "")
	}
	var err error
	for _, p := range proxies {
		var resp *response
		resp, err = t.roundTrip(ctx, req, p)
		if err == nil {
			return resp, nil
		}
		if te, ok := errors.AsType[*TransportError](err); !ok || (te.Phase != profile.PhaseResolve && te.Phase != profile.PhaseConnect) {
			return nil, err
		}
		t.log.Debug("http: proxy unreachable, trying the next", "proxy", p, "err", err)
	}
	return nil, err
}

// roundTrip sends one request (with its 407 legs) and reads the response.
func (t *transport) roundTrip(ctx context.Context, req *request, proxy string) (*response, error) {
	fail := func(ph profile.Phase, err error) error {
		return &TransportError{Phase: ph, URL: req.URL.String(), Proxy: proxy, Err: err}
	}
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, fail("", &URLError{URL: req.URL.String(), Scheme: true})
	}
	if req.URL.Hostname() == "" {
		return nil, fail("", &URLError{URL: req.URL.String(), Err: errors.New("no host")})
	}
	ps := t.auth.session(proxy)
	for retry := 0; ; retry++ {
		pc, ph, err := t.conn(ctx, req.URL, proxy, ps)
		if err != nil {
			return nil, fail(ph, err)
		}
		before := pc.w.bytesRead()
		resp, ph, err := t.exchange(ctx, pc, req, proxy, ps)
		if err != nil {
			_ = pc.c.Close()
			// A keep-alive connection the server closed while idle:
			// WinHTTP sends the request again on a new connection.
			stale := errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
			if pc.reused && retry == 0 && ph != profile.PhaseBody && pc.w.bytesRead() == before && stale {
				t.log.Debug("http: stale keep-alive connection, retrying", "url", req.URL.String())
				continue
			}
			return nil, fail(ph, err)
		}
		resp.Proxy = proxy
		return resp, nil
	}
}

// connKey identifies connections that can carry a request.
func connKey(u *url.URL, proxy string) string {
	if proxy != "" && u.Scheme == "http" {
		return "proxy " + proxy
	}
	return proxy + "|" + u.Scheme + "://" + hostPort(u)
}

func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "https" {
		return net.JoinHostPort(u.Hostname(), "443")
	}
	return net.JoinHostPort(u.Hostname(), "80")
}

// conn returns an idle connection for the request or dials one: resolve,
// connect, CONNECT through the proxy for HTTPS, TLS handshake. On failure
// it returns the phase that failed.
func (t *transport) conn(ctx context.Context, u *url.URL, proxy string, ps *proxySession) (*pconn, profile.Phase, error) {
	key := connKey(u, proxy)
	t.mu.Lock()
	if pc, ok := t.idle[key]; ok {
		delete(t.idle, key)
		t.mu.Unlock()
		pc.reused = true
		return pc, "", nil
	}
	t.mu.Unlock()

	target := hostPort(u)
	dialTo := target
	if proxy != "" {
		dialTo = proxy
	}
	host, port, err := net.SplitHostPort(dialTo)
	if err != nil {
		return nil, profile.PhaseResolve, &URLError{URL: u.String(), Err: err}
	}
	addrs, err := t.res.lookup(ctx, host)
	if err != nil {
		if ne, ok := errors.AsType[*NameError](err); ok && proxy != "" {
			ne.Proxy = true
		}
		return nil, profile.PhaseResolve, err
	}
	d := &net.Dialer{Timeout: t.connect}
	raw, err := dialAddrs(ctx, d, addrs, port)
	if err != nil {
		return nil, profile.PhaseConnect, err
	}
	w := newWConn(raw, t.send, t.recv)
	pc := &pconn{w: w, c: w, key: key}
	pc.lim = &headerLimit{r: w}
	pc.br = bufio.NewReader(pc.lim)
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()

	if proxy != "" && u.Scheme == "https" {
		if err := t.tunnel(ctx, pc, target, proxy, ps); err != nil {
			_ = raw.Close()
			return nil, profile.PhaseProxy, err
		}
	}
	if u.Scheme == "https" {
		cfg := t.tls.Clone()
		cfg.ServerName = u.Hostname()
		tc := tls.Client(w, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = raw.Close()
			return nil, profile.PhaseHandshake, socketOr(w, err)
		}
		pc.c = tc
		pc.lim = &headerLimit{r: tc}
		pc.br = bufio.NewReader(pc.lim)
	}
	return pc, "", nil
}

// tunnel sends CONNECT through the proxy and answers its 407s on the same
// connection. Any answer but 2xx ends it: a *StatusError (Proxy true), or
// ErrLoginFailure when an authentication exchange was refused.
func (t *transport) tunnel(ctx context.Context, pc *pconn, target, proxy string, ps *proxySession) error {
	for leg := 0; ; leg++ {
		creq := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: target}, Host: target, Header: http.Header{}}
		if h := ps.header(); h != "" {
			creq.Header.Set("Proxy-Authorization", h)
		}
		creq.Header.Set("User-Agent", userAgent)
		if err := creq.Write(pc.w); err != nil {
			return socketOr(pc.w, err)
		}
		pc.lim.on, pc.lim.bytes, pc.lim.lines = true, 0, 0
		resp, err := http.ReadResponse(pc.br, creq)
		pc.lim.on = false
		if err != nil {
			return parseErr(pc.w, profile.PhaseProxy, err)
		}
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			ps.succeeded()
			return nil
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		refused := &StatusError{Status: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Proxy: true}
		if resp.StatusCode != http.StatusProxyAuthRequired {
			return refused
		}
		if err := ps.challenge(resp.Header.Values("Proxy-Authenticate"), leg); err != nil {
			if errors.Is(err, errNoAnswer) {
				return refused
			}
			return err
		}
		if resp.Close {
			return refused
		}
	}
}

// userAgent is what WUA sends (the format seen in fe3 clients, reference
// wu-codes.md 6.3; not verified as genuine WUA output).
const userAgent = "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50"

// exchange writes the request on pc and reads the whole response,
// answering a plain-HTTP proxy's 407 on the same connection. It puts the
// connection back in the idle pool when the response allows.
func (t *transport) exchange(ctx context.Context, pc *pconn, req *request, proxy string, ps *proxySession) (*response, profile.Phase, error) {
	stop := context.AfterFunc(ctx, func() { _ = pc.w.Conn.Close() })
	defer stop()
	viaProxy := proxy != "" && req.URL.Scheme == "http"
	for leg := 0; ; leg++ {
		hreq := &http.Request{Method: req.Method, URL: req.URL, Host: req.URL.Host, Header: req.Header.Clone(), ProtoMajor: 1, ProtoMinor: 1}
		if hreq.Header == nil {
			hreq.Header = http.Header{}
		}
		if hreq.Header.Get("User-Agent") == "" {
			hreq.Header.Set("User-Agent", userAgent)
		}
		if len(req.Body) > 0 || req.Method == http.MethodPost {
			hreq.Body = io.NopCloser(bytes.NewReader(req.Body))
			hreq.ContentLength = int64(len(req.Body))
		}
		var werr error
		if viaProxy {
			if h := ps.header(); h != "" {
				hreq.Header.Set("Proxy-Authorization", h)
			}
			werr = hreq.WriteProxy(pc.c)
		} else {
			werr = hreq.Write(pc.c)
		}
		if werr != nil {
			return nil, profile.PhaseRequest, socketOr(pc.w, werr)
		}
		pc.lim.on, pc.lim.bytes, pc.lim.lines = true, 0, 0
		resp, err := http.ReadResponse(pc.br, hreq)
		pc.lim.on = false
		if err != nil {
			return nil, profile.PhaseHeaders, parseErr(pc.w, profile.PhaseHeaders, err)
		}
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
		resp.Body.Close()
		if err != nil {
			return nil, profile.PhaseBody, parseErr(pc.w, profile.PhaseBody, err)
		}
		out := &response{Status: resp.StatusCode, Header: resp.Header, Body: body, URL: req.URL.String()}
		if viaProxy && resp.StatusCode == http.StatusProxyAuthRequired {
			if err := ps.challenge(resp.Header.Values("Proxy-Authenticate"), leg); err != nil {
				if errors.Is(err, errNoAnswer) {
					t.release(pc, resp)
					return out, "", nil
				}
				return nil, profile.PhaseProxy, err
			}
			if resp.Close {
				// The proxy closed the connection mid-handshake: the
				// exchange cannot go on.
				return out, "", nil
			}
			continue
		}
		if viaProxy && leg > 0 {
			ps.succeeded()
		}
		t.release(pc, resp)
		return out, "", nil
	}
}

// release keeps the connection for the next request when the response
// allows it, and closes it otherwise.
func (t *transport) release(pc *pconn, resp *http.Response) {
	if resp.Close || pc.br.Buffered() > 0 {
		_ = pc.c.Close()
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.idle[pc.key]; ok {
		_ = old.c.Close()
	}
	pc.reused = false
	t.idle[pc.key] = pc
}

// socketOr returns the socket's own error when it reported one, else err.
func socketOr(w *wconn, err error) error {
	if cause, socket := ioCause(w, err); socket {
		return cause
	}
	return err
}

// parseErr turns a failure of the response parser into the evidence: the
// socket's error when the socket failed, ErrHeaderCount/ErrHeaderSize
// when a limit was hit, else a *ProtocolError.
func parseErr(w *wconn, ph profile.Phase, err error) error {
	if errors.Is(err, ErrHeaderCount) || errors.Is(err, ErrHeaderSize) {
		return err
	}
	if cause, socket := ioCause(w, err); socket {
		return cause
	}
	return &ProtocolError{Phase: ph, Err: err}
}

// statusText is a short description for logs.
func statusText(code int) string { return strconv.Itoa(code) + " " + http.StatusText(code) }
