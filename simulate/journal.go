package simulate

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// Event kinds recorded in the journal.
const (
	EventConnOpen  = "conn.open"   // a client connection was accepted
	EventConnClose = "conn.close"  // it ended (Bytes: toward the client)
	EventRequest   = "request"     // an HTTP request (plain or intercepted) or CONNECT
	EventResponse  = "response"    // the answer to it (Status, Bytes)
	EventDNSQuery  = "dns.query"   // a DNS question and its rcode
	EventFault     = "fault"       // a fault fired (Fault, Rule, Phase, Detail)
	EventArmed     = "fault.armed" // a connection fault was armed at its phase; "fault" follows when it acts
	EventHandshake = "tls"         // a TLS handshake finished or failed
	EventAuth      = "auth"        // a proxy authentication leg (no secrets)
	EventReport    = "report"      // a code reported by a real client (ReportEventBatch, agent)
	EventScenario  = "scenario"    // the active scenario changed
	EventError     = "error"       // the world itself failed (not a fault)
	EventCA        = "ca"          // the world created its lab CA (Detail: how a client trusts it)
)

// EventKinds lists every event kind, for filters that must refuse the
// others (a test checks that it names every Event* constant).
var EventKinds = []string{EventConnOpen, EventConnClose, EventRequest, EventResponse, EventDNSQuery,
	EventFault, EventArmed, EventHandshake, EventAuth, EventReport, EventScenario, EventError, EventCA}

// Event is one journal entry. Conn and Req tie firings to the connection and
// request they hit, so every failure a client sees can be attributed.
type Event struct {
	Seq      uint64        `json:"seq"`
	Time     time.Time     `json:"time"`
	Kind     string        `json:"event"`
	Scenario string        `json:"scenario,omitempty"`
	Conn     uint64        `json:"conn,omitempty"`
	Req      uint64        `json:"req,omitempty"`
	Service  string        `json:"service,omitempty"` // proxy, dns, upstream-http, upstream-https, control
	Client   string        `json:"client,omitempty"`  // remote address
	Host     string        `json:"host,omitempty"`
	Method   string        `json:"method,omitempty"`
	Path     string        `json:"path,omitempty"`
	Class    profile.Class `json:"class,omitempty"`
	Phase    profile.Phase `json:"phase,omitempty"`
	Fault    string        `json:"fault,omitempty"` // kind
	Rule     int           `json:"rule,omitempty"`  // index in the scenario's faults + 1 (0: none)
	Status   int           `json:"status,omitempty"`
	Rcode    string        `json:"rcode,omitempty"`
	Bytes    int64         `json:"bytes,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	Code     string        `json:"code,omitempty"` // a WU code, for reports
	Detail   string        `json:"detail,omitempty"`
	// Auth is the proxy authentication leg of an "auth" event: scheme,
	// leg, user, outcome and reason, never a secret.
	Auth *faults.AuthEvent `json:"auth,omitempty"`
}

// Journal keeps the most recent events in a ring and streams new ones to
// subscribers. It is safe for concurrent use; adding never blocks on a slow
// subscriber (the subscriber misses events instead, and Dropped counts them).
type Journal struct {
	mu      sync.Mutex
	ring    []Event // grows by doubling up to capacity, then wraps
	cap     int
	next    int
	full    bool
	seq     uint64
	subs    map[chan Event]struct{}
	dropped atomic.Uint64
	ids     atomic.Uint64
	now     func() time.Time
}

// journalStart is the ring's first size. A world that sees a few dozen
// events (a catalog scenario) then costs a few kilobytes, not the 20 MB
// of a full ring, which the lab's hundred-odd worlds per run paid in
// allocation and zeroing.
const journalStart = 256

// NewJournal keeps up to capacity events (default 65536).
func NewJournal(capacity int) *Journal {
	if capacity <= 0 {
		capacity = 1 << 16
	}
	return &Journal{ring: make([]Event, min(capacity, journalStart)), cap: capacity, subs: map[chan Event]struct{}{}, now: time.Now}
}

// NewID returns a fresh connection or request id (never 0).
func (j *Journal) NewID() uint64 { return j.ids.Add(1) }

// Add records e, stamping its sequence number and (if unset) its time.
func (j *Journal) Add(e Event) Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	if e.Time.IsZero() {
		e.Time = j.now()
	}
	j.ring[j.next] = e
	j.next++
	if j.next == len(j.ring) {
		if n := len(j.ring); n < j.cap {
			j.ring = append(j.ring, make([]Event, min(n, j.cap-n))...)
		} else {
			j.next, j.full = 0, true
		}
	}
	for ch := range j.subs {
		select {
		case ch <- e:
		default:
			j.dropped.Add(1)
		}
	}
	return e
}

// Events returns the kept events with Seq > since that keep returns true
// for (nil: all), oldest first.
func (j *Journal) Events(since uint64, keep func(Event) bool) []Event {
	return j.between(since, math.MaxUint64, keep)
}

// between returns the kept events with since < Seq < until that keep
// returns true for (nil: all), oldest first.
func (j *Journal) between(since, until uint64, keep func(Event) bool) []Event {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Event
	n := j.next
	start := 0
	if j.full {
		n, start = len(j.ring), j.next
	}
	// Sequence numbers are consecutive: the ring holds j.seq-n+1 … j.seq,
	// so the first event after since is found without a scan, and the
	// walk stops at until.
	skip := 0
	if oldest := j.seq - uint64(n) + 1; since >= oldest {
		skip = int(min(since-oldest+1, uint64(n)))
	}
	for i := skip; i < n; i++ {
		e := j.ring[(start+i)%len(j.ring)]
		if e.Seq >= until {
			break
		}
		if keep == nil || keep(e) {
			out = append(out, e)
		}
	}
	return out
}

// follow writes the kept events after since (all of them when since is
// past the newest: an id from a journal before a restart), calls ready, then writes
// each new kept event as it is added, calling flush after each batch,
// until ctx ends or a call fails. The events a slow follower's
// subscription dropped are filled in from the ring while it still holds
// them; older ones are lost (Dropped counts them). Both streams of the
// control API (JSON lines and the console's server-sent events) follow the
// journal this way, each with its own framing.
func (j *Journal) follow(ctx context.Context, since uint64, keep func(Event) bool, write func(Event) error, ready, flush func() error) error {
	ch := j.Subscribe(ctx, 4096) // before the backlog: nothing falls between
	if since > j.lastSeq() {
		// An id from another journal: the client followed a world that
		// has since restarted. Everything this one kept is new to it.
		since = 0
	}
	last := since
	send := func(e Event) error {
		if e.Seq <= last {
			return nil
		}
		if e.Seq > last+1 {
			for _, m := range j.between(last, e.Seq, keep) {
				if err := write(m); err != nil {
					return err
				}
			}
		}
		last = e.Seq
		if !keep(e) {
			return nil
		}
		return write(e)
	}
	for _, e := range j.Events(last, nil) {
		if err := send(e); err != nil {
			return err
		}
	}
	if err := ready(); err != nil {
		return err
	}
	for {
		select {
		case e, ok := <-ch:
			if !ok {
				return ctx.Err()
			}
			if err := send(e); err != nil {
				return err
			}
			// Batch what is already queued into one flush.
			for n := len(ch); n > 0; n-- {
				if err := send(<-ch); err != nil {
					return err
				}
			}
			if err := flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Subscribe streams events added from now on until ctx ends; buffer is the
// channel's capacity (default 1024).
func (j *Journal) Subscribe(ctx context.Context, buffer int) <-chan Event {
	if buffer <= 0 {
		buffer = 1024
	}
	ch := make(chan Event, buffer)
	j.mu.Lock()
	j.subs[ch] = struct{}{}
	j.mu.Unlock()
	go func() {
		<-ctx.Done()
		j.mu.Lock()
		delete(j.subs, ch)
		j.mu.Unlock()
		close(ch)
	}()
	return ch
}

// lastSeq is the sequence number of the newest event (0: none yet).
func (j *Journal) lastSeq() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.seq
}

// Dropped counts events that subscribers were too slow to take.
func (j *Journal) Dropped() uint64 { return j.dropped.Load() }
