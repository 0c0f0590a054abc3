package verify

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate"
)

// Options configure runs.
type Options struct {
	// StateDir holds the lab CA, shared by every world of a run (created
	// once, on first use).
	StateDir string
	// TimeScale overrides the client's time scale (0: the scenario's, or
	// the lab default 0.01; 1: Windows' real timeouts).
	TimeScale float64
	// Parallel bounds how many scenarios run at once (0: the number of
	// CPUs, at least 2).
	Parallel int
	// SkipFixes runs only the scenarios, not their fixes.
	SkipFixes bool
	// NoRerun keeps a matrix's first results: by default a scenario that
	// missed its expectation while others ran beside it runs once more,
	// alone (see Matrix).
	NoRerun bool
	// Progress, if set, is called after each scenario of a matrix.
	Progress func(done, total int, r Result)
	// Logger receives diagnostics (nil: discard).
	Logger *slog.Logger
	// TunnelPeek is how long the world's proxy waits for a client's first
	// byte in a tunnel it would intercept (0: the world's default, 1 s).
	// A Wine process can take longer to send its ClientHello.
	TunnelPeek time.Duration
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return o.Logger
}

// RetryDelay is how far "retry-later" advances the machine clock: long
// enough to feel like waiting, shorter than a cached negative answer.
const RetryDelay = time.Minute

// lab is one scenario's worlds and client environment.
type lab struct {
	world   *simulate.World
	healthy *simulate.World
	env     client.Env
	clock   *Clock
}

func (l *lab) Close() {
	if l.healthy != nil {
		l.healthy.Close()
	}
	if l.world != nil {
		l.world.Close()
	}
}

// Clock is the machine clock of a lab: real time plus an offset that
// retry-later (or a test) advances.
type Clock struct {
	mu  sync.Mutex
	off time.Duration
}

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.off)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.off += d
	c.mu.Unlock()
}

// startLab starts a world on loopback with every service on a random
// port, plus a second, fault-free resolver for use-public-dns, and maps
// the client's symbolic profile values to them.
func startLab(ctx context.Context, o Options) (*lab, error) {
	w, env, err := StartWorld(ctx, o)
	if err != nil {
		return nil, err
	}
	l := &lab{world: w, clock: &Clock{}, env: env}
	emuIP, _, _ := net.SplitHostPort(w.Addrs().UpstreamHTTP)
	l.healthy, err = simulate.New(ctx, simulate.Options{DNS: "127.0.0.1:0", ZoneIP: emuIP, Logger: o.logger()})
	if err != nil {
		l.Close()
		return nil, fmt.Errorf("start the healthy resolver: %w", err)
	}
	l.env.HealthyDNS = l.healthy.Addrs().DNS
	l.env.Clock = l.clock
	return l, nil
}

// StartWorld starts one world on loopback with every service on a random
// port (the lab CA from o.StateDir) and returns the client environment
// that points at it. It has no healthy resolver and the real clock: what
// a single session needs (the atlas), not a fix check. The caller closes
// the world.
func StartWorld(ctx context.Context, o Options) (*simulate.World, client.Env, error) {
	log := o.logger()
	w, err := simulate.New(ctx, simulate.Options{
		Proxy: "127.0.0.1:0", DNS: "127.0.0.1:0", UpstreamHTTP: "127.0.0.1:0", UpstreamHTTPS: "127.0.0.1:0",
		StateDir: o.StateDir, MaxStall: 30 * time.Second, Logger: log, TunnelPeek: o.TunnelPeek,
	})
	if err != nil {
		return nil, client.Env{}, fmt.Errorf("start world: %w", err)
	}
	env, err := LabEnv(w, log)
	if err != nil {
		w.Close()
		return nil, client.Env{}, err
	}
	return w, env, nil
}

// LabEnv maps the client's "lab" values to a running world, as the lab
// runs it: the proxy and DNS, WSUS http://wsus.lab:<HTTP port> and
// https://wsus.lab:<HTTPS port>, the alternate download server
// http://content.wsus.lab:<HTTP port>, the lab CA. A service the world
// does not run leaves its field empty.
func LabEnv(w *simulate.World, log *slog.Logger) (client.Env, error) {
	a := w.Addrs()
	ca, err := w.LabCA()
	if err != nil {
		return client.Env{}, fmt.Errorf("lab CA: %w", err)
	}
	env := client.Env{Proxy: a.Proxy, DNS: a.DNS, LabCA: ca.Certificate(), Logger: log}
	if _, p, err := net.SplitHostPort(a.UpstreamHTTP); err == nil {
		env.Server = "http://wsus.lab:" + p
		env.Alternate = "http://content.wsus.lab:" + p
	}
	if _, p, err := net.SplitHostPort(a.UpstreamHTTPS); err == nil {
		env.ServerHTTPS = "https://wsus.lab:" + p
	}
	return env, nil
}

// runProfile returns the scenario's profile with the run's time scale.
func runProfile(sc *scenarios.Scenario, o Options) profile.Profile {
	p := sc.Profile
	if o.TimeScale > 0 {
		ts := o.TimeScale
		p.TimeScale = &ts
	}
	return p
}

// session starts a lab for sc, activates its faults and runs the client
// once. The caller closes the lab.
func session(ctx context.Context, sc *scenarios.Scenario, o Options) (*lab, *client.Machine, *client.Result, error) {
	l, err := startLab(ctx, o)
	if err != nil {
		return nil, nil, nil, err
	}
	l.world.Activate(sc.Name, sc.Seed, sc.Faults)
	m, err := client.NewMachine(runProfile(sc, o), l.env)
	if err != nil {
		l.Close()
		return nil, nil, nil, err
	}
	res, err := m.Run(ctx)
	if err != nil {
		l.Close()
		return nil, nil, nil, err
	}
	return l, m, res, nil
}

// FaultLabels describes a scenario's faults for tables: kind, the phase
// for phase-bound kinds ("tcp.reset@body") and /up for those acting on the
// client's bytes toward the server ("tcp.reset@request/up").
func FaultLabels(sc *scenarios.Scenario) []string {
	out := make([]string, 0, len(sc.Faults))
	for _, sp := range sc.Faults {
		label := sp.Kind
		if pb, ok := sp.Fault.(faults.PhaseBinder); ok {
			p, _ := pb.BoundPhase()
			label += "@" + string(p)
		}
		if faults.Upstream(sp.Fault) {
			label += "/up"
		}
		out = append(out, label)
	}
	return out
}

// Run runs one scenario and, unless o.SkipFixes, checks each of its fixes.
// A scenario without an expectation passes when its session succeeds.
func Run(ctx context.Context, sc *scenarios.Scenario, o Options) (r Result) {
	start := time.Now()
	r = Result{Scenario: sc.Name, Summary: sc.Summary, File: sc.File, Faults: FaultLabels(sc), Generation: "modern", Expect: sc.Expect}
	if sc.Profile.Generation != "" {
		r.Generation = sc.Profile.Generation
	}
	if e := sc.Expect; e != nil {
		r.Expected = e.Code
		if e.Confidence != "" || e.Source != "" {
			r.Declared = &Declared{Confidence: e.Confidence, Source: e.Source}
		}
	}
	defer func() { r.Duration = time.Since(start) }()
	l, _, res, err := session(ctx, sc, o)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	l.Close()
	r.Observed, r.Class, r.Confidence, r.Source, r.Session = res.Code, string(res.Class), res.Confidence, res.Source, res
	if res.Failed != nil {
		r.Rule = res.Failed.Rule
	}
	r.Pass = r.Observed == r.Expected
	if e := sc.Expect; e != nil && e.Class != "" && r.Pass && res.Code != codes.OK {
		r.Pass = string(e.Class) == r.Class
	}
	if r.Unproduced = Unproduced(sc.Codes, res); len(r.Unproduced) > 0 {
		r.Pass = false
	}
	if !o.SkipFixes && len(sc.Fixes) > 0 {
		r.Fixes = checkFixes(ctx, sc, o, res.Code)
	}
	return r
}

// fixSessions bounds how many of one scenario's fix checks and controls
// run at once. Each is a world of its own and mostly waits on the lab's
// timeouts (a stalled scenario's session is one scaled receive timeout),
// so running them side by side cut the catalog's wall time without
// adding CPU; docs/benchmarks.md has the figures.
const fixSessions = 4

// checkFixes runs the control and every fix check of sc side by side,
// then grades each fix against the control.
func checkFixes(ctx context.Context, sc *scenarios.Scenario, o Options, want codes.Code) []FixResult {
	sem := make(chan struct{}, fixSessions)
	var wg sync.WaitGroup
	limited := func(f func()) {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			f()
		})
	}
	var again, later controlRun
	limited(func() { again = runControlVariant(ctx, sc, o, want, "") })
	limited(func() { later = runControlVariant(ctx, sc, o, want, "retry-later") })
	tries := make([]fixTry, len(sc.Fixes))
	for i, fc := range sc.Fixes {
		limited(func() { tries[i] = tryFix(ctx, sc, fc, o) })
	}
	wg.Wait()
	ctl := control{again: again.code, againValid: again.valid, later: later.code, laterValid: later.valid, err: cmp.Or(again.err, later.err)}
	out := make([]FixResult, len(tries))
	for i, t := range tries {
		out[i] = gradeFix(t, sc.Fixes[i], ctl)
	}
	return out
}

// NoteRetryCures is the note of a fix that would have been credited on a
// fault that retrying alone cures.
const NoteRetryCures = "cured by retrying alone"

// controlAttempts bounds the sessions a control makes to reproduce the
// scenario's failing state (a loaded machine can fail it another way).
const controlAttempts = 2

// control is what retrying alone does to a scenario's failing state: the
// session run again at once (no fix), and after retry-later's wait. A fix
// is credited only when both still fail. A variant whose first session did
// not reproduce the scenario's failure is not valid and cures nothing.
type control struct {
	again, later           codes.Code
	againValid, laterValid bool
	err                    string
}

// cured reports whether retrying alone made the session succeed.
func (c control) cured() bool {
	return c.err == "" && ((c.againValid && c.again == codes.OK) || (c.laterValid && c.later == codes.OK))
}

// controlRun is one variant of the control: the code of the session run
// again, valid when the first session reproduced the scenario's failure.
type controlRun struct {
	code  codes.Code
	valid bool
	err   string
}

// runControlVariant reproduces the failing state (the first session must
// end with want, the scenario's own code) and runs it again, after fix if
// one is named (retry-later), or at once.
func runControlVariant(ctx context.Context, sc *scenarios.Scenario, o Options, want codes.Code, fix string) controlRun {
	for range controlAttempts {
		l, m, before, err := session(ctx, sc, o)
		if err != nil {
			return controlRun{err: err.Error()}
		}
		if before.Code != want {
			l.Close()
			continue
		}
		if fix != "" {
			if err := applyFix(l, m, sc, fix); err != nil {
				l.Close()
				return controlRun{err: err.Error()}
			}
		}
		after, err := m.Run(ctx)
		l.Close()
		if err != nil {
			return controlRun{err: err.Error()}
		}
		return controlRun{code: after.Code, valid: true}
	}
	return controlRun{}
}

// fixTry is what a fix did to a session in the scenario's failing state.
type fixTry struct {
	before, after codes.Code
	err           string
}

// tryFix reproduces the scenario's failing state, applies the fix (after
// the fixes it comes with) and runs the session again.
func tryFix(ctx context.Context, sc *scenarios.Scenario, fc scenarios.FixCheck, o Options) fixTry {
	l, m, before, err := session(ctx, sc, o)
	if err != nil {
		return fixTry{err: err.Error()}
	}
	defer l.Close()
	for _, id := range append(slices.Clone(fc.With), fc.Fix) {
		if err := applyFix(l, m, sc, id); err != nil {
			return fixTry{err: fmt.Sprintf("apply %s: %v", id, err)}
		}
	}
	after, err := m.Run(ctx)
	if err != nil {
		return fixTry{err: err.Error()}
	}
	return fixTry{before: before.Code, after: after.Code}
}

// gradeFix grades what a fix did. The control (the same failing state run
// again with no fix, and after retry-later) decides the credit: when
// retrying alone cures the session, the fault was transient, and a fix
// other than retry-later that "cured" it gets no-effect with
// NoteRetryCures.
func gradeFix(t fixTry, fc scenarios.FixCheck, ctl control) FixResult {
	fr := FixResult{Fix: fc.Fix, With: fc.With, Expected: fc.Outcome}
	if ctl.againValid {
		fr.Control = &ctl.again
	}
	if ctl.laterValid {
		fr.ControlLater = &ctl.later
	}
	if ctl.err != "" {
		fr.Error = "control: " + ctl.err
		return fr
	}
	if t.err != "" {
		fr.Error = t.err
		return fr
	}
	fr.After = t.after
	switch {
	case t.after == codes.OK:
		fr.Got = scenarios.OutcomeFixes
	case t.after == t.before:
		fr.Got = scenarios.OutcomeNoEffect
	default:
		fr.Got = scenarios.OutcomePartial
	}
	if fr.Got == scenarios.OutcomeFixes && ctl.cured() && !slices.Contains(append(slices.Clone(fc.With), fc.Fix), "retry-later") {
		fr.Got, fr.Note = scenarios.OutcomeNoEffect, NoteRetryCures
	}
	fr.Pass = fr.Got == fc.Outcome
	if fc.Code != nil && fr.Pass {
		fr.Pass = *fc.Code == fr.After
	}
	return fr
}

// Matrix runs every scenario, in parallel: each has its own worlds on
// random loopback ports, so they cannot disturb one another.
func Matrix(ctx context.Context, scs []*scenarios.Scenario, o Options) *Report {
	par := o.Parallel
	if par <= 0 {
		par = max(2, runtime.NumCPU())
	}
	rep := &Report{Started: time.Now(), Results: make([]Result, len(scs))}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i, sc := range scs {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res := Run(ctx, sc, o)
			rep.Results[i] = res
			if o.Progress != nil {
				mu.Lock()
				done++
				o.Progress(done, len(scs), res)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if !o.NoRerun && par > 1 && len(scs) > 1 {
		rerunAlone(ctx, scs, o, rep.Results) // a miss alone was already alone
	}
	rep.Duration = time.Since(rep.Started)
	rep.Summarize()
	return rep
}

// rerunAlone runs each scenario that missed its expectation once more,
// with nothing else running. The lab's timeouts are Windows' scaled down
// (a 30 s receive timeout is 300 ms at time_scale 0.01), so on a machine
// busy enough a healthy exchange can outlast one; run alone, the scenario
// shows what its fault does. The rerun's result is reported, with what
// the first run saw in FirstRun: nothing is hidden.
func rerunAlone(ctx context.Context, scs []*scenarios.Scenario, o Options, results []Result) {
	for i, sc := range scs {
		first := results[i]
		if first.ok() || ctx.Err() != nil {
			continue
		}
		again := Run(ctx, sc, o)
		again.FirstRun = first.summary()
		results[i] = again
	}
}

// Diff explains a failed result in a few lines (for `wufault run`).
func Diff(r Result) string {
	var b strings.Builder
	if r.FirstRun != "" {
		fmt.Fprintf(&b, "first run, beside other scenarios: %s; run again alone:\n", r.FirstRun)
	}
	if r.Error != "" {
		fmt.Fprintf(&b, "error: %s\n", r.Error)
		return b.String()
	}
	if !r.Pass {
		fmt.Fprintf(&b, "- expected %s", r.Expected)
		if r.Expect != nil && r.Expect.Class != "" {
			fmt.Fprintf(&b, " (class %s)", r.Expect.Class)
		}
		fmt.Fprintf(&b, "\n+ observed %s (class %s)\n", r.Observed, dash(r.Class))
		for _, c := range r.Unproduced {
			fmt.Fprintf(&b, "- listed %s, never produced\n", c)
		}
	}
	for _, f := range r.Fixes {
		if !f.Pass {
			fmt.Fprintf(&b, "- fix %s: expected %s\n+ fix %s: got %s (code after %s)%s\n", f.Chain(), f.Expected, f.Chain(), f.Got, f.After, errSuffix(f.Error))
		}
	}
	return b.String()
}
