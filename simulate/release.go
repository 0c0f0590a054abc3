package simulate

import (
	"runtime/debug"
	"sync"
	"time"
)

// quietPeriod is how long the proxy has had no client connection open
// before it releases what a load left behind.
const quietPeriod = 5 * time.Second

// quietRelease runs release once no client connection has been open for
// quietPeriod: each time the last connection closes, arm (re)starts the
// wait. A load otherwise leaves, for minutes, the idle upstream
// connections (up to 90 s, with the origins' sockets behind them) and the
// net package's pooled splice pipes (two descriptors per splice that ran
// at once, until the garbage collector's forced cycles drop them).
type quietRelease struct {
	release func()

	mu      sync.Mutex
	timer   *time.Timer
	stopped bool
}

// arm starts the quiet wait again.
func (q *quietRelease) arm() {
	q.mu.Lock()
	defer q.mu.Unlock()
	switch {
	case q.stopped || q.release == nil:
	case q.timer == nil:
		q.timer = time.AfterFunc(quietPeriod, q.release)
	default:
		q.timer.Reset(quietPeriod)
	}
}

// stop ends the waits for good.
func (q *quietRelease) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.stopped = true
	if q.timer != nil {
		q.timer.Stop()
	}
}

// releaseIdle closes the idle upstream connections (the Transport's and
// the splicing exchange's) and has the splice pipes released, unless a
// client connection opened meanwhile (its close arms the wait again).
func (p *proxyService) releaseIdle() {
	if p.t.open() > 0 {
		return
	}
	p.tr.CloseIdleConnections()
	p.origins.closeIdle(false)
	releaseSplicePipes()
}

// releaseSplicePipes drops the pipes the net package keeps for TCP
// splices. They sit in a sync.Pool that a garbage collection cycle only
// moves to its victim cache and the next one drops (the pipes are closed
// by their cleanups then); an idle process runs a cycle only every two
// minutes. Two forced cycles, which also return the freed memory to the
// system, cost milliseconds once per quiet period.
func releaseSplicePipes() {
	debug.FreeOSMemory()
	debug.FreeOSMemory()
}
