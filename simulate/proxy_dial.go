package simulate

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wufault/wufault/faults"
)

// Upstream timeouts of the proxy, as a real forward proxy has them. A
// stalled origin ends as 504 after upstreamHeaderTimeout.
const (
	upstreamDialTimeout   = 30 * time.Second
	upstreamHeaderTimeout = 2 * time.Minute
	upstreamIdleTimeout   = 90 * time.Second
)

// upstream is how the proxy reaches destinations: the embedded emulator for
// lab-zone names when it runs, else the parent proxy when one is set, else
// the destination itself, resolved through the world's DNS (or the
// configured resolvers, or the system's).
type upstream struct {
	w      *World
	dialer *net.Dialer
	rr     atomic.Uint32 // round robin over Options.Resolvers
}

func newUpstream(w *World) *upstream {
	u := &upstream{w: w}
	u.dialer = &net.Dialer{Timeout: upstreamDialTimeout, KeepAlive: 30 * time.Second, ControlContext: u.controlDial}
	if w.addr("dns") != "" || len(w.opts.Resolvers) > 0 {
		u.dialer.Resolver = &net.Resolver{PreferGo: true, Dial: u.dialDNS}
	}
	return u
}

// dialDNS reaches the world's DNS server when it runs, else the next
// configured resolver.
func (u *upstream) dialDNS(ctx context.Context, network, _ string) (net.Conn, error) {
	addr := u.w.addr("dns")
	if addr == "" {
		rs := u.w.opts.Resolvers
		addr = rs[int(u.rr.Add(1))%len(rs)]
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// route returns the address to dial for host:port and whether the parent
// proxy must carry it. ctx is marked as a world route (destination.go)
// when the world chose the address: the emulator, or the parent proxy
// itself.
func (u *upstream) route(ctx context.Context, hostport string) (_ context.Context, addr string, viaParent bool) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return ctx, hostport, u.w.opts.ParentProxy != nil
	}
	n, _ := strconv.Atoi(port)
	if a, ok := u.w.emulatorAddr(host, n); ok {
		return worldRoute(ctx), a, false
	}
	if pp := u.w.opts.ParentProxy; pp != nil && hostport == canonicalAddr(pp) {
		return worldRoute(ctx), hostport, false // the Transport dialing the parent (proxyFunc)
	}
	return ctx, hostport, u.w.opts.ParentProxy != nil
}

// dialDirect dials hostport (or the emulator standing in for it).
func (u *upstream) dialDirect(ctx context.Context, network, hostport string) (net.Conn, error) {
	ctx, addr, _ := u.route(ctx, hostport)
	return u.dialer.DialContext(ctx, network, addr)
}

// dialTLS dials hostport for an https request the proxy forwards (inside
// an intercepted tunnel): the world's own internal origin is trusted as
// is (its leaf comes from the lab CA the proxy itself uses), every other
// origin is verified as a client would.
func (u *upstream) dialTLS(ctx context.Context, network, hostport string) (net.Conn, error) {
	ctx, addr, _ := u.route(ctx, hostport)
	c, err := u.dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(hostport)
	cfg := &tls.Config{ServerName: host, NextProtos: []string{"http/1.1"}}
	if u.w.isInternal(addr) {
		cfg.InsecureSkipVerify = true // our own origin, on loopback
		// A classical group: no client sees this hop, and Go's default
		// post-quantum hybrid made its handshakes a fifth of the CPU of a
		// session that reconnects for every piece of a download.
		cfg.CurvePreferences = []tls.CurveID{tls.X25519}
	}
	tc := tls.Client(c, cfg)
	hctx, cancel := context.WithTimeout(ctx, upstreamDialTimeout)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// proxyFunc is the Transport's Proxy: the parent for everything the
// emulator does not serve.
func (u *upstream) proxyFunc(r *http.Request) (*url.URL, error) {
	if _, _, via := u.route(r.Context(), canonicalAddr(r.URL)); via {
		return u.w.opts.ParentProxy, nil
	}
	return nil, nil
}

// dialTunnel opens the upstream end of a CONNECT tunnel to hostport:
// directly, or through the parent proxy with a CONNECT of its own.
func (u *upstream) dialTunnel(ctx context.Context, hostport string) (net.Conn, error) {
	ctx, addr, via := u.route(ctx, hostport)
	if !via {
		return u.dialer.DialContext(ctx, "tcp", addr)
	}
	parent := u.w.opts.ParentProxy
	c, err := u.dialer.DialContext(worldRoute(ctx), "tcp", canonicalAddr(parent))
	if err != nil {
		return nil, fmt.Errorf("parent proxy %s: %w", parent.Host, err)
	}
	if d, ok := ctx.Deadline(); ok {
		_ = c.SetDeadline(d)
	} else {
		_ = c.SetDeadline(time.Now().Add(upstreamHeaderTimeout))
	}
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: hostport}, Host: hostport, Header: http.Header{}}
	if ui := parent.User; ui != nil {
		pw, _ := ui.Password()
		req.Header.Set("Proxy-Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(ui.Username()+":"+pw)))
	}
	if err := req.Write(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("parent proxy %s: %w", parent.Host, err)
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("parent proxy %s: %w", parent.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		c.Close()
		return nil, &parentError{status: resp.StatusCode, host: parent.Host}
	}
	_ = c.SetDeadline(time.Time{})
	if br.Buffered() > 0 {
		return &bufferedConn{Conn: c, r: br}, nil
	}
	return c, nil
}

// parentError is a parent proxy's refusal of a CONNECT.
type parentError struct {
	status int
	host   string
}

func (e *parentError) Error() string {
	return fmt.Sprintf("parent proxy %s answered %d %s", e.host, e.status, http.StatusText(e.status))
}

// bufferedConn reads through a bufio.Reader that may hold bytes already.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// canonicalAddr is u's host:port, with the scheme's default port.
func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// upstreamPage is the answer a proxy gives for an upstream failure: the
// status (upstreamStatus) and a short HTML page saying why
// (upstreamReason). It counts the failure.
func (w *World) upstreamPage(err error) (status int, page string) {
	status = upstreamStatus(err)
	w.metrics.upstream.WithLabelValues(strconv.Itoa(status)).Inc()
	return status, faults.HTMLPage(status, upstreamReason(err))
}

// upstreamStatus maps an upstream failure to the status a proxy answers:
// 504 when it timed out, 502 otherwise.
func upstreamStatus(err error) int {
	var ne net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		return http.StatusGatewayTimeout
	}
	return http.StatusBadGateway
}

// upstreamReason is the one line a proxy's error page gives.
func upstreamReason(err error) string {
	var pe *parentError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &pe):
		return pe.Error()
	case errors.As(err, &dnsErr):
		return "cannot resolve " + dnsErr.Name
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused by the origin"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset by the origin"
	case upstreamStatus(err) == http.StatusGatewayTimeout:
		return "the origin did not answer in time"
	}
	return "the origin could not be reached"
}
