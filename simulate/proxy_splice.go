package simulate

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/elazarl/goproxy"
)

// The splicing exchange: a plain-HTTP GET that no http.* rule sees and no
// parent proxy carries is sent to the origin on a connection of the
// proxy's own (originPool) instead of through net/http's Transport. A
// response with a Content-Length then reaches the client through
// spliceBody.WriteTo: the few bytes read with the head go through user
// space, the rest of the body goes from the origin socket to the client
// socket in the kernel (splice(2), through faultConn.ReadFrom and
// net/http's response.ReadFrom), unless a tcp.* rule is armed on the
// client's write path, in which case every byte still goes through the
// fault hooks. Chunked and close-delimited bodies, HEAD and bodyless
// answers take the same exchange but are copied as usual.

// Limits of the pool of idle origin connections.
const (
	originIdlePerHost = 32
	originIdleTotal   = 1024
)

type spliceKey struct{}

// spliceable says whether a plain-HTTP request may take the splicing
// exchange: a GET without a body, not an upgrade, with no parent proxy.
func (p *proxyService) spliceable(r *http.Request) bool {
	return p.w.opts.ParentProxy == nil && r.Method == http.MethodGet && r.URL.Scheme == "http" &&
		r.ContentLength == 0 && len(r.TransferEncoding) == 0 && r.Header.Get("Upgrade") == ""
}

// useSplicer is goproxy's request hook: requests marked by ServeHTTP go
// through the splicing exchange.
func (p *proxyService) useSplicer(r *http.Request, ctx *goproxy.ProxyCtx) (*http.Request, *http.Response) {
	if r.Context().Value(spliceKey{}) != nil {
		ctx.RoundTripper = p.origins
	}
	return r, nil
}

// originPool dials origins and keeps their idle connections.
type originPool struct {
	dial func(ctx context.Context, network, addr string) (net.Conn, error)
	// headerTimeout is how long an answer's head may take (the proxy's
	// Transport's ResponseHeaderTimeout, so one setting rules both).
	headerTimeout func() time.Duration

	mu     sync.Mutex
	idle   map[string][]*originConn // most recently used last
	n      int
	closed bool
	reaper *time.Timer // closes connections idle past upstreamIdleTimeout
}

// originConn is one connection to an origin.
type originConn struct {
	pool  *originPool
	addr  string
	c     *net.TCPConn
	br    *bufio.Reader
	bw    *bufio.Writer
	since time.Time // idle since
}

func newOriginPool(dial func(ctx context.Context, network, addr string) (net.Conn, error), headerTimeout func() time.Duration) *originPool {
	return &originPool{dial: dial, headerTimeout: headerTimeout, idle: map[string][]*originConn{}}
}

// RoundTrip implements goproxy.RoundTripper. A request that fails on a
// reused connection before any answer byte is retried once on a new one,
// as net/http's Transport does for idempotent requests.
func (o *originPool) RoundTrip(req *http.Request, _ *goproxy.ProxyCtx) (*http.Response, error) {
	addr := canonicalAddr(req.URL)
	for retried := false; ; retried = true {
		oc, reused, err := o.get(req.Context(), addr)
		if err != nil {
			return nil, err
		}
		resp, answered, err := oc.exchange(req)
		if err == nil {
			return resp, nil
		}
		oc.close()
		if !reused || answered || retried || req.Context().Err() != nil {
			return nil, err
		}
	}
}

// get returns an idle connection to addr that is still open, or dials one.
func (o *originPool) get(ctx context.Context, addr string) (oc *originConn, reused bool, err error) {
	o.mu.Lock()
	for list := o.idle[addr]; len(list) > 0; list = o.idle[addr] {
		oc = list[len(list)-1]
		o.idle[addr] = list[:len(list)-1]
		o.n--
		if time.Since(oc.since) < upstreamIdleTimeout && !oc.peerSpoke() {
			o.mu.Unlock()
			return oc, true, nil
		}
		_ = oc.c.Close()
	}
	delete(o.idle, addr)
	o.mu.Unlock()
	c, err := o.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	tc, ok := c.(*net.TCPConn)
	if !ok {
		_ = c.Close()
		return nil, false, fmt.Errorf("origin %s: not a TCP connection (%T)", addr, c)
	}
	return &originConn{pool: o, addr: addr, c: tc, br: bufio.NewReaderSize(tc, 16<<10), bw: bufio.NewWriterSize(tc, 4<<10)}, false, nil
}

// put keeps an origin connection whose last answer was read to its end.
func (o *originPool) put(oc *originConn) {
	if oc.br.Buffered() > 0 { // bytes past the answer: not reusable
		_ = oc.c.Close()
		return
	}
	oc.since = time.Now()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed || o.n >= originIdleTotal || len(o.idle[oc.addr]) >= originIdlePerHost {
		_ = oc.c.Close()
		return
	}
	o.idle[oc.addr] = append(o.idle[oc.addr], oc)
	o.n++
	if o.reaper == nil {
		o.reaper = time.AfterFunc(upstreamIdleTimeout, o.reap)
	}
}

// reap closes the connections idle for upstreamIdleTimeout and runs again
// while any are left.
func (o *originPool) reap() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.reaper = nil
	for addr, list := range o.idle {
		kept := list[:0]
		for _, oc := range list {
			if time.Since(oc.since) >= upstreamIdleTimeout {
				_ = oc.c.Close()
				o.n--
				continue
			}
			kept = append(kept, oc)
		}
		if len(kept) == 0 {
			delete(o.idle, addr)
		} else {
			o.idle[addr] = kept
		}
	}
	if o.n > 0 && !o.closed {
		o.reaper = time.AfterFunc(upstreamIdleTimeout/2, o.reap)
	}
}

// closeIdle closes every idle connection; after close, none is kept.
func (o *originPool) closeIdle(close bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = o.closed || close
	if o.reaper != nil && o.closed {
		o.reaper.Stop()
		o.reaper = nil
	}
	for addr, list := range o.idle {
		for _, oc := range list {
			_ = oc.c.Close()
		}
		delete(o.idle, addr)
	}
	o.n = 0
}

// peerSpoke reports whether an idle connection has something to read: an
// EOF (the origin closed it) or stray bytes. Either way it is not reused.
func (oc *originConn) peerSpoke() bool {
	rc, err := oc.c.SyscallConn()
	if err != nil {
		return true
	}
	spoke := true
	if err := rc.Read(func(fd uintptr) bool { spoke = readable(fd); return true }); err != nil {
		return true
	}
	return spoke
}

func (oc *originConn) close() { _ = oc.c.Close() }

// exchange sends req and reads the answer's head (skipping 1xx answers).
// answered reports whether any byte of an answer arrived.
func (oc *originConn) exchange(req *http.Request) (resp *http.Response, answered bool, err error) {
	if err := req.Write(oc.bw); err != nil {
		return nil, false, err
	}
	if err := oc.bw.Flush(); err != nil {
		return nil, false, err
	}
	_ = oc.c.SetReadDeadline(time.Now().Add(oc.pool.headerTimeout()))
	// A client that leaves ends the wait for the head (its context).
	stop := context.AfterFunc(req.Context(), func() { _ = oc.c.SetReadDeadline(time.Now()) })
	for {
		if _, err := oc.br.Peek(1); err != nil {
			stop()
			if cerr := req.Context().Err(); cerr != nil {
				return nil, false, cerr
			}
			return nil, false, headerTimeout(err)
		}
		resp, err = http.ReadResponse(oc.br, req)
		if err != nil {
			stop()
			return nil, true, headerTimeout(err)
		}
		if resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols {
			break
		}
	}
	if !stop() {
		oc.close() // the client left: the deadline may have been cut short
		return nil, true, req.Context().Err()
	}
	_ = oc.c.SetReadDeadline(time.Time{})
	// A switched protocol is not HTTP any more: never reused.
	keep := !resp.Close && !req.Close && resp.StatusCode != http.StatusSwitchingProtocols
	if resp.Body == http.NoBody {
		if keep {
			oc.pool.put(oc)
		} else {
			oc.close()
		}
		return resp, true, nil
	}
	// While the body is read, a client that leaves (or the proxy that
	// shuts down, which ends every client connection) closes the origin
	// socket: an origin that stalls mid-body cannot hold the copy.
	abandon := context.AfterFunc(req.Context(), oc.close)
	if resp.ContentLength >= 0 && len(resp.TransferEncoding) == 0 {
		resp.Body = &spliceBody{oc: oc, remain: resp.ContentLength, keep: keep, abandon: abandon}
	} else {
		resp.Body = &closingBody{ReadCloser: resp.Body, oc: oc, abandon: abandon}
	}
	return resp, true, nil
}

// headerTimeout names a deadline hit while waiting for the answer's head
// as the Transport's ResponseHeaderTimeout does (a 504 page).
func headerTimeout(err error) error {
	if errors.Is(err, syscall.ETIMEDOUT) || upstreamStatus(err) == http.StatusGatewayTimeout {
		return fmt.Errorf("timeout awaiting response headers: %w", err)
	}
	return err
}

// spliceBody is a Content-Length body read straight from the origin
// socket; WriteTo hands the socket to the writer's ReadFrom so that the
// bytes can be spliced.
type spliceBody struct {
	oc      *originConn
	remain  int64
	keep    bool        // the connection may be reused once the body is read
	abandon func() bool // stops the close-on-cancel; false if it already ran
	done    bool
}

func (b *spliceBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, io.EOF
	}
	if b.remain == 0 {
		b.release(true)
		return 0, io.EOF
	}
	if int64(len(p)) > b.remain {
		p = p[:b.remain]
	}
	n, err := b.oc.br.Read(p)
	b.remain -= int64(n)
	switch {
	case b.remain == 0:
		b.release(true)
		return n, io.EOF
	case err == io.EOF:
		b.release(false)
		return n, io.ErrUnexpectedEOF
	case err != nil:
		b.release(false)
	}
	return n, err
}

// WriteTo copies what the head's reader already holds, then gives the
// socket itself (as an io.LimitedReader, which splice understands) to w.
func (b *spliceBody) WriteTo(w io.Writer) (int64, error) {
	if b.done {
		return 0, nil
	}
	var total int64
	if k := min(int64(b.oc.br.Buffered()), b.remain); k > 0 {
		head, _ := b.oc.br.Peek(int(k))
		n, err := w.Write(head)
		_, _ = b.oc.br.Discard(n)
		total += int64(n)
		b.remain -= int64(n)
		if err != nil {
			b.release(false)
			return total, err
		}
	}
	if b.remain > 0 {
		lr := &io.LimitedReader{R: b.oc.c, N: b.remain}
		var n int64
		var err error
		if rf, ok := w.(io.ReaderFrom); ok {
			n, err = rf.ReadFrom(lr)
		} else {
			n, err = io.Copy(w, lr)
		}
		total += n
		b.remain -= n
		if err == nil && b.remain > 0 {
			err = io.ErrUnexpectedEOF
		}
		if err != nil {
			b.release(false)
			return total, err
		}
	}
	b.release(true)
	return total, nil
}

// Close ends the body; a connection whose body was not read to its end is
// closed, not reused.
func (b *spliceBody) Close() error {
	b.release(b.remain == 0)
	return nil
}

func (b *spliceBody) release(complete bool) {
	if b.done {
		return
	}
	b.done = true
	if b.abandon() && complete && b.keep {
		b.oc.pool.put(b.oc)
		return
	}
	b.oc.close()
}

// closingBody closes its origin connection with the body (chunked and
// close-delimited answers are not reused).
type closingBody struct {
	io.ReadCloser
	oc      *originConn
	abandon func() bool
}

func (b *closingBody) Close() error {
	b.abandon()
	err := b.ReadCloser.Close()
	b.oc.close()
	return err
}
