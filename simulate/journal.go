package simulate

import (
	"context"
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
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Event
	n := j.next
	if j.full {
		n = len(j.ring)
	}
	start := 0
	if j.full {
		start = j.next
	}
	for i := range n {
		e := j.ring[(start+i)%len(j.ring)]
		if e.Seq > since && (keep == nil || keep(e)) {
			out = append(out, e)
		}
	}
	return out
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
