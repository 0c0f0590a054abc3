package simulate

import (
	"net/http"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// event identifies what a firing is journaled against.
type event struct {
	service string
	conn    uint64
	req     uint64
	client  string
	target  faults.Target
	// scenario is the name of the scenario whose rules the event meets.
	scenario string
}

// entry is a journal entry of kind about ev's connection, request and
// target.
func (ev event) entry(kind string) Event {
	return Event{Kind: kind, Service: ev.service, Conn: ev.conn, Req: ev.req, Client: ev.client, Scenario: ev.scenario,
		Host: ev.target.Host, Method: ev.target.Method, Path: ev.target.Path, Class: ev.target.Class}
}

// beginRequest counts and journals a request that service received on fc
// (kind: http, connect, intercepted, origin) and returns the event its
// firings and answer are journaled against.
func (w *World) beginRequest(service, kind string, fc *faultConn, t faults.Target, act *Active) event {
	ev := event{service: service, conn: fc.id, req: w.journal.NewID(), client: fc.client, target: t, scenario: act.Name}
	w.metrics.requests.WithLabelValues(service, kind, string(t.Class)).Inc()
	w.journal.Add(ev.entry(EventRequest))
	return ev
}

// endRequest counts and journals the answer to ev's request.
func (w *World) endRequest(ev event, fc *faultConn, status int, bytes int64, start time.Time, detail string) {
	if detail == "" && fc.ended() {
		detail = "connection ended by a fault"
	}
	w.metrics.responses.WithLabelValues(ev.service, statusClass(status)).Inc()
	e := ev.entry(EventResponse)
	e.Status, e.Bytes, e.Duration, e.Detail = status, bytes, time.Since(start), detail
	w.journal.Add(e)
}

// wrapHTTP puts the http.* rules that fire on ev's target in front of
// next, in scenario order (the first rule sees the request first), and
// journals them.
func (w *World) wrapHTTP(act *Active, ev event, next http.Handler) http.Handler {
	h := next
	for _, rule := range reversed(act.Set.Select("http", ev.target)) {
		hook, ok := rule.Fault.(faults.HTTPHook)
		if !ok {
			continue
		}
		w.fired(ev, rule, profile.PhaseRequest)
		inner := h
		h = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { hook.ServeHTTP(rw, r, inner) })
	}
	return h
}

// fired journals an http.* or proxy.* rule that was selected (those act at
// once).
func (w *World) fired(ev event, r *faults.Rule, phase profile.Phase) {
	w.metrics.fired.WithLabelValues(r.Kind).Inc()
	w.metrics.acted.WithLabelValues(r.Kind).Inc()
	e := ev.entry(EventFault)
	e.Phase, e.Fault, e.Rule = phase, r.Kind, r.Index+1
	w.journal.Add(e)
}
