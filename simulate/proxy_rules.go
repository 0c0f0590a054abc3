package simulate

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// How connection rules (tcp.*) are split between the moments the proxy
// arms them. Every rule is counted once per event it is asked about:
//
//   - at accept, with an empty target: rules with an empty match that act on
//     the whole connection (tcp.refuse, the shaping kinds tcp.latency,
//     tcp.bandwidth and tcp.slice, and phase connect);
//   - at a CONNECT, with {host, CONNECT}: the remaining connection-level
//     rules (refuse, shaping, phases connect, proxy and handshake);
//   - on an opaque tunnel, right after the 200, with the same target: rules
//     at request, headers and body, which act on the tunnel data (their
//     phase cannot be located inside TLS without the MITM: they count
//     bytes from the first byte the origin sends);
//   - per plain request, with {host, path, method, class}: every rule not
//     taken at accept (connect, proxy and handshake act when the request
//     arrives, before anything is answered);
//   - per request inside an intercepted tunnel: phases request, headers and
//     body, and refuse or shaping rules that look inside HTTP (path or class).

// ruleShape describes a tcp.* rule for the arming decisions.
type ruleShape struct {
	phase profile.Phase // "" for the kinds that act on the whole connection
	after int64
	whole bool // faults.ArmWhole: refuse and the shaping kinds
}

func shapeOf(r *faults.Rule) ruleShape {
	if faults.ArmingOf(r.Kind) == faults.ArmWhole {
		return ruleShape{whole: true}
	}
	if pb, ok := r.Fault.(faults.PhaseBinder); ok {
		p, n := pb.BoundPhase()
		return ruleShape{phase: p, after: n}
	}
	return ruleShape{whole: true}
}

// connLevel reports whether a rule acts on a connection before any HTTP
// request on it.
func (s ruleShape) connLevel() bool {
	return s.whole || s.phase == profile.PhaseConnect || s.phase == profile.PhaseProxy || s.phase == profile.PhaseHandshake
}

func keepAccept(r *faults.Rule) bool {
	s := shapeOf(r)
	return r.Match == (faults.Match{}) && (s.whole || s.phase == profile.PhaseConnect)
}

func keepConnect(r *faults.Rule) bool { return !keepAccept(r) && shapeOf(r).connLevel() }

func keepOpaque(r *faults.Rule) bool { return !keepAccept(r) && !shapeOf(r).connLevel() }

func keepPlain(r *faults.Rule) bool { return !keepAccept(r) }

func keepInner(r *faults.Rule) bool {
	if keepAccept(r) {
		return false
	}
	s := shapeOf(r)
	if s.whole {
		return r.Match.NeedsHTTP()
	}
	return !s.connLevel()
}

// armed is a selected tcp.* rule waiting for its phase.
type armed struct {
	rule  *faults.Rule
	shape ruleShape
}

// phased sorts selected rules by when they act: now (before anything is
// answered), at the headers, at the first body byte.
type phased struct {
	now, headers, body []armed
}

func splitPhases(rules []*faults.Rule) phased {
	var p phased
	for _, r := range rules {
		a := armed{rule: r, shape: shapeOf(r)}
		switch a.shape.phase {
		case profile.PhaseHeaders:
			p.headers = append(p.headers, a)
		case profile.PhaseBody:
			p.body = append(p.body, a)
		default:
			p.now = append(p.now, a)
		}
	}
	return p
}

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

// armRequest starts a request's tcp.* rules (those keep admits) on fc:
// the previous request's are dropped, the ones that act now are armed,
// and those waiting for the headers or the body are returned for the
// phaseWriter. ok is false when a rule ended the connection.
func (w *World) armRequest(fc *faultConn, act *Active, ev event, keep func(*faults.Rule) bool) (rules phased, ok bool) {
	fc.resetPath()
	rules = splitPhases(act.Set.SelectFunc("tcp", ev.target, keep))
	for _, a := range rules.now {
		w.arm(fc, ev, a)
	}
	return rules, !fc.ended()
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

// arm puts a rule's hook on fc's write path and journals it; the hook's
// notifications become "fault" events.
func (w *World) arm(fc *faultConn, ev event, a armed) {
	h, ok := a.rule.Fault.(faults.ConnHook)
	if !ok {
		return
	}
	phase := a.shape.phase
	if phase == "" {
		phase = profile.PhaseConnect
		if ev.req != 0 {
			phase = profile.PhaseRequest
		}
	}
	detail := "armed"
	if a.shape.phase != "" {
		detail = "armed at " + string(a.shape.phase) + " after " + strconv.FormatInt(a.shape.after, 10) + " bytes"
	}
	w.metrics.fired.WithLabelValues(a.rule.Kind).Inc()
	e := ev.entry(EventArmed)
	e.Phase, e.Fault, e.Rule, e.Detail = phase, a.rule.Kind, a.rule.Index+1, detail
	w.journal.Add(e)
	// A stall without an end (or longer than the maximum) is bounded by the
	// world: the connection is closed at MaxStall. A stall of a set
	// duration ends by itself and leaves the connection alone.
	if faults.Unbounded(a.rule.Kind, a.rule.Fault, w.opts.MaxStall) {
		fc.boundStall(w.opts.MaxStall)
	}
	notify := func(d string) {
		w.metrics.acted.WithLabelValues(a.rule.Kind).Inc()
		e := ev.entry(EventFault)
		e.Phase, e.Fault, e.Rule, e.Bytes, e.Detail = phase, a.rule.Kind, a.rule.Index+1, fc.out.Load(), d
		w.journal.Add(e)
	}
	fc.arm(h, notify)
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

// phaseWriter sits between net/http's ResponseWriter and everything that
// answers a request (http.* hooks, goproxy). It arms header-phase rules
// when the status is decided (nothing of the answer has reached the socket
// yet) and body-phase rules at the first body byte, after flushing the
// headers through the header-phase path. It records status and body bytes
// for the journal.
type phaseWriter struct {
	http.ResponseWriter
	w      *World
	fc     *faultConn
	ev     event
	rules  phased
	status int
	bytes  int64
	armedH bool
	armedB bool
}

func (p *phaseWriter) armHeaders() {
	if p.armedH {
		return
	}
	p.armedH = true
	for _, a := range p.rules.headers {
		p.w.arm(p.fc, p.ev, a)
	}
}

// WriteHeader arms the header-phase rules and passes the status on.
func (p *phaseWriter) WriteHeader(code int) {
	if code >= 200 && p.status == 0 {
		p.status = code
		p.armHeaders()
	}
	p.ResponseWriter.WriteHeader(code)
}

// Write arms the body-phase rules before the first body byte.
func (p *phaseWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if !p.armedB && len(b) > 0 {
		p.armedB = true
		if len(p.rules.body) > 0 {
			_ = http.NewResponseController(p.ResponseWriter).Flush()
			for _, a := range p.rules.body {
				p.w.arm(p.fc, p.ev, a)
			}
		}
	}
	n, err := p.ResponseWriter.Write(b)
	p.bytes += int64(n)
	return n, err
}

// ReadFrom copies a body (goproxy's io.Copy of the origin's answer) in
// large slices: one read and one write per 128 KiB instead of per 32 KiB.
// An origin socket (spliceBody.WriteTo) goes to net/http's own ReadFrom
// when no body-phase rule waits for the first byte: it reaches
// faultConn.ReadFrom, which splices unless a rule is armed on the path.
func (p *phaseWriter) ReadFrom(r io.Reader) (int64, error) {
	if lr, ok := r.(*io.LimitedReader); ok && len(p.rules.body) == 0 {
		if _, sock := lr.R.(*net.TCPConn); sock {
			if rf, ok := p.ResponseWriter.(io.ReaderFrom); ok {
				if p.status == 0 {
					p.WriteHeader(http.StatusOK)
				}
				p.armedB = true
				bare := p.fc.top.Load() == nil // no rule on the path: faultConn.ReadFrom splices
				n, err := rf.ReadFrom(r)
				p.bytes += n
				if bare {
					p.w.metrics.spliced.Add(float64(n))
				}
				return n, err
			}
		}
	}
	bp := copyBufs.Get().(*[]byte)
	defer copyBufs.Put(bp)
	return io.CopyBuffer(writerOnly{p}, r, *bp)
}

// Flush flushes the answer so far.
func (p *phaseWriter) Flush() { _ = http.NewResponseController(p.ResponseWriter).Flush() }

// Hijack hands the connection over (http.malformed, http.truncate); the
// answer starts, so header-phase rules are armed first.
func (p *phaseWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	p.armHeaders()
	return http.NewResponseController(p.ResponseWriter).Hijack()
}

// Unwrap returns net/http's ResponseWriter (http.ResponseController).
func (p *phaseWriter) Unwrap() http.ResponseWriter { return p.ResponseWriter }
