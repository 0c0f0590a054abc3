package simulate

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wufault/wufault/faults"
)

// The up path: tcp.* rules with direction up act on the client's bytes
// toward the server. The hooks are the same write wrappers as toward the
// client (faults.ConnHook): what the world reads from the client socket
// is written through the chain of armed up hooks into an upSink, and the
// world's reads (net/http's, the MITM's, a tunnel's copy) take their bytes
// from the sink. A reset finds the client socket under the sink
// (NetConn), a close half-closes the sink (the reader gets EOF), a stall,
// latency, bandwidth or slice makes the bytes reach the sink later.
//
// One read of the socket at a time is pushed through the chain, by a
// goroutine of its own so that the reader returns as soon as the first
// bytes reach the sink (a slice's first segment, say); the next read of
// the socket waits until the push is over, so the sink holds at most one
// read's worth and bytes never overtake one another. A reader waiting for
// the sink honours the connection's read deadline (net/http aborts its
// background read with a deadline in the past).

// upSink is the bottom of the up path: what the hooks write is what the
// world reads. src is the client socket (rules armed at accept or at a
// CONNECT) or, for rules armed during an HTTP request, its body, so that
// after_bytes counts body bytes whatever net/http had already buffered.
type upSink struct {
	fc    *faultConn
	src   io.Reader
	count *atomic.Int64 // where the bytes read from src are counted (nil: not here)
	body  bool          // src is a request body: a close ends it short (io.ErrUnexpectedEOF)

	mu      sync.Mutex
	buf     []byte
	pushing bool  // a read of the socket is on its way through the hooks
	eof     bool  // a tcp.close up: the reader gets EOF after buf
	err     error // the socket's read error, or the hooks' (a reset)
	closed  bool
	wake    chan struct{} // a change (cap 1)

	deadline time.Time // the connection's read deadline
	scratch  []byte    // the socket read buffer (owned by the push while pushing)
}

func newUpSink(fc *faultConn, src io.Reader, count *atomic.Int64) *upSink {
	return &upSink{fc: fc, src: src, count: count, wake: make(chan struct{}, 1)}
}

// NetConn returns the client connection's write path bottom, where
// faults.Abort finds the socket.
func (s *upSink) NetConn() net.Conn { return s.fc.sock }

func (s *upSink) poke() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Write delivers bytes to the reader.
func (s *upSink) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.eof {
		return 0, net.ErrClosed
	}
	s.buf = append(s.buf, p...)
	s.poke()
	return len(p), nil
}

// CloseWrite ends the stream the reader sees (tcp.close up).
func (s *upSink) CloseWrite() error {
	s.mu.Lock()
	s.eof = true
	s.mu.Unlock()
	s.poke()
	return nil
}

// Close ends every wait.
func (s *upSink) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.poke()
	return nil
}

func (s *upSink) setDeadline(t time.Time) {
	s.mu.Lock()
	s.deadline = t
	s.mu.Unlock()
	s.poke()
}

func (s *upSink) LocalAddr() net.Addr                { return s.fc.raw.LocalAddr() }
func (s *upSink) RemoteAddr() net.Addr               { return s.fc.raw.RemoteAddr() }
func (s *upSink) Read([]byte) (int, error)           { return 0, io.EOF }
func (s *upSink) SetDeadline(time.Time) error        { return nil }
func (s *upSink) SetReadDeadline(time.Time) error    { return nil }
func (s *upSink) SetWriteDeadline(t time.Time) error { return nil }

// Seed implements faults.Seeder (tcp.latency's jitter up).
func (s *upSink) Seed() uint64 { return s.fc.seed ^ 0x5bd1e995 }

// read returns the client's bytes through the up path into p.
func (s *upSink) read(p []byte, top net.Conn) (int, error) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		s.mu.Lock()
		if len(s.buf) > 0 {
			n := copy(p, s.buf)
			s.buf = s.buf[n:]
			if len(s.buf) == 0 {
				s.buf = nil
			}
			s.mu.Unlock()
			return n, nil
		}
		switch {
		case s.closed:
			s.mu.Unlock()
			return 0, net.ErrClosed
		case s.eof && s.body:
			s.mu.Unlock()
			return 0, io.ErrUnexpectedEOF
		case s.eof:
			s.mu.Unlock()
			return 0, io.EOF
		case s.err != nil:
			err := s.err
			s.mu.Unlock()
			return 0, err
		}
		dl := s.deadline
		if !s.pushing {
			s.mu.Unlock()
			if top == nil {
				// The rules are gone (the next request) and the sink is
				// empty: back to the socket.
				n, err := s.src.Read(p)
				if s.count != nil {
					s.count.Add(int64(n))
				}
				return n, err
			}
			if err := s.push(len(p), top); err != nil {
				return 0, err
			}
			continue
		}
		s.mu.Unlock()
		var expired <-chan time.Time
		if !dl.IsZero() {
			d := time.Until(dl)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			if timer == nil {
				timer = time.NewTimer(d)
			} else {
				timer.Reset(d)
			}
			expired = timer.C
		}
		select {
		case <-s.wake:
		case <-expired:
		}
	}
}

// push reads the socket once and sends what it read through the hooks in
// a goroutine; a read error (a deadline too) is the caller's.
func (s *upSink) push(max int, top net.Conn) error {
	if cap(s.scratch) == 0 {
		s.scratch = make([]byte, 32<<10)
	}
	b := s.scratch[:min(max, cap(s.scratch))]
	n, err := s.src.Read(b)
	if s.count != nil {
		s.count.Add(int64(n))
	}
	if n == 0 {
		if err == nil {
			err = io.ErrNoProgress
		}
		return err
	}
	s.mu.Lock()
	s.pushing = true
	s.mu.Unlock()
	go func() {
		_, werr := top.Write(b[:n])
		if d, ok := top.(faults.Drainer); ok && werr == nil {
			werr = d.Drain() // a latency holds the bytes: they are on their way until it lets them go
		}
		s.mu.Lock()
		s.pushing = false
		if werr != nil && s.err == nil && !s.eof {
			s.err = werr
		}
		if err != nil && s.err == nil && !s.eof {
			s.err = err // after the bytes that came with it
		}
		s.mu.Unlock()
		s.poke()
	}()
	return nil
}

// upBody is an HTTP request's body read through the up rules armed during
// the request.
type upBody struct {
	io.ReadCloser
	sink *upSink
	top  atomic.Pointer[connPath]
}

// newUpBody wraps body (never nil) of a request on fc.
func newUpBody(fc *faultConn, body io.ReadCloser) *upBody {
	b := &upBody{ReadCloser: body}
	b.sink = newUpSink(fc, body, nil)
	b.sink.body = true
	if d := fc.readDeadline.Load(); d != 0 {
		b.sink.deadline = time.Unix(0, d)
	}
	return b
}

// Read reads the body through the armed rules.
func (b *upBody) Read(p []byte) (int, error) {
	var top net.Conn
	if t := b.top.Load(); t != nil {
		top = t.c
	}
	return b.sink.read(p, top)
}

// Close ends the hooks' waits and closes the body.
func (b *upBody) Close() error {
	if t := b.top.Load(); t != nil {
		_ = t.c.Close()
	}
	_ = b.sink.Close()
	return b.ReadCloser.Close()
}

// arm wraps the body's path with hook.
func (b *upBody) arm(h faults.ConnHook, notify faults.Notify) {
	var below net.Conn = b.sink
	if t := b.top.Load(); t != nil {
		below = t.c
	}
	b.top.Store(&connPath{c: h.WrapConn(below, notify)})
}
