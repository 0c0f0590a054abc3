package simulate

import (
	"net"
	"sync"
	"time"

	"github.com/wufault/wufault/faults"
)

// connTracker admits the connections of one service and keeps them, so
// that Close can end every one of them.
type connTracker struct {
	w   *World
	svc string

	// idle, when set, runs each time the last open connection closed.
	idle func()

	mu      sync.Mutex
	conns   map[*faultConn]struct{}
	closing bool
}

// open is the number of open connections.
func (t *connTracker) open() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.conns)
}

func newConnTracker(w *World, svc string) *connTracker {
	return &connTracker{w: w, svc: svc, conns: map[*faultConn]struct{}{}}
}

// admit lets in allowed clients only (loopback or --allow-cidr) and arms
// the connection-wide tcp.* rules before the first byte is read. It
// returns nil for a connection that was turned away or ended by a fault.
func (t *connTracker) admit(raw net.Conn) *faultConn {
	w := t.w
	client := raw.RemoteAddr().String()
	if !w.clientAllowed(raw.RemoteAddr()) {
		w.metrics.conns.WithLabelValues(t.svc, "denied").Inc()
		w.journal.Add(Event{Kind: EventConnClose, Service: t.svc, Client: client, Detail: "client not allowed (not loopback, not in --allow-cidr): closed"})
		_ = faults.Abort(raw)
		return nil
	}
	id := w.journal.NewID()
	act := w.activeForNet(raw.RemoteAddr())
	fc := newFaultConn(raw, id, uint64(act.Seed)*0x9e3779b97f4a7c15^id, client, t.closed)
	t.mu.Lock()
	if t.closing {
		t.mu.Unlock()
		_ = raw.Close()
		return nil
	}
	t.conns[fc] = struct{}{}
	t.mu.Unlock()
	w.metrics.conns.WithLabelValues(t.svc, "accepted").Inc()
	w.metrics.open.WithLabelValues(t.svc).Inc()
	w.journal.Add(Event{Kind: EventConnOpen, Service: t.svc, Conn: id, Client: client, Scenario: act.Name})
	ev := event{service: t.svc, conn: id, client: client, scenario: act.Name}
	w.armAccept(fc, act, ev)
	if fc.ended() {
		w.metrics.conns.WithLabelValues(t.svc, "refused").Inc()
		_ = fc.Close()
		return nil
	}
	fc.promote()
	return fc
}

// closed is every connection's end: journal, metrics, bookkeeping.
func (t *connTracker) closed(fc *faultConn) {
	t.mu.Lock()
	delete(t.conns, fc)
	idle := len(t.conns) == 0 && !t.closing && t.idle != nil
	t.mu.Unlock()
	if idle {
		t.idle()
	}
	m := t.w.metrics
	m.open.WithLabelValues(t.svc).Dec()
	m.bytes.WithLabelValues(t.svc, "to_client").Add(float64(fc.out.Load()))
	m.bytes.WithLabelValues(t.svc, "from_client").Add(float64(fc.in.Load()))
	detail := ""
	switch {
	case fc.sock.aborted.Load():
		detail = "reset by a fault"
	case fc.sock.faultFIN.Load():
		detail = "FIN sent by a fault"
	}
	t.w.journal.Add(Event{Kind: EventConnClose, Service: t.svc, Conn: fc.id, Client: fc.client,
		Bytes: fc.out.Load(), Duration: time.Since(fc.since), Detail: detail})
}

// shutdown refuses new connections and returns the open ones for the
// caller to end.
func (t *connTracker) shutdown() []*faultConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.closing = true
	out := make([]*faultConn, 0, len(t.conns))
	for c := range t.conns {
		out = append(out, c)
	}
	return out
}

// admitListener runs every accepted connection through a connTracker.
type admitListener struct {
	net.Listener
	t *connTracker
}

// Accept returns the next admitted connection.
func (l *admitListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if fc := l.t.admit(c); fc != nil {
			return fc, nil
		}
	}
}

// gate lets a service's handlers and goroutines in until the service
// shuts, and then waits for them.
type gate struct {
	mu      sync.Mutex
	closing bool
	wg      sync.WaitGroup
}

// enter registers one; false once shut.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.wg.Add(1)
	return true
}

// leave ends what enter registered.
func (g *gate) leave() { g.wg.Done() }

// shut refuses every later enter.
func (g *gate) shut() {
	g.mu.Lock()
	g.closing = true
	g.mu.Unlock()
}

// wait waits for everything entered to leave.
func (g *gate) wait() { g.wg.Wait() }
