package simulate

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/wufault/wufault/faults"
)

// faultConn is the world's side of one accepted client connection. Reads
// come straight from the socket; writes (bytes toward the client) go
// through a write path that faults can be armed on at any phase: the path
// is re-pointed atomically, so an unfaulted connection pays one atomic load
// per write and nothing else (and a tunnel without faults splices).
//
// The path is a chain of faults.ConnHook wrappers ending in sock, the
// socket seen through a small adapter that records half-closes and resets.
// base is the chain armed for the whole connection (at accept, or at a
// CONNECT that is then intercepted); top is the current one, base plus the
// rules of the request in flight.
type faultConn struct {
	raw    net.Conn // the accepted socket (*net.TCPConn)
	sock   *sockConn
	id     uint64
	seed   uint64
	client string // raw's remote address, for the journal
	since  time.Time

	base atomic.Pointer[connPath] // nil: the bare socket
	top  atomic.Pointer[connPath] // nil: the bare socket

	// The up path (conn_up.go): the client's bytes toward the server
	// through the rules armed with direction up.
	up            atomic.Pointer[upSink]   // nil until an up rule is armed
	upBase, upTop atomic.Pointer[connPath] // as base and top; nil: no up rule
	readDeadline  atomic.Int64             // the last read deadline (UnixNano, 0: none)
	reqUp         atomic.Pointer[upBody]   // the request body's up path (the request in flight)

	out, in    atomic.Int64 // bytes toward / from the client
	stalling   atomic.Bool  // a stall is armed: the client's EOF means it gave up
	ownFIN     atomic.Bool  // the proxy itself is half-closing (the origin ended): not a fault's FIN
	closeOnce  sync.Once
	stallTimer atomic.Pointer[time.Timer]
	onClose    func(*faultConn)
}

// connPath is one write path: the top of a wrapper chain.
type connPath struct{ c net.Conn }

func newFaultConn(raw net.Conn, id, seed uint64, client string, onClose func(*faultConn)) *faultConn {
	fc := &faultConn{raw: raw, id: id, seed: seed, client: client, since: time.Now(), onClose: onClose}
	fc.sock = &sockConn{Conn: raw, fc: fc}
	return fc
}

// Read reads from the socket, or through the up path once a rule with
// direction up was armed.
func (c *faultConn) Read(p []byte) (int, error) {
	if s := c.up.Load(); s != nil {
		var top net.Conn
		if t := c.upTop.Load(); t != nil {
			top = t.c
		}
		return s.read(p, top)
	}
	n, err := c.raw.Read(p)
	c.in.Add(int64(n))
	return n, err
}

// Write sends p toward the client through the current write path.
func (c *faultConn) Write(p []byte) (int, error) {
	var n int
	var err error
	if t := c.top.Load(); t != nil {
		n, err = t.c.Write(p)
	} else {
		n, err = c.raw.Write(p)
	}
	c.out.Add(int64(n))
	return n, err
}

// writerOnly hides a writer's ReadFrom from io.Copy.
type writerOnly struct{ io.Writer }

// copyBufs are the 128 KiB buffers of the copies toward clients (answers
// through a phaseWriter, tunnels both ways).
var copyBufs = sync.Pool{New: func() any { b := make([]byte, 128<<10); return &b }}

var _ io.ReaderFrom = (*faultConn)(nil)

// ReadFrom copies r toward the client; without faults on the path the
// socket's own ReadFrom splices (TCP to TCP) without a user-space copy.
func (c *faultConn) ReadFrom(r io.Reader) (int64, error) {
	if c.top.Load() == nil {
		if rf, ok := c.raw.(io.ReaderFrom); ok {
			n, err := rf.ReadFrom(r)
			c.out.Add(n)
			return n, err
		}
	}
	return io.Copy(writerOnly{c}, r)
}

// NetConn returns the socket (faults.Abort finds it through this).
func (c *faultConn) NetConn() net.Conn { return c.raw }

// Seed implements faults.Seeder.
func (c *faultConn) Seed() uint64 { return c.seed }

// current is the write path's top connection.
func (c *faultConn) current() net.Conn {
	if t := c.top.Load(); t != nil {
		return t.c
	}
	return c.sock
}

// arm wraps the current write path with hook; from now on writes go
// through it.
func (c *faultConn) arm(h faults.ConnHook, notify faults.Notify) {
	c.top.Store(&connPath{c: h.WrapConn(c.current(), notify)})
}

// armUp wraps the up path with hook: from now on the client's bytes reach
// the world's reads through it.
func (c *faultConn) armUp(h faults.ConnHook, notify faults.Notify) {
	s := c.up.Load()
	if s == nil {
		s = newUpSink(c, c.raw, &c.in)
		if d := c.readDeadline.Load(); d != 0 {
			s.deadline = time.Unix(0, d)
		}
		if !c.up.CompareAndSwap(nil, s) {
			s = c.up.Load()
		}
	}
	var below net.Conn = s
	if t := c.upTop.Load(); t != nil {
		below = t.c
	}
	c.upTop.Store(&connPath{c: h.WrapConn(below, notify)})
}

// promote makes the current paths the connection's base: later requests
// start from them.
func (c *faultConn) promote() {
	c.base.Store(c.top.Load())
	c.upBase.Store(c.upTop.Load())
}

// resetPath drops the previous request's rules: it waits for bytes a
// wrapper still holds, then points the path back at the base.
func (c *faultConn) resetPath() {
	t, b := c.top.Load(), c.base.Load()
	if ut, ub := c.upTop.Load(), c.upBase.Load(); ut != ub {
		if d, ok := ut.c.(faults.Drainer); ok {
			_ = d.Drain()
		}
		c.upTop.Store(ub)
	}
	if t == b {
		return
	}
	if d, ok := t.c.(faults.Drainer); ok {
		_ = d.Drain()
	}
	c.top.Store(b)
}

// ended reports whether a fault has reset or half-closed the connection.
func (c *faultConn) ended() bool { return c.sock.aborted.Load() || c.sock.faultFIN.Load() }

// CloseWrite sends a FIN after the bytes the write path holds: the
// proxy's own, when the origin ended, which the journal does not blame on
// a fault.
func (c *faultConn) CloseWrite() error {
	c.ownFIN.Store(true)
	if hc, ok := c.current().(interface{ CloseWrite() error }); ok {
		return hc.CloseWrite()
	}
	return c.sock.CloseWrite()
}

// lingerDrain bounds how long a closing connection that already sent its
// FIN reads what the client still sends, so the close stays a FIN: the
// kernel answers a close with unread bytes by a reset.
const lingerDrain = 500 * time.Millisecond

// drainOnClose bounds how long a closing connection waits for a client
// that does not read the bytes a wrapper still holds.
const drainOnClose = 30 * time.Second

// Close closes the connection through its write path (wrappers end their
// waits). After a fault's FIN it first swallows what the client still
// sends, briefly, so the FIN is not followed by a reset.
func (c *faultConn) Close() error {
	var err error
	c.closeOnce.Do(func() {
		if t := c.stallTimer.Load(); t != nil {
			t.Stop()
		}
		// Bytes a wrapper still holds (latency) go out first: net/http
		// closes right after the last write of a "Connection: close" answer.
		if t := c.top.Load(); t != nil && !c.sock.closed.Load() && !c.sock.aborted.Load() {
			if d, ok := t.c.(faults.Drainer); ok {
				_ = c.raw.SetWriteDeadline(time.Now().Add(drainOnClose))
				_ = d.Drain()
			}
		}
		if c.sock.halfClosed.Load() && !c.sock.aborted.Load() && !c.sock.closed.Load() {
			_ = c.raw.SetReadDeadline(time.Now().Add(lingerDrain))
			_, _ = io.CopyN(io.Discard, c.raw, 1<<20)
		}
		if t := c.top.Load(); t != nil {
			err = t.c.Close()
		}
		if b := c.base.Load(); b != nil {
			_ = b.c.Close()
		}
		for _, p := range []*connPath{c.upTop.Load(), c.upBase.Load()} {
			if p != nil {
				_ = p.c.Close() // ends a push waiting in a hook
			}
		}
		if s := c.up.Load(); s != nil {
			_ = s.Close()
		}
		if b := c.reqUp.Load(); b != nil {
			_ = b.sink.Close()
			if t := b.top.Load(); t != nil {
				_ = t.c.Close()
			}
		}
		if e := c.sock.Close(); err == nil {
			err = e
		}
		if c.onClose != nil {
			c.onClose(c)
		}
	})
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// kill closes the socket at once (world shutdown, a client that gave up
// during a stall, the maximum stall): every wait and copy on it ends.
func (c *faultConn) kill() {
	c.sock.closed.Store(true)
	_ = c.raw.Close()
	_ = c.Close()
}

// endStallWhenDone ends c when ctx (a request's) ends during a stall: a
// stalled answer ends when the client gives up. stop releases the watch.
func (c *faultConn) endStallWhenDone(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		if c.stalling.Load() {
			c.kill()
		}
	})
}

// boundStall makes sure a stall armed on c ends by max: the connection is
// closed then.
func (c *faultConn) boundStall(max time.Duration) {
	c.stalling.Store(true)
	if c.stallTimer.Load() != nil {
		return
	}
	t := time.AfterFunc(max, c.kill)
	if !c.stallTimer.CompareAndSwap(nil, t) {
		t.Stop()
	}
}

// sockConn is the bottom of every write path: the socket, recording what
// faults do to it.
type sockConn struct {
	net.Conn
	fc         *faultConn
	halfClosed atomic.Bool // a FIN was sent
	faultFIN   atomic.Bool // … by a fault, not by the proxy relaying the origin's end
	aborted    atomic.Bool
	closed     atomic.Bool
}

// NetConn returns the socket.
func (s *sockConn) NetConn() net.Conn { return s.Conn }

// Seed implements faults.Seeder.
func (s *sockConn) Seed() uint64 { return s.fc.seed }

// SetLinger records a reset (faults.Abort sets linger 0 and closes).
func (s *sockConn) SetLinger(sec int) error {
	l, ok := s.Conn.(interface{ SetLinger(int) error })
	if !ok {
		return faults.ErrNoSocket
	}
	if sec == 0 {
		s.aborted.Store(true)
	}
	return l.SetLinger(sec)
}

// SyscallConn exposes the socket (faults.Abort reads its send queue).
func (s *sockConn) SyscallConn() (syscall.RawConn, error) {
	sc, ok := s.Conn.(syscall.Conn)
	if !ok {
		return nil, faults.ErrNoSocket
	}
	return sc.SyscallConn()
}

// CloseWrite sends a FIN.
func (s *sockConn) CloseWrite() error {
	s.halfClosed.Store(true)
	if !s.fc.ownFIN.Load() {
		s.faultFIN.Store(true)
	}
	if h, ok := s.Conn.(interface{ CloseWrite() error }); ok {
		return h.CloseWrite()
	}
	return s.Conn.Close()
}

// Close closes the socket.
func (s *sockConn) Close() error {
	s.closed.Store(true)
	return s.Conn.Close()
}

// LocalAddr returns the socket's local address.
func (c *faultConn) LocalAddr() net.Addr { return c.raw.LocalAddr() }

// RemoteAddr returns the client's address.
func (c *faultConn) RemoteAddr() net.Addr { return c.raw.RemoteAddr() }

// SetDeadline sets the socket's deadlines.
func (c *faultConn) SetDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	return c.raw.SetDeadline(t)
}

// SetReadDeadline sets the socket's read deadline (and the up path's).
func (c *faultConn) SetReadDeadline(t time.Time) error {
	c.noteReadDeadline(t)
	return c.raw.SetReadDeadline(t)
}

func (c *faultConn) noteReadDeadline(t time.Time) {
	var d int64
	if !t.IsZero() {
		d = t.UnixNano()
	}
	c.readDeadline.Store(d)
	if s := c.up.Load(); s != nil {
		s.setDeadline(t)
	}
	if b := c.reqUp.Load(); b != nil {
		b.sink.setDeadline(t)
	}
}

// SetWriteDeadline sets the socket's write deadline.
func (c *faultConn) SetWriteDeadline(t time.Time) error { return c.raw.SetWriteDeadline(t) }

var _ net.Conn = (*faultConn)(nil)
