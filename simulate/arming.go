package simulate

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// Arming of the tcp.* rules: the one place that decides, for every
// transport and phase, at which event the world asks a rule whether it
// fires (and so what its `when` counts: `first: N` is the first N of
// those events) and at which point of the exchange a selected rule is put
// on the connection's write path. TestArmingTable (arming_test.go) is the
// table of it, checked on real sockets.
//
// The events (moments), by transport:
//
//	every port    accept     a connection accepted, target {} (before a byte is read)
//	proxy         plain      an absolute-URI request, target {host, path, method, class}
//	proxy         connect    a CONNECT head, target {host:port, CONNECT}
//	proxy         tunnel     an opaque tunnel right after the 200, the CONNECT's target
//	proxy         inner      a request inside an intercepted tunnel (MITM or plain HTTP)
//	upstream      origin     a request on an upstream port (the emulator's HTTP, HTTPS)
//
// Each rule is asked at exactly one moment of a transport, and counted
// only when its match matches the moment's target:
//
//   - accept takes the rules with an empty match that act on the whole
//     connection (tcp.refuse and the shaping kinds tcp.latency,
//     tcp.bandwidth, tcp.slice: faults.ArmWhole) or at phase connect. They
//     count connections. No later moment asks them.
//   - connect takes the remaining connection-level rules: whole, or at
//     phase connect, proxy or handshake. They count CONNECTs. They are armed
//     before the 200 is written, but for phase handshake: behind the MITM
//     before the server's first handshake byte, in an opaque tunnel at the
//     first byte the origin sends.
//   - tunnel takes the rules at request, headers and body (their phase
//     cannot be located inside TLS without the MITM: they count bytes from
//     the first byte the origin sends, where they are armed; with
//     direction up, from the tunnel's first byte). They count CONNECTs. A rule whose match needs HTTP (path, method or class)
//     makes the proxy intercept the tunnel instead (interceptWanted).
//   - plain takes every rule accept did not: phases connect, proxy and
//     handshake act when the request arrives, before anything is
//     answered. They count requests.
//   - inner takes the rules at request, headers and body, and the
//     connection-level ones (whole, phases connect, proxy, handshake) whose
//     match needs HTTP (path or class, which a CONNECT does not have):
//     those act when the request arrives, as on plain HTTP. They count
//     requests. The other connection-level ones were asked at the CONNECT.
//   - origin takes what plain takes but phase proxy (only the proxy has
//     it). They count requests; phase handshake acts at the request, after
//     the TLS handshake of the HTTPS port.
//
// Within a request (plain, inner, origin), rules at headers are armed when
// the status is decided and nothing of the answer has reached the socket
// (phaseWriter.WriteHeader), rules at body at the first body byte, after
// the headers went out (phaseWriter.Write); all others at once.

// moment is an event at which the world asks the tcp.* rules.
type moment int

const (
	momentAccept moment = iota
	momentPlain
	momentConnect
	momentTunnel
	momentInner
	momentOrigin
)

var momentNames = [...]string{"accept", "plain", "connect", "tunnel", "inner", "origin"}

func (m moment) String() string { return momentNames[m] }

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

// asks reports whether the world asks a rule of shape s and match m at
// moment at: the whole arming table.
func asks(at moment, s ruleShape, m faults.Match) bool {
	atAccept := m == (faults.Match{}) && (s.whole || s.phase == profile.PhaseConnect)
	switch at {
	case momentAccept:
		return atAccept
	case momentPlain:
		return !atAccept
	case momentConnect:
		return !atAccept && s.connLevel()
	case momentTunnel:
		return !atAccept && !s.connLevel()
	case momentInner:
		if atAccept {
			return false
		}
		if s.connLevel() {
			// Asked at the CONNECT already, unless the match looks
			// inside HTTP: a CONNECT has no path or class to match.
			return m.NeedsHTTP()
		}
		return true
	case momentOrigin:
		return !atAccept && s.phase != profile.PhaseProxy
	}
	return false
}

// keep is the moment's filter for faults.Set.SelectFunc.
func (at moment) keep(r *faults.Rule) bool { return asks(at, shapeOf(r), r.Match) }

// selectAt asks act's tcp.* rules at moment at about target t (counting
// each that matches) and returns the selected ones with their shapes.
func selectAt(act *Active, at moment, t faults.Target) []armed {
	var out []armed
	for _, r := range act.Set.SelectFunc("tcp", t, at.keep) {
		out = append(out, armed{rule: r, shape: shapeOf(r)})
	}
	return out
}

// armed is a selected tcp.* rule waiting for its phase.
type armed struct {
	rule  *faults.Rule
	shape ruleShape
}

// splitHandshake separates the rules a CONNECT selected: those at phase
// handshake wait (for the MITM's handshake or the origin's first byte),
// the others act now.
func splitHandshake(rules []armed) (now, handshake []armed) {
	for _, a := range rules {
		if a.shape.phase == profile.PhaseHandshake {
			handshake = append(handshake, a)
		} else {
			now = append(now, a)
		}
	}
	return now, handshake
}

// upRules reports whether some of rules act on the client's bytes
// (direction up).
func upRules(rules []armed) bool {
	for _, a := range rules {
		if faults.Upstream(a.rule.Fault) {
			return true
		}
	}
	return false
}

// armTunnelUp arms the rules of an opaque tunnel that act on the client's
// bytes (direction up) before the tunnel copies its first byte, so they
// count the tunnel's bytes from the start, and returns the others, which
// wait for the origin's first byte.
func (w *World) armTunnelUp(fc *faultConn, ev event, pending []armed) []armed {
	var rest []armed
	for _, a := range pending {
		if faults.Upstream(a.rule.Fault) {
			w.arm(fc, ev, a)
		} else {
			rest = append(rest, a)
		}
	}
	return rest
}

// phased sorts a request's selected rules by when they act: now (before
// anything is answered), at the headers, at the first body byte. up is
// the request body's up path, when a rule with direction up was selected
// and the request has a body.
type phased struct {
	now, headers, body []armed
	up                 *upBody
}

func splitPhases(rules []armed) phased {
	var p phased
	for _, a := range rules {
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

// armAccept arms the rules a new connection selects, before its first
// byte is read.
func (w *World) armAccept(fc *faultConn, act *Active, ev event) {
	for _, a := range selectAt(act, momentAccept, faults.Target{}) {
		w.arm(fc, ev, a)
	}
}

// armConnect arms the rules a CONNECT selects that act before the 200 and
// returns those at phase handshake, which wait.
func (w *World) armConnect(fc *faultConn, act *Active, ev event) (handshake []armed) {
	fc.resetPath()
	now, handshake := splitHandshake(selectAt(act, momentConnect, ev.target))
	for _, a := range now {
		w.arm(fc, ev, a)
	}
	return handshake
}

// armRequest starts a request's tcp.* rules (those moment at asks) on fc:
// the previous request's are dropped, the ones that act now are armed,
// and those waiting for the headers or the body are returned for the
// phaseWriter. ok is false when a rule ended the connection.
//
// Rules with direction up act on the request body (*body, which they wrap:
// after_bytes counts body bytes); on a request without one, on the
// socket (the bytes the client sends after the request head).
func (w *World) armRequest(fc *faultConn, act *Active, ev event, at moment, body *io.ReadCloser) (rules phased, ok bool) {
	fc.resetPath()
	fc.reqUp.Store(nil)
	sel := selectAt(act, at, ev.target)
	rules = splitPhases(sel)
	if upRules(sel) && *body != nil && *body != http.NoBody {
		rules.up = newUpBody(fc, *body)
		fc.reqUp.Store(rules.up)
		*body = rules.up
	}
	for _, a := range rules.now {
		w.armOn(fc, rules.up, ev, a)
	}
	return rules, !fc.ended()
}

// arm puts a rule's hook on fc's write path (or, direction up, its read
// path) and journals it; the hook's notifications become "fault" events.
func (w *World) arm(fc *faultConn, ev event, a armed) { w.armOn(fc, nil, ev, a) }

// armOn is arm with the request body's up path, if any, for up rules.
func (w *World) armOn(fc *faultConn, body *upBody, ev event, a armed) {
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
	up := faults.Upstream(a.rule.Fault)
	detail := "armed"
	if a.shape.phase != "" {
		detail = "armed at " + string(a.shape.phase) + " after " + strconv.FormatInt(a.shape.after, 10) + " bytes"
	}
	bytes := &fc.out
	if up {
		detail += " up (the client's bytes toward the server)"
		bytes = &fc.in
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
		e.Phase, e.Fault, e.Rule, e.Bytes, e.Detail = phase, a.rule.Kind, a.rule.Index+1, bytes.Load(), d
		w.journal.Add(e)
	}
	switch {
	case up && body != nil:
		body.arm(h, notify)
		return
	case up:
		fc.armUp(h, notify)
		return
	}
	fc.arm(h, notify)
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
		p.w.armOn(p.fc, p.rules.up, p.ev, a)
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
				p.w.armOn(p.fc, p.rules.up, p.ev, a)
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
