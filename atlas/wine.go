package atlas

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/internal/wine"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate"
)

// Verdicts of Wine's WinHTTP against the emulated client's.
const (
	// WineAgree: the same WinHTTP error, or the same HTTP status, or no
	// WinHTTP error in either (the code then comes from above WinHTTP).
	WineAgree = "agree"
	// WineDeviation: they differ where Wine's WinHTTP is known to differ
	// from Windows' (WineCell.Deviation says which); not a disagreement.
	WineDeviation = "deviation"
	// WineDisagree: they differ, and no known deviation explains it.
	WineDisagree = "disagree"
	// WineUncompared: the emulated session failed on an earlier class
	// above WinHTTP (no WinHTTP error, no status) and never made the
	// request Wine made: Wine's outcome is shown, not judged.
	WineUncompared = "not-compared"
	// WineNotRun: the cell cannot be reproduced through Wine (Note says why).
	WineNotRun = "not-run"
	// WineError: the agent did not run or answer.
	WineError = "error"
)

// WineCell is what Wine's WinHTTP reported for the cell's request, sent by
// the Windows agent (cmd/wufault-agent) under Wine through the same world
// and proxy while the cell's fault was active.
type WineCell struct {
	Verdict   string `json:"verdict"`
	Deviation string `json:"deviation,omitempty"`
	URL       string `json:"url,omitempty"`
	Role      string `json:"role,omitempty"`
	// Stage, Win32, Status, Bytes, ContentLength and Code are the agent's
	// (winagent.ProbeResult) as Wine's WinHTTP gave them.
	Stage         string     `json:"stage,omitempty"`
	Win32         uint32     `json:"win32,omitempty"`
	Status        int        `json:"status,omitempty"`
	Bytes         int64      `json:"bytes,omitempty"`
	ContentLength int64      `json:"content_length,omitempty"`
	Code          codes.Code `json:"code,omitempty"`
	// WUA is the code Windows Update would report for Wine's outcome on the
	// scan path (winagent.Interpret).
	WUA codes.Code `json:"wua,omitempty"`
	// TimedOut: the agent gave no answer before the atlas stopped it.
	TimedOut bool `json:"timed_out,omitempty"`
	// Attempts counts the agent's runs: one that gave no answer where the
	// emulated client saw no timeout met the machine's load and is
	// repeated once.
	Attempts int             `json:"attempts,omitempty"`
	Fired    int             `json:"fired"` // fault firings during Wine's request
	Note     string          `json:"note,omitempty"`
	Duration client.Duration `json:"duration"`
}

// Outcome is Wine's answer in a few characters.
func (w *WineCell) Outcome() string {
	switch {
	case w == nil:
		return ""
	case w.Verdict == WineNotRun || w.Verdict == WineError:
		return w.Verdict
	case w.TimedOut:
		return "no answer"
	case w.Win32 != 0:
		return fmt.Sprint(w.Win32)
	case w.Status != 0:
		s := fmt.Sprintf("HTTP %d", w.Status)
		if w.ContentLength > 0 && w.Bytes < w.ContentLength {
			s += fmt.Sprintf(" (%d of %d bytes)", w.Bytes, w.ContentLength)
		}
		return s
	}
	return "ok"
}

// Mark is the verdict as a table shows it: "agree", "wine deviation:
// WHICH", "DISAGREES" or why Wine did not run.
func (w *WineCell) Mark() string {
	switch {
	case w == nil:
		return ""
	case w.Verdict == WineDeviation:
		return "wine deviation: " + w.Deviation
	case w.Verdict == WineDisagree:
		return "DISAGREES"
	}
	return w.Verdict
}

// Text is outcome and mark together, for the table and markdown.
func (w *WineCell) Text() string {
	if w == nil {
		return "-"
	}
	if w.Verdict == WineNotRun || w.Verdict == WineError {
		return w.Verdict
	}
	return w.Outcome() + " (" + w.Mark() + ")"
}

// wineDeviation is a way Wine's WinHTTP is known to answer differently
// from Windows' for the same fault: observed in client/winagent's Wine
// test and in atlas --wine runs, each with what Windows does instead.
type wineDeviation struct {
	ID    string
	About string
	match func(emulated int, c Cell, w *WineCell) bool
}

// WineDeviations lists the known deviations (docs/benchmarks.md and the
// README describe them).
var WineDeviations = []wineDeviation{
	{"reset as 10054", "Wine passes the socket's WSAECONNRESET (10054) through; Windows' WinHTTP reports 12030 (ERROR_WINHTTP_CONNECTION_ERROR)",
		func(e int, _ Cell, w *WineCell) bool { return e == 12030 && w.Win32 == 10054 }},
	{"abort as 10053", "Wine passes WSAECONNABORTED (10053) through; Windows reports 12030",
		func(e int, _ Cell, w *WineCell) bool { return e == 12030 && w.Win32 == 10053 }},
	{"reset before the response as 12152", "a connection closed before any response byte: Wine reports 12152 (ERROR_WINHTTP_INVALID_SERVER_RESPONSE), Windows 12030",
		func(e int, _ Cell, w *WineCell) bool { return e == 12030 && w.Win32 == 12152 }},
	{"handshake failure as 12157", "any failure inside the TLS handshake ends as 12157 (ERROR_WINHTTP_SECURE_CHANNEL_ERROR) in Wine: a failed receive of its schannel handshake (dlls/winhttp/net.c), an alert, and a rejected certificate too (its +winhttp trace shows netconn_verify_cert returning 12037 for an expired one, then the request fails with 12157); Windows reports the transport error (12030, 12002), 12175 with the certificate flags, or 12044 for a client certificate request",
		func(e int, c Cell, w *WineCell) bool {
			return c.Phase == "handshake" && w.Win32 == 12157 && (e == 12030 || e == 12002 || e == 12175 || e == 12044)
		}},
	{"short body without an error", "a body cut by a reset or a close ends as if complete in Wine (fewer bytes than Content-Length, no error); Windows' WinHttpReadData fails with 12030",
		func(e int, _ Cell, w *WineCell) bool {
			return (e == 12030 || e == 12002) && w.Win32 == 0 && w.Status != 0 && w.ContentLength > 0 && w.Bytes < w.ContentLength
		}},
	{"timeout as 10060", "Wine passes the socket's WSAETIMEDOUT (10060) through; Windows reports 12002 (ERROR_WINHTTP_TIMEOUT)",
		func(e int, _ Cell, w *WineCell) bool { return e == 12002 && w.Win32 == 10060 }},
	{"receive timeout ignored", "Wine's WinHttpReadData does not apply the receive timeout: it waits for a stalled body until stopped; Windows fails with 12002",
		func(e int, _ Cell, w *WineCell) bool { return e == 12002 && w.TimedOut }},
}

// judgeWine compares Wine's outcome with the emulated client's for the
// cell: the WinHTTP error, else the HTTP status, else both error-free.
func judgeWine(c Cell, w *WineCell) {
	emuErr, emuStatus := 0, 0
	if c.Status == StatusFailed || c.Status == StatusElsewhere {
		emuErr, emuStatus = c.WinHTTP, c.HTTPStatus
	}
	if c.Status == StatusElsewhere && emuErr == 0 && emuStatus == 0 {
		w.Verdict = WineUncompared
		return
	}
	wErr := int(w.Win32)
	switch {
	case w.TimedOut && emuErr == 0:
	case wErr != 0 || emuErr != 0:
		if wErr == emuErr {
			w.Verdict = WineAgree
			return
		}
	case emuStatus >= 300 || w.Status >= 300:
		if w.Status == emuStatus || emuStatus == 0 && w.Status < 300 {
			w.Verdict = WineAgree
			return
		}
	default: // neither saw an error or a failing status
		w.Verdict = WineAgree
		return
	}
	for _, d := range WineDeviations {
		if d.match(emuErr, c, w) {
			w.Verdict, w.Deviation = WineDeviation, d.ID
			return
		}
	}
	w.Verdict = WineDisagree
}

// WineOptions configure the Wine column of a run.
type WineOptions struct {
	// Dir holds the prefix (required).
	Dir string
	// Agent is a built wufault-agent.exe (empty: built with the go
	// command inside the module's source).
	Agent string
	// Timeout is the agent's WinHttpSetTimeouts value (default 2 s; the
	// emulated client's are Windows' times the time scale, but a Wine
	// process on a loaded machine needs more than 0.3 s).
	Timeout time.Duration
}

// wineProber runs the agent's probe for cells, one Wine prefix and one
// wineserver for the whole run.
type wineProber struct {
	env     *wine.Env
	timeout time.Duration
	sem     chan struct{} // Wine processes at once
	mu      sync.Mutex
	trusted map[string]bool
}

func startWine(ctx context.Context, o WineOptions) (*wineProber, error) {
	env, err := wine.Start(ctx, wine.Options{Dir: o.Dir, Agent: o.Agent})
	if err != nil {
		return nil, err
	}
	t := o.Timeout
	if t <= 0 {
		t = 2 * time.Second
	}
	warmUp(ctx, env)
	return &wineProber{env: env, timeout: t, sem: make(chan struct{}, max(2, runtime.NumCPU())), trusted: map[string]bool{}}, nil
}

// warmUp runs the agent once against a TLS server on loopback, so that
// the first cell does not pay for Wine's first load of winhttp, schannel
// and GnuTLS (seconds on a loaded machine). Its answer (an untrusted
// certificate) does not matter.
func warmUp(ctx context.Context, env *wine.Env) {
	srv := httptest.NewTLSServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	defer srv.Close()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	_, _ = env.RunAgent(wctx, "--direct", "--timeout", "10s", "--url", srv.URL+"/")
}

// trust puts a world's lab CA in the prefix's Root store (each world has
// its own CA unless they share a state directory).
func (p *wineProber) trust(ctx context.Context, ca *x509.Certificate) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	k := string(ca.Raw)
	if p.trusted[k] {
		return nil
	}
	if err := p.env.TrustRoot(ctx, ca); err != nil {
		return err
	}
	p.trusted[k] = true
	return nil
}

// probe runs Wine's WinHTTP on the cell's request in the worker's world
// with the cell's fault activated again (a fresh plan, journalled under
// its own name, so Wine's firings are counted apart).
func (p *wineProber) probe(ctx context.Context, w *worker, c Cell, req firstRequest) *WineCell {
	wc := &WineCell{URL: req.URL}
	if keyOf(c).direct {
		wc.Verdict, wc.Note = WineNotRun, "the cell's client resolves names itself (no proxy); Wine reaches the lab through the world's proxy only"
		return wc
	}
	if req.URL == "" {
		wc.Verdict, wc.Note = WineNotRun, "no request of this class"
		return wc
	}
	sc, err := scenarios.Load(strings.NewReader(c.Scenario), "atlas-wine.yaml")
	if err != nil {
		wc.Verdict, wc.Note = WineError, err.Error()
		return wc
	}
	wc.Role = string(client.RoleHost)
	switch {
	case req.Method == "POST":
		wc.Role = string(client.RoleScan)
	case c.Class == "download":
		wc.Role = string(client.RoleFile)
	}
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	name := sc.Name + "-wine"
	var out *wine.Output
	var timedOut bool
	for wc.Attempts = 1; ; wc.Attempts++ {
		w.world.Activate(name, sc.Seed, sc.Faults)
		// The agent's phases are bounded by the timeout; a body Wine waits
		// on for ever (it ignores the receive timeout) is stopped here.
		actx, cancel := context.WithTimeout(ctx, 3*p.timeout+15*time.Second)
		start := time.Now()
		out, err = p.env.RunAgent(actx, "--proxy", w.env.Proxy, "--timeout", p.timeout.String(), "--role", wc.Role, "--url", req.URL)
		timedOut = actx.Err() != nil && ctx.Err() == nil
		cancel()
		wc.Duration = client.Duration(time.Since(start))
		wc.Fired = firedSince(w.world, name, c.Kind)
		if !timedOut || c.WinHTTP == 12002 || wc.Attempts == 2 {
			break
		}
	}
	switch {
	case timedOut:
		wc.TimedOut = true
		wc.Note = fmt.Sprintf("no answer from Wine's WinHTTP in %s", time.Duration(wc.Duration).Round(100*time.Millisecond))
	case err != nil:
		wc.Verdict, wc.Note = WineError, err.Error()
		return wc
	case len(out.Probes) != 1:
		wc.Verdict, wc.Note = WineError, fmt.Sprintf("the agent returned %d probes for one URL", len(out.Probes))
		return wc
	default:
		r := out.Probes[0]
		wc.Stage, wc.Win32, wc.Status, wc.Bytes, wc.ContentLength, wc.Code, wc.WUA, wc.Note = r.Stage, r.Win32, r.Status, r.Bytes, r.ContentLength, r.Code, r.WUA, r.Note
		if wc.ContentLength < 0 {
			wc.ContentLength = 0
		}
	}
	judgeWine(c, wc)
	return wc
}

// firedSince counts the fault events of kind after the last activation
// named name.
func firedSince(w *simulate.World, name, kind string) int {
	var since uint64
	for _, e := range w.Journal().Events(0, func(e simulate.Event) bool {
		return e.Kind == simulate.EventScenario && e.Scenario == name
	}) {
		since = e.Seq
	}
	return len(w.Journal().Events(since, func(e simulate.Event) bool {
		return e.Kind == simulate.EventFault && e.Fault == kind
	}))
}

func (p *wineProber) close() error {
	if p == nil {
		return nil
	}
	return p.env.Close()
}

// WineCounts sums the Wine verdicts of the cells that have one.
func (a *Atlas) WineCounts() map[string]int {
	m := map[string]int{}
	for _, c := range a.Cells {
		if c.Wine != nil {
			m[c.Wine.Verdict]++
		}
	}
	return m
}

// wineSummary is ", Wine: N agree, …" or "".
func (a *Atlas) wineSummary() string {
	m := a.WineCounts()
	var parts []string
	for _, v := range []string{WineAgree, WineDeviation, WineDisagree, WineUncompared, WineNotRun, WineError} {
		if m[v] > 0 {
			label := v
			if v == WineDeviation {
				label = "wine deviations"
			}
			parts = append(parts, fmt.Sprintf("%d %s", m[v], label))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	var sum time.Duration
	n := 0
	for _, c := range a.Cells {
		if c.Wine != nil && c.Wine.Duration > 0 {
			sum += time.Duration(c.Wine.Duration)
			n++
		}
	}
	if n > 0 {
		parts = append(parts, fmt.Sprintf("%s per Wine probe on average", (sum/time.Duration(n)).Round(10*time.Millisecond)))
	}
	return "; Wine's WinHTTP: " + strings.Join(parts, ", ")
}

var errNoWineDir = errors.New("atlas: --wine needs a directory for the prefix")
