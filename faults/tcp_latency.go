package faults

import (
	"errors"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// TCPLatency delays every write toward the client (with direction up, toward the server) by latency ± jitter.
type TCPLatency struct {
	// Latency is the delay added to every write.
	Latency profile.Duration `yaml:"latency" json:"latency"`
	// Jitter is the most a delay varies by, either way (default 0).
	Jitter   profile.Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`
	Directed `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "tcp.latency", Summary: "delays every write toward the client (or with direction up the server) by latency ± jitter", New: func() Fault { return new(TCPLatency) }, Arm: ArmWhole})
}

var _ ConnHook = (*TCPLatency)(nil)

// Validate checks the parameters.
func (f *TCPLatency) Validate() error {
	var errs []error
	if f.Latency <= 0 {
		errs = append(errs, fieldErr("latency", "must be positive, got %s", f.Latency))
	}
	if f.Jitter < 0 || f.Jitter > f.Latency {
		errs = append(errs, fieldErr("jitter", "must be between 0 and latency (%s), got %s", f.Latency, f.Jitter))
	}
	return errors.Join(append(errs, f.Directed.validate())...)
}

// latencyWindow bounds the bytes a delay line holds, like a TCP window: a
// writer that gets further ahead blocks.
const latencyWindow = 4 << 20

// WrapConn returns a delay line: each write reaches the client latency ±
// jitter after it was made, in order, while the writer goes on (a link's
// delay, not a bandwidth cap). Jitter draws come from the connection's
// seed. Close discards what is still queued; Drain and CloseWrite wait for
// it.
func (f *TCPLatency) WrapConn(c net.Conn, notify Notify) net.Conn {
	l := &latencyConn{wrapped: newWrapped(c), f: f, notify: notify}
	l.cond = sync.NewCond(&l.mu)
	if f.Jitter > 0 {
		l.rnd = connRand(c)
	}
	return l
}

type delayed struct {
	b   []byte
	due time.Time
}

type latencyConn struct {
	wrapped
	f      *TCPLatency
	notify Notify
	rnd    *rand.Rand

	mu       sync.Mutex
	cond     *sync.Cond
	queue    []delayed
	queued   int  // bytes in queue
	busy     bool // the sender goroutine runs
	writing  bool // it holds a chunk it has not finished writing
	closed   bool
	err      error
	last     time.Time // due time of the newest chunk (keeps order under jitter)
	notified bool
}

func (l *latencyConn) delay() time.Duration {
	d := l.f.Latency.D()
	if j := l.f.Jitter.D(); j > 0 {
		d += time.Duration(l.rnd.Int64N(int64(2*j)+1)) - j
	}
	return d
}

// Write queues p to be written after the delay.
func (l *latencyConn) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.notified {
		l.notified = true
		d := "delaying writes by " + l.f.Latency.String()
		if l.f.Jitter > 0 {
			d += " ± " + l.f.Jitter.String()
		}
		l.notify(d)
	}
	for l.queued > 0 && l.queued+len(p) > latencyWindow && !l.closed && l.err == nil {
		l.cond.Wait()
	}
	if l.closed {
		return 0, net.ErrClosed
	}
	if l.err != nil {
		return 0, l.err
	}
	due := time.Now().Add(l.delay())
	if due.Before(l.last) {
		due = l.last
	}
	l.last = due
	l.queue = append(l.queue, delayed{b: append([]byte(nil), p...), due: due})
	l.queued += len(p)
	if !l.busy {
		l.busy = true
		go l.send()
	}
	l.cond.Broadcast()
	return len(p), nil
}

// send writes queued chunks when they are due; it exits when the queue is
// empty and is restarted by the next Write.
func (l *latencyConn) send() {
	l.mu.Lock()
	for len(l.queue) > 0 && !l.closed && l.err == nil {
		d := l.queue[0]
		l.queue[0] = delayed{}
		l.queue = l.queue[1:]
		l.writing = true
		l.mu.Unlock()
		ok := l.until(d.due)
		var err error
		if ok {
			_, err = l.Conn.Write(d.b)
		}
		l.mu.Lock()
		l.writing = false
		l.queued -= len(d.b)
		if err != nil && l.err == nil {
			l.err = err
		}
		l.cond.Broadcast()
	}
	l.queue = nil
	l.busy = false
	l.cond.Broadcast()
	l.mu.Unlock()
}

// Drain waits until every queued byte has been written.
func (l *latencyConn) Drain() error {
	l.mu.Lock()
	for (len(l.queue) > 0 || l.writing) && !l.closed && l.err == nil {
		l.cond.Wait()
	}
	err := l.err
	l.mu.Unlock()
	if err != nil {
		return err
	}
	return l.wrapped.Drain()
}

// CloseWrite sends the FIN after the queued bytes.
func (l *latencyConn) CloseWrite() error {
	if err := l.Drain(); err != nil {
		return err
	}
	return l.wrapped.CloseWrite()
}

// Close drops what is queued and closes the connection below.
func (l *latencyConn) Close() error {
	l.mu.Lock()
	l.closed = true
	l.cond.Broadcast()
	l.mu.Unlock()
	return l.wrapped.Close()
}
