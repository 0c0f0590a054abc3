package simulate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wufault/wufault/faults"
)

// serveConnect answers a CONNECT: connection rules, the upstream dial (a
// 502/504 page when it fails), the 200, then either interception (a rule
// for the host needs to see the HTTP inside) or an opaque spliced tunnel.
func (p *proxyService) serveConnect(rw http.ResponseWriter, r *http.Request, fc *faultConn, act *Active, ev event, st *reqState) {
	w := p.w
	hostport := connectTarget(r.Host)
	handshake := w.armConnect(fc, act, ev)
	if fc.ended() {
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), upstreamDialTimeout)
	up, err := p.up.dialTunnel(ctx, hostport)
	cancel()
	if ref, refused := asRefused(err); refused {
		st.detail = w.refusePage(rw, ref)
		return
	}
	if detail, status, ok := clientError(r, nil, err); ok {
		w.metrics.clientErr.WithLabelValues("proxy").Inc()
		st.status, st.detail = status, detail
		if up != nil {
			_ = up.Close()
		}
		return
	}
	if err != nil {
		status, body := w.upstreamPage(err)
		rw.Header().Set("Content-Type", "text/html; charset=utf-8")
		rw.Header().Set("Content-Length", strconv.Itoa(len(body)))
		rw.WriteHeader(status)
		_, _ = io.WriteString(rw, body)
		st.status, st.detail = status, "upstream: "+err.Error()
		return
	}
	conn, brw, err := http.NewResponseController(rw).Hijack()
	if err != nil {
		_ = up.Close()
		st.detail = "hijack: " + err.Error()
		return
	}
	if conn != net.Conn(fc) {
		// Only the proxy port's own connections reach here (CONNECT inside
		// a tunnel is refused), so conn is fc.
		_ = up.Close()
		_ = conn.Close()
		st.detail = "unexpected connection type"
		return
	}
	st.status = http.StatusOK
	if _, err := fmt.Fprintf(fc, "HTTP/%d.%d 200 Connection established\r\n\r\n", r.ProtoMajor, r.ProtoMinor); err != nil {
		_ = up.Close()
		_ = fc.Close()
		return
	}
	br := brw.Reader
	if w.interceptWanted(act.Set, hostport) {
		if ok := p.intercept(fc, br, up, hostport, handshake, ev, st); ok {
			return
		}
	}
	pending := w.armTunnelUp(fc, ev, append(handshake, selectAt(act, momentTunnel, ev.target)...))
	p.pipe(fc, br, up, pending, ev, st)
}

// connectTarget is a CONNECT's host:port (443 when the port is missing).
func connectTarget(host string) string {
	if _, _, err := net.SplitHostPort(host); err != nil {
		return net.JoinHostPort(host, "443")
	}
	return host
}

// intercept looks at the first byte the client sends in the tunnel. Plain
// HTTP is served by the inner server (its requests pass every fault layer);
// TLS is terminated with the lab CA first (World.interceptTLS), and the
// requests inside get scheme https. It returns false when the tunnel stays
// opaque.
//
// The wait for that first byte is bounded by Options.TunnelPeek: a client
// that says nothing may be waiting for an origin that speaks first, and
// the tunnel is relayed opaque then.
func (p *proxyService) intercept(fc *faultConn, br *bufio.Reader, up net.Conn, hostport string, handshake []armed, ev event, st *reqState) bool {
	_ = fc.SetReadDeadline(time.Now().Add(p.w.opts.TunnelPeek))
	b, err := br.Peek(1)
	_ = fc.SetReadDeadline(time.Time{})
	if err != nil && errors.Is(err, os.ErrDeadlineExceeded) {
		st.detail = "client silent for " + p.w.opts.TunnelPeek.String() + ": relayed opaque"
		return false
	}
	if err != nil {
		_ = up.Close()
		_ = fc.Close()
		st.detail = "client left before sending in the tunnel"
		return true
	}
	tun := &tunnel{host: hostport, scheme: "http", connect: ev.req}
	var c net.Conn = &interceptConn{faultConn: fc, r: br, tun: tun}
	if b[0] == 0x16 { // TLS handshake record
		plain, ok := p.w.interceptTLS(c, hostport)
		if !ok {
			st.detail = "TLS tunnel left opaque by the MITM"
			return false
		}
		tun.scheme = "https"
		c = plain
	}
	_ = up.Close()
	for _, a := range handshake {
		p.w.arm(fc, ev, a)
	}
	fc.promote()
	st.detail = "intercepted (" + tun.scheme + ")"
	if !p.innerLn.push(c) {
		_ = c.Close()
	}
	return true
}

// interceptConn is a tunnel's client end handed to the inner server: reads
// go through the reader that holds the bytes already peeked.
type interceptConn struct {
	*faultConn
	r   *bufio.Reader
	tun *tunnel
}

// Read reads the tunnel, buffered bytes first.
func (c *interceptConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// NetConn returns the client connection.
func (c *interceptConn) NetConn() net.Conn { return c.faultConn }

// pipe copies an opaque tunnel both ways in goroutines of its own and lets
// the handler return: net/http's connection state (its buffers and the
// handler's deep stack) is freed. The client → origin copy starts at once;
// the origin → client one when the origin first has something to say
// (the parker watches until then), so a tunnel that has carried nothing
// from the origin costs one parked goroutine and its two sockets. Toward
// the client, an unfaulted tunnel splices in the kernel (Go's splice then
// keeps a pipe pair until the tunnel ends, two descriptors); with faults,
// and toward the origin, idleCopy holds no buffer while a side has nothing
// to send. Pending rules are armed at the first byte the origin sends (the
// start of the TLS handshake's answer). The tunnel journals its own end.
func (p *proxyService) pipe(fc *faultConn, br *bufio.Reader, up net.Conn, pending []armed, ev event, st *reqState) {
	var pre []byte
	if n := br.Buffered(); n > 0 {
		b, _ := br.Peek(n)
		pre = append(pre, b...)
	}
	if !p.enter() {
		_ = up.Close()
		_ = fc.Close()
		return
	}
	st.async = true
	go func() {
		defer p.leave()
		p.tunnel(fc, pre, up, pending, ev, st)
		st.finish()
	}()
}

func (p *proxyService) tunnel(fc *faultConn, pre []byte, up net.Conn, pending []armed, ev event, st *reqState) {
	iw := &idleWatch{timeout: p.w.opts.TunnelIdle}
	iw.down.Store(true) // until the origin speaks
	// Origin → client runs in a goroutine of its own, started when the
	// origin first has something to say (parked until then: one goroutine
	// for a tunnel that carries nothing from the origin yet).
	downDone := make(chan struct{}) // the origin → client copy ended, or will never start
	upDone := make(chan struct{})   // the client → origin copy ended
	var down int64
	var downErr error
	runDown := func() {
		defer p.leave()
		iw.down.Store(false)
		down, downErr = p.copyDown(fc, up, pending, ev, iw)
		close(downDone)
		if errors.Is(downErr, errTunnelIdle) {
			fc.kill()
		}
		// The client gets tunnelLinger to finish its side.
		t := time.NewTimer(tunnelLinger)
		select {
		case <-upDone:
		case <-t.C:
			fc.kill()
		}
		t.Stop()
	}
	startDown := func() {
		if !p.enter() {
			close(downDone)
			return
		}
		go runDown()
	}
	var cancel func() bool
	if sc, ok := up.(syscall.Conn); ok && p.parker != nil {
		cancel, ok = p.parker.park(sc, startDown)
		if !ok {
			cancel = nil
		}
	}
	if cancel == nil {
		startDown()
	}
	// abandon ends the origin's side: a parked wait is withdrawn (the copy
	// will never start), a running copy fails on the closed socket. Only
	// the caller whose cancel withdraws the wait closes downDone.
	abandon := func() {
		if cancel != nil && cancel() {
			close(downDone)
		}
		_ = up.Close()
	}
	// World shutdown ends the origin's side too (the client's is killed).
	stop := context.AfterFunc(p.w.ctx, abandon)
	defer stop()

	// Client → origin, in this goroutine.
	upBytes, err := p.copyToUpstream(up, fc, pre, iw)
	close(upDone)
	switch {
	case err == nil && !fc.stalling.Load():
		// The client half-closed: pass it on, and give the origin
		// tunnelLinger to finish its side.
		_ = closeWrite(up)
		t := time.NewTimer(tunnelLinger)
		select {
		case <-downDone:
		case <-t.C:
			abandon()
		}
		t.Stop()
	case err == nil:
		fc.kill() // EOF during a stall: the client gave up
		abandon()
	default:
		abandon()
	}
	<-downDone
	if cancel != nil {
		cancel()
	}
	_ = up.Close()
	_ = fc.Close()
	st.bytes = down
	switch {
	case errors.Is(err, errTunnelIdle) || errors.Is(downErr, errTunnelIdle):
		st.detail = "tunnel idle for " + iw.timeout.String() + " both ways: closed"
	case downErr != nil && !errors.Is(downErr, faults.ErrInjected) && !errors.Is(downErr, net.ErrClosed):
		st.detail = "tunnel: " + downErr.Error()
	}
	if st.detail == "" {
		st.detail = "tunnel closed, " + strconv.FormatInt(down, 10) + " bytes to the client, " + strconv.FormatInt(upBytes, 10) + " to the origin"
	}
}

// copyDown copies the origin's bytes to the client until the origin's EOF
// (then the client gets a FIN after what the write path holds) or an
// error (then the origin's side is closed). Without faults on the path it
// splices; otherwise pending rules are armed at the first byte.
func (p *proxyService) copyDown(fc *faultConn, up net.Conn, pending []armed, ev event, iw *idleWatch) (int64, error) {
	var n int64
	var err error
	if len(pending) == 0 && fc.top.Load() == nil {
		n, err = spliceCopy(fc, up, iw)
	} else {
		n, err = p.idleCopy(fc, up, func() {
			for _, a := range pending {
				p.w.arm(fc, ev, a)
			}
		}, iw.side(&iw.down))
	}
	if err == nil {
		_ = fc.CloseWrite()
	} else {
		_ = up.Close()
	}
	return n, err
}

// errTunnelIdle ends a tunnel that carried nothing either way for
// Options.TunnelIdle.
var errTunnelIdle = errors.New("tunnel idle")

// idleWatch tells when an opaque tunnel has been idle both ways. Each
// direction reads with a deadline one period ahead; when it passes with
// nothing read, that direction is idle, and the tunnel ends once the other
// one is idle too (within two periods of the last byte). A long one-way
// download keeps the tunnel: its direction is never idle.
type idleWatch struct {
	timeout  time.Duration
	up, down atomic.Bool // the direction saw a whole period without a byte
}

// side is one direction of the watch (nil when there is no timeout).
func (iw *idleWatch) side(self *atomic.Bool) *idleSide {
	if iw == nil || iw.timeout <= 0 {
		return nil
	}
	other := &iw.down
	if self == &iw.down {
		other = &iw.up
	}
	return &idleSide{w: iw, self: self, other: other}
}

type idleSide struct {
	w           *idleWatch
	self, other *atomic.Bool
	mark        int64 // bytes copied when the period began
}

// begin starts a period: the next read must come within the timeout.
func (s *idleSide) begin(src net.Conn, total int64) {
	if s == nil {
		return
	}
	s.mark = total
	_ = src.SetReadDeadline(time.Now().Add(s.w.timeout))
}

// active records a byte read: this direction is not idle.
func (s *idleSide) active() {
	if s != nil && s.self.Load() {
		s.self.Store(false)
	}
}

// next handles a read error: nil when it was the period's deadline and
// the copy goes on (a new period begins), errTunnelIdle when the tunnel
// is idle both ways, err itself otherwise.
func (s *idleSide) next(src net.Conn, err error, total int64) error {
	if s == nil || !errors.Is(err, os.ErrDeadlineExceeded) {
		return err
	}
	s.self.Store(total == s.mark)
	if s.self.Load() && s.other.Load() {
		return errTunnelIdle
	}
	s.begin(src, total)
	return nil
}

// countingWriter adds what it writes to n.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n.Add(int64(n))
	return n, err
}

// idleCopy copies src to dst until EOF (nil) or an error. It takes a
// buffer from the pool only once src is readable and returns it after each
// write, so a connection that waits holds no memory beyond its socket.
// first runs before the first byte is written.
//
// With idle set, a read that waits longer than its period asks idle
// whether the tunnel is idle both ways (errTunnelIdle) or waits on.
func (p *proxyService) idleCopy(dst io.Writer, src net.Conn, first func(), idle *idleSide) (int64, error) {
	sc, ok := src.(syscall.Conn)
	ok = ok && haveRawRead
	var rc syscall.RawConn
	if ok {
		var err error
		if rc, err = sc.SyscallConn(); err != nil {
			ok = false
		}
	}
	var total int64
	started := false
	idle.begin(src, total)
	for {
		var bp *[]byte
		var n int
		var rerr error
		if ok {
			err := rc.Read(func(fd uintptr) bool {
				bp = copyBufs.Get().(*[]byte)
				n, rerr = rawRead(fd, *bp)
				if rerr == errWouldBlock {
					copyBufs.Put(bp)
					bp = nil
					return false
				}
				return true
			})
			if err != nil {
				if bp != nil {
					copyBufs.Put(bp)
				}
				if err = idle.next(src, err, total); err == nil {
					continue
				}
				return total, err
			}
			if n < 0 {
				n = 0
			}
			if rerr != nil {
				rerr = os.NewSyscallError("read", rerr)
			} else if n == 0 {
				rerr = io.EOF
			}
		} else {
			bp = copyBufs.Get().(*[]byte)
			n, rerr = src.Read(*bp)
		}
		if n > 0 {
			idle.active()
			if !started {
				started = true
				first()
			}
			m, werr := dst.Write((*bp)[:n])
			total += int64(m)
			if werr == nil && m < n {
				werr = io.ErrShortWrite
			}
			if werr != nil {
				copyBufs.Put(bp)
				return total, werr
			}
		}
		if bp != nil {
			copyBufs.Put(bp)
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return total, nil
			}
			if rerr = idle.next(src, rerr, total); rerr == nil {
				continue
			}
			return total, rerr
		}
	}
}

// copyToUpstream sends the client's bytes to the origin: what the CONNECT
// reader had buffered, then the socket; through the connection's up path
// when a rule with direction up is armed.
func (p *proxyService) copyToUpstream(up net.Conn, fc *faultConn, pre []byte, iw *idleWatch) (int64, error) {
	var total int64
	if len(pre) > 0 {
		m, err := up.Write(pre)
		total += int64(m)
		if err != nil {
			return total, err
		}
	}
	if fc.up.Load() != nil {
		n, err := p.idleCopy(up, fc, func() {}, iw.side(&iw.up)) // fc counts what it reads
		return total + n, err
	}
	n, err := p.idleCopy(up, fc.raw, func() {}, iw.side(&iw.up))
	fc.in.Add(n)
	return total + n, err
}

// closeWrite half-closes c when it can, else closes it.
func closeWrite(c net.Conn) error {
	if h, ok := c.(interface{ CloseWrite() error }); ok {
		return h.CloseWrite()
	}
	return c.Close()
}

// spliceCopy waits, holding nothing, until up has data, then splices it to
// the client socket in the kernel (TCP to TCP) until EOF.
func spliceCopy(fc *faultConn, up net.Conn, iw *idleWatch) (int64, error) {
	idle := iw.side(&iw.down)
	idle.begin(up, 0)
	if sc, ok := up.(syscall.Conn); ok && haveRawRead {
		if rc, err := sc.SyscallConn(); err == nil {
			for {
				err := rc.Read(readable)
				if err == nil {
					break
				}
				if err = idle.next(up, err, 0); err != nil {
					return 0, err
				}
			}
		}
	}
	var total int64
	for {
		idle.active() // the origin has something to say
		var n int64
		var err error
		if rf, ok := fc.raw.(io.ReaderFrom); ok {
			n, err = rf.ReadFrom(up)
			fc.out.Add(n)
		} else {
			n, err = io.Copy(countingWriter{fc.raw, &fc.out}, up)
		}
		total += n
		if err != nil {
			if err = idle.next(up, err, total); err == nil {
				continue
			}
		}
		return total, err
	}
}
