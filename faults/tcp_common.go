package faults

import (
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// connPhases are the phases a connection-level fault can be armed at.
var connPhases = []profile.Phase{profile.PhaseConnect, profile.PhaseProxy, profile.PhaseHandshake, profile.PhaseRequest, profile.PhaseHeaders, profile.PhaseBody}

// Drainer is implemented by wrappers that hold bytes back (tcp.latency):
// Drain blocks until every byte accepted by Write has been written below
// or the connection has failed. The world drains a connection before it
// re-points its write path, so bytes never overtake one another.
type Drainer interface {
	Drain() error
}

// Seeder is implemented by connections the world hands to WrapConn. Faults
// that draw random numbers (tcp.latency's jitter) seed them from it, so the
// scenario seed fixes them; without it they use a fixed seed.
type Seeder interface {
	Seed() uint64
}

// connRand returns a random source seeded from the Seeder under c.
func connRand(c net.Conn) *rand.Rand {
	seed := uint64(1)
	if s, ok := find[Seeder](c); ok {
		seed = s.Seed()
	}
	return rand.New(rand.NewPCG(seed, 0x6a09e667f3bcc908))
}

// wrapped is the base of every tcp.* wrapper: it passes everything to the
// connection below, offers it through NetConn (so Abort and HalfClose can
// find the socket) and closes done when closed, which ends every wait.
// Waits happen on the wrapper's one writing goroutine (writes toward the
// client are never concurrent), so they share one timer.
type wrapped struct {
	net.Conn
	done  chan struct{}
	once  sync.Once
	timer *time.Timer // sleep's, made on the first wait
}

func newWrapped(c net.Conn) wrapped { return wrapped{Conn: c, done: make(chan struct{})} }

// NetConn returns the wrapped connection.
func (w *wrapped) NetConn() net.Conn { return w.Conn }

// Close ends every wait of the wrapper and closes the connection below.
func (w *wrapped) Close() error {
	w.once.Do(func() { close(w.done) })
	return w.Conn.Close()
}

// CloseWrite half-closes the connection below.
func (w *wrapped) CloseWrite() error {
	if h, ok := w.Conn.(halfCloser); ok {
		return h.CloseWrite()
	}
	return HalfClose(w.Conn)
}

// Drain drains the connection below when it holds bytes back.
func (w *wrapped) Drain() error {
	if d, ok := w.Conn.(Drainer); ok {
		return d.Drain()
	}
	return nil
}

// sleep waits d, or until the wrapper is closed (false).
func (w *wrapped) sleep(d time.Duration) bool {
	if d <= 0 {
		select {
		case <-w.done:
			return false
		default:
			return true
		}
	}
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d) // no stale tick since Go 1.23: Stop and Reset empty the channel
	}
	select {
	case <-w.timer.C:
		return true
	case <-w.done:
		w.timer.Stop()
		return false
	}
}

// until waits until t, or until the wrapper is closed (false).
func (w *wrapped) until(t time.Time) bool { return w.sleep(time.Until(t)) }

// cutConn lets left bytes through and then acts once: act ends the
// connection (reset or FIN) and every later write fails with ErrInjected.
type cutConn struct {
	wrapped
	left int64
	act  func()
	err  error
}

// newCut returns c wrapped so that act runs once after bytes have been
// written; with bytes == 0 act runs now.
func newCut(c net.Conn, bytes int64, act func()) net.Conn {
	k := &cutConn{wrapped: newWrapped(c), left: bytes, act: act}
	if bytes == 0 {
		k.fire()
	}
	return k
}

func (k *cutConn) fire() {
	k.err = ErrInjected
	k.act()
}

// Write passes bytes until the allowance is used, then acts.
func (k *cutConn) Write(p []byte) (int, error) {
	if k.err != nil {
		return 0, k.err
	}
	if int64(len(p)) < k.left {
		n, err := k.Conn.Write(p)
		k.left -= int64(n)
		return n, err
	}
	n, err := k.Conn.Write(p[:k.left])
	k.left -= int64(n)
	if err != nil {
		return n, err
	}
	k.fire()
	return n, k.err
}

// plural formats a byte count for journal details.
func plural(n int64) string {
	if n == 1 {
		return "1 byte"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
