package atlas

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate"
	"github.com/wufault/wufault/verify"
)

// Generations, classes and stacks the atlas crosses, in table order.
var (
	Generations = []string{"modern", "legacy"}
	Classes     = []string{"selfupdate", "redirector", "scan", "download"}
)

// stacks returns the download stacks of a generation's download cells:
// Delivery Optimization exists from Windows 10 on, so legacy cells use
// BITS only.
func stacks(gen string) []string {
	if gen == "legacy" {
		return []string{"bits"}
	}
	return []string{"do", "bits"}
}

// Cell statuses: what happened to the cell's session.
const (
	// StatusFailed: the session failed on the cell's class (the code is
	// the cell's answer).
	StatusFailed = "failed"
	// StatusElsewhere: the session failed on another class first (the
	// fault cannot be confined to this class in this flow).
	StatusElsewhere = "elsewhere"
	// StatusPassed: the fault fired and the session still succeeded.
	StatusPassed = "passed"
	// StatusNotFired: the fault never fired (e.g. a TLS fault on a class
	// that speaks plain HTTP) and the session succeeded.
	StatusNotFired = "not-fired"
	// StatusNoRequest: the generation's session makes no request of this
	// class (the cell was not run).
	StatusNoRequest = "no-request"
	// StatusError: the run itself failed.
	StatusError = "error"
)

// Cell is one fault kind and variant on one class of one generation (and
// download stack).
type Cell struct {
	ID         string `json:"id"` // kind/variant/class/generation[/stack]
	Kind       string `json:"kind"`
	Family     string `json:"family"` // the kind's layer: dns, tcp, tls, http, proxy
	Variant    string `json:"variant"`
	Class      string `json:"class"`
	Generation string `json:"generation"`
	Stack      string `json:"stack,omitempty"`

	Status      string          `json:"status"`
	Fired       int             `json:"fired"` // fault firings in the journal
	Code        codes.Code      `json:"code"`
	Name        string          `json:"name,omitempty"`
	FailedClass string          `json:"failed_class,omitempty"`
	Call        string          `json:"call,omitempty"`
	Phase       string          `json:"phase,omitempty"`
	WinHTTP     int             `json:"winhttp,omitempty"`
	JobCode     codes.Code      `json:"job_code,omitempty"`
	HTTPStatus  int             `json:"http_status,omitempty"`
	Rule        string          `json:"rule,omitempty"`
	Confidence  string          `json:"confidence,omitempty"`
	Source      string          `json:"source,omitempty"`
	Error       string          `json:"error,omitempty"`
	Match       string          `json:"match"`              // the fault's match block
	Attempts    int             `json:"attempts,omitempty"` // runs of the session (repeated after a load timeout)
	Reports     []Match         `json:"reports,omitempty"`  // published field reports about this cell
	Scenario    string          `json:"scenario"`           // the YAML the cell ran
	Wine        *WineCell       `json:"wine,omitempty"`     // Wine's WinHTTP on the same fault (--wine)
	Duration    client.Duration `json:"duration"`
}

// Atlas is a set of cells with how they were made.
type Atlas struct {
	Cells    []Cell          `json:"cells"`
	Total    int             `json:"total"`  // cells of the unsharded plan under the same filters
	Shards   []string        `json:"shards"` // "0/1", or the merged shards
	Started  time.Time       `json:"started"`
	Duration client.Duration `json:"duration"`
	Filters  Filters         `json:"filters"`
	Realtime bool            `json:"realtime,omitempty"`
	// Wine: the cells also ran Wine's WinHTTP (Cell.Wine).
	Wine bool `json:"wine,omitempty"`
}

// Filters restrict the plan (empty: everything).
type Filters struct {
	Kinds       []string `json:"kinds,omitempty"`
	Variants    []string `json:"variants,omitempty"` // variant labels: at=body, status=503
	Classes     []string `json:"classes,omitempty"`
	Generations []string `json:"generations,omitempty"`
}

func (f Filters) keep(list []string, v string) bool {
	if len(list) == 0 {
		return true
	}
	for _, x := range list {
		if x == v || strings.HasSuffix(x, ".*") && strings.HasPrefix(v, strings.TrimSuffix(x, "*")) {
			return true
		}
	}
	return false
}

// Shard is part i (0-based) of n.
type Shard struct{ I, N int }

// ParseShard reads "i/n" (0 <= i < n).
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %q: want i/n with 0 <= i < n", s)
	}
	return Shard{I: i, N: n}, nil
}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.I, s.N) }

// Spec is a planned cell before it runs.
type Spec struct {
	Cell
	variant faults.Variant
}

// Plan lists the cells of the atlas in a fixed order: kind (sorted),
// variant, generation, class, stack. Every registered kind is in it.
func Plan(f Filters) []Spec {
	var out []Spec
	for _, kind := range faults.Kinds() {
		if !f.keep(f.Kinds, kind) {
			continue
		}
		info, _ := faults.Lookup(kind)
		for _, v := range faults.Variants(kind) {
			if !f.keep(f.Variants, v.Label) {
				continue
			}
			for _, gen := range Generations {
				if !f.keep(f.Generations, gen) {
					continue
				}
				for _, class := range Classes {
					if !f.keep(f.Classes, class) {
						continue
					}
					sts := []string{""}
					if class == "download" {
						sts = stacks(gen)
					}
					for _, st := range sts {
						c := Cell{Kind: kind, Family: info.Layer(), Variant: v.Label, Class: class, Generation: gen, Stack: st}
						c.ID = strings.Join([]string{kind, v.Label, class, gen}, "/")
						if st != "" {
							c.ID += "/" + st
						}
						out = append(out, Spec{Cell: c, variant: v})
					}
				}
			}
		}
	}
	return out
}

// Options configure a run.
type Options struct {
	Filters  Filters
	Shard    Shard // zero: the whole plan
	Parallel int   // cells at once (0: 4 per CPU: cells mostly wait)
	StateDir string
	// TimeScale is the client's time scale (0: the lab default 0.01;
	// 1: --realtime, Windows' own timeouts).
	TimeScale float64
	Logger    *slog.Logger
	// Progress, if set, is called after each cell.
	Progress func(done, total int, c Cell)
	// Wine, if set, also runs each cell's request through Wine's WinHTTP
	// (the Windows agent under Wine) in the same world.
	Wine *WineOptions
}

// profileKey is the client profile of a cell. Modern: a WSUS over HTTPS
// whose lab CA the client trusts (so TLS faults apply to every role).
// Legacy: Microsoft Update (the redirector exists only there). DNS faults
// run with a direct connection, so that the client's own resolver meets
// them (behind a proxy only the proxy resolves).
type profileKey struct {
	gen, stack string
	direct     bool
	// revocation keeps the client's revocation check (tls.cert cells);
	// other cells turn it off, because the lab's CRL fetch is plain HTTP
	// that a class-matched fault would take for a download.
	revocation bool
}

func (k profileKey) yaml() string {
	var b strings.Builder
	if k.gen == "legacy" {
		b.WriteString(`{generation: legacy, server: "", trust_lab_ca: true`)
	} else {
		b.WriteString(`{generation: modern, server: lab-https, trust_lab_ca: true`)
	}
	if k.stack != "" {
		b.WriteString(", download: " + k.stack)
	}
	if k.direct {
		b.WriteString(`, proxy: ""`)
	}
	if !k.revocation {
		b.WriteString(", check_revocation: false")
	}
	b.WriteString("}")
	return b.String()
}

func keyOf(c Cell) profileKey {
	st := c.Stack
	if st == "" {
		st = stacks(c.Generation)[0]
	}
	// Only the modern WSUS flow can run direct: the lab's Microsoft
	// Update names are reachable through the proxy alone (default ports).
	return profileKey{gen: c.Generation, stack: st, direct: c.Family == "dns" && c.Generation == "modern", revocation: c.Kind == "tls.cert"}
}

// baseline is a healthy session of a profile: which classes it reaches
// and the first host and request of each.
type baseline struct {
	hosts map[string]string
	first map[string]firstRequest
	env   client.Env // of the world the baseline ran in (its ports)
	err   error
}

// firstRequest is the first request of a class in a healthy session: what
// the Wine probe sends.
type firstRequest struct{ URL, Method string }

// scenarioYAML writes the cell's scenario: its profile and one fault
// matched on the cell's class alone (DNS faults, which see only names, on
// the class's host).
func scenarioYAML(s Spec, host string) string {
	k := keyOf(s.Cell)
	var b strings.Builder
	fmt.Fprintf(&b, "name: atlas-%s\n", slug(s.ID))
	fmt.Fprintf(&b, "summary: %s (%s) on %s requests, %s client", s.Kind, s.Variant, s.Class, s.Generation)
	if s.Stack != "" {
		fmt.Fprintf(&b, ", %s downloads", s.Stack)
	}
	b.WriteString("\nseed: 1\n")
	fmt.Fprintf(&b, "profile: %s\n", k.yaml())
	match := matchOf(s.Cell, host)
	params := ""
	if s.variant.Params != "" {
		params = ", " + s.variant.Params
	}
	fmt.Fprintf(&b, "faults:\n  - {kind: %s, match: {%s}%s}\n", s.Kind, match, params)
	return b.String()
}

// matchOf is the cell's match block. An http.* fault sees the request
// and matches the class itself; a DNS query, a TCP connection, a TLS
// handshake and a CONNECT know only the host, so those faults match the
// host the class's first request went to in the healthy session (when an
// earlier class shares that host, the cell fails there: "elsewhere").
func matchOf(c Cell, host string) string {
	if c.Family == "http" {
		return "class: " + c.Class
	}
	return "host: " + host
}

func slug(id string) string {
	r := strings.NewReplacer("/", "-", "=", "-", ".", "-", "_", "-")
	return strings.ToLower(r.Replace(id))
}

// worker owns one world, reused cell after cell.
type worker struct {
	world *simulate.World
	env   client.Env
}

// Run runs the plan (or the shard of it) and returns the atlas.
func Run(ctx context.Context, o Options) (*Atlas, error) {
	start := time.Now()
	plan := Plan(o.Filters)
	a := &Atlas{Total: len(plan), Started: start, Filters: o.Filters, Realtime: o.TimeScale >= 1, Wine: o.Wine != nil}
	sh := o.Shard
	if sh.N == 0 {
		sh = Shard{0, 1}
	}
	a.Shards = []string{sh.String()}
	var mine []Spec
	for i, s := range plan {
		if i%sh.N == sh.I {
			mine = append(mine, s)
		}
	}
	par := o.Parallel
	if par <= 0 {
		par = 4 * max(1, runtime.NumCPU())
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	vo := verify.Options{StateDir: o.StateDir, Logger: log}
	var wp *wineProber
	if o.Wine != nil {
		// A Wine process on a loaded machine may send its ClientHello more
		// than the proxy's default second after the CONNECT: the tunnel
		// would be relayed opaque and the cell's fault never seen.
		vo.TunnelPeek = 15 * time.Second
		if o.Wine.Dir == "" {
			return nil, errNoWineDir
		}
		var err error
		if wp, err = startWine(ctx, *o.Wine); err != nil {
			return nil, err
		}
		defer func() {
			if err := wp.close(); err != nil {
				log.Warn("atlas: end the Wine prefix", "err", err)
			}
		}()
	}
	// Baselines: one healthy session per profile the cells use.
	bases := map[profileKey]*baseline{}
	for _, s := range mine {
		bases[keyOf(s.Cell)] = nil
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	workers := make(chan *worker, par)
	newWorker := func() (*worker, error) {
		w, env, err := verify.StartWorld(ctx, vo)
		if err != nil {
			return nil, err
		}
		if wp != nil {
			if err := wp.trust(ctx, env.LabCA); err != nil {
				w.Close()
				return nil, err
			}
		}
		return &worker{world: w, env: env}, nil
	}
	var (
		created []*worker
		slots   int                                 // workers made or being made: never more than par
		freed   chan struct{} = make(chan struct{}) // closed when a slot is given back
	)
	// getWorker returns an idle worker, or makes one while fewer than par
	// exist. A slot is taken before the world starts, so that goroutines
	// asking at once cannot make more workers than the channel they are
	// returned to holds (the surplus would block there for ever). A caller
	// that waits for a worker also wakes when a slot is given back (a world
	// failed to start: it tries to make one itself) and when ctx ends.
	getWorker := func() (*worker, error) {
		for {
			select {
			case w := <-workers:
				return w, nil
			default:
			}
			mu.Lock()
			if slots < par {
				slots++
				mu.Unlock()
				w, err := newWorker()
				mu.Lock()
				if err != nil {
					slots--
					close(freed)
					freed = make(chan struct{})
					mu.Unlock()
					return nil, err
				}
				created = append(created, w)
				mu.Unlock()
				return w, nil
			}
			wait := freed
			mu.Unlock()
			select {
			case w := <-workers:
				return w, nil
			case <-wait:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	defer func() {
		for _, w := range created {
			w.world.Close()
		}
	}()
	// The keys are taken first: the goroutines write bases while this
	// loop would still be iterating over it.
	keys := slices.Collect(maps.Keys(bases))
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b := &baseline{hosts: map[string]string{}, first: map[string]firstRequest{}}
			w, err := getWorker()
			if err != nil {
				b.err = err
			} else {
				// A healthy session that fails is retried twice: on a
				// loaded machine a lab timeout (time_scale 0.01) can run
				// out before the emulator answers.
				var res *client.Result
				for try := 0; try < 3; try++ {
					res, err = session(ctx, w, "atlas-baseline", k.yaml(), "", o.TimeScale)
					if err != nil || res.Code == codes.OK {
						break
					}
				}
				b.env = w.env
				workers <- w
				switch {
				case err != nil:
					b.err = err
				case res.Code != codes.OK:
					b.err = fmt.Errorf("the healthy %s session fails with %s", k.yaml(), res.Code)
				default:
					for _, ob := range res.Observations {
						if _, ok := b.hosts[string(ob.Class)]; !ok {
							b.hosts[string(ob.Class)] = hostOf(ob.URL)
							b.first[string(ob.Class)] = firstRequest{URL: ob.URL, Method: ob.Method}
						}
					}
				}
			}
			mu.Lock()
			bases[k] = b
			mu.Unlock()
		}()
	}
	wg.Wait()
	a.Cells = make([]Cell, len(mine))
	sem := make(chan struct{}, par)
	done := 0
	for _, i := range longestFirst(mine) {
		s := mine[i]
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c := runCell(ctx, s, bases[keyOf(s.Cell)], getWorker, workers, o.TimeScale, wp)
			a.Cells[i] = c
			if o.Progress != nil {
				mu.Lock()
				done++
				o.Progress(done, len(mine), c)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	reps, err := Reports()
	if err != nil {
		return nil, err
	}
	a.Attach(reps)
	a.Duration = client.Duration(time.Since(start))
	return a, nil
}

// longestFirst orders the cells to start: download cells first, BITS
// before DO, the rest in plan order. A download cell runs the whole
// session before its class and then the job loop, which repeats a request
// for every piece: a BITS job that a truncation fault keeps resuming makes
// over a thousand requests. Started last, such a cell would run alone at
// the end; started first, the short cells fill the workers beside it.
func longestFirst(cells []Spec) []int {
	rank := func(c Cell) int {
		switch {
		case c.Class == "download" && c.Stack == "bits":
			return 0
		case c.Class == "download":
			return 1
		}
		return 2
	}
	order := make([]int, len(cells))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return rank(cells[a].Cell) - rank(cells[b].Cell) })
	return order
}

// rebase moves a URL of one world's emulator to another's: each world
// listens on its own ports under the same names.
func rebase(u string, from, to client.Env) string {
	for _, p := range [][2]string{{from.Server, to.Server}, {from.ServerHTTPS, to.ServerHTTPS}} {
		a, b := portOf(p[0]), portOf(p[1])
		if a != "" && b != "" && portOf(u) == a {
			return strings.Replace(u, ":"+a, ":"+b, 1)
		}
	}
	return u
}

// portOf is the explicit port of a URL's authority ("" if none).
func portOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	h, _, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.HasSuffix(h, "]") {
		return h[i+1:]
	}
	return ""
}

func hostOf(u string) string {
	_, rest, ok := strings.Cut(u, "://")
	if !ok {
		return ""
	}
	h, _, _ := strings.Cut(rest, "/")
	if i := strings.LastIndexByte(h, ':'); i >= 0 {
		h = h[:i]
	}
	return h
}

func runCell(ctx context.Context, s Spec, b *baseline, get func() (*worker, error), put chan *worker, ts float64, wp *wineProber) (c Cell) {
	c = s.Cell
	start := time.Now()
	defer func() { c.Duration = client.Duration(time.Since(start)) }()
	if b == nil || b.err != nil {
		c.Status, c.Error = StatusError, "baseline: "+errString(b)
		return c
	}
	host, ok := b.hosts[c.Class]
	if !ok {
		c.Status = StatusNoRequest
		c.Scenario = scenarioYAML(s, "")
		return c
	}
	c.Scenario, c.Match = scenarioYAML(s, host), matchOf(c, host)
	w, err := get()
	if err != nil {
		c.Status, c.Error = StatusError, err.Error()
		return c
	}
	name := "atlas-" + slug(c.ID)
	var res *client.Result
	var fired int
	// A session that timed out while the fault never fired met the load
	// of the machine, not the fault (lab timeouts are a hundredth of
	// Windows'): such a run is repeated, at most twice, and counted.
	for c.Attempts = 1; ; c.Attempts++ {
		res, err = session(ctx, w, name, "", c.Scenario, ts)
		// The world runs one cell at a time: the fault events after this
		// cell's activation (journalled under its unique name) are its own.
		fired = firedSince(w.world, name, c.Kind)
		if err != nil || res.Failed == nil || fired > 0 || !strings.Contains(res.Failed.Rule, "timeout") || c.Attempts == 3 {
			break
		}
	}
	defer func() {
		w.world.Activate("", 0, nil)
		put <- w
	}()
	c.Fired = fired
	if err != nil {
		c.Status, c.Error = StatusError, err.Error()
		return c
	}
	c.Code = res.Code
	if info, ok := codes.Lookup(res.Code); ok {
		c.Name = info.Name
	}
	switch {
	case res.Failed == nil && fired == 0:
		c.Status = StatusNotFired
	case res.Failed == nil:
		c.Status = StatusPassed
	default:
		f := res.Failed
		c.FailedClass, c.Call, c.Phase, c.WinHTTP, c.JobCode, c.HTTPStatus = string(f.Class), f.Call, string(f.Phase), int(f.WinHTTP), f.JobCode, f.Status
		c.Rule, c.Confidence, c.Source = f.Rule, string(f.Confidence), f.Source
		c.Status = StatusFailed
		if string(f.Class) != c.Class {
			c.Status = StatusElsewhere
		}
	}
	if wp != nil {
		req := b.first[c.Class]
		req.URL = rebase(req.URL, b.env, w.env)
		c.Wine = wp.probe(ctx, w, c, req)
	}
	return c
}

func errString(b *baseline) string {
	if b == nil {
		return "not run"
	}
	return b.err.Error()
}

// session activates the scenario (full YAML, or a bare profile for a
// baseline) in the worker's world and runs a fresh client once.
func session(ctx context.Context, w *worker, name, profileYAML, scenarioText string, ts float64) (*client.Result, error) {
	if scenarioText == "" {
		scenarioText = fmt.Sprintf("name: %s\nsummary: healthy\nprofile: %s\n", name, profileYAML)
	}
	sc, err := scenarios.Load(strings.NewReader(scenarioText), name+".yaml")
	if err != nil {
		return nil, fmt.Errorf("generated scenario: %w", err)
	}
	p := sc.Profile
	if ts > 0 {
		p.TimeScale = &ts
	}
	w.world.Activate(sc.Name, sc.Seed, sc.Faults)
	m, err := client.NewMachine(p, w.env)
	if err != nil {
		return nil, err
	}
	return m.Run(ctx)
}

// Merge joins shard atlases into one, ordered as the unsharded plan
// (by the cells' order of first appearance in Plan), and fails on a
// cell that two shards both ran or on shards of different plans.
func Merge(parts []*Atlas) (*Atlas, error) {
	if len(parts) == 0 {
		return nil, errors.New("nothing to merge")
	}
	out := &Atlas{Total: parts[0].Total, Filters: parts[0].Filters, Started: parts[0].Started, Realtime: parts[0].Realtime}
	seen := map[string]bool{}
	for _, p := range parts {
		if p.Total != out.Total || fmt.Sprint(p.Filters) != fmt.Sprint(out.Filters) {
			return nil, fmt.Errorf("shards of different plans (%d cells %v, %d cells %v)", out.Total, out.Filters, p.Total, p.Filters)
		}
		if p.Started.Before(out.Started) {
			out.Started = p.Started
		}
		out.Duration = max(out.Duration, p.Duration)
		out.Wine = out.Wine || p.Wine
		out.Shards = append(out.Shards, p.Shards...)
		for _, c := range p.Cells {
			if seen[c.ID] {
				return nil, fmt.Errorf("cell %s is in two shards", c.ID)
			}
			seen[c.ID] = true
			out.Cells = append(out.Cells, c)
		}
	}
	order := map[string]int{}
	for i, s := range Plan(out.Filters) {
		order[s.ID] = i
	}
	sort.SliceStable(out.Cells, func(i, j int) bool { return order[out.Cells[i].ID] < order[out.Cells[j].ID] })
	sort.Strings(out.Shards)
	return out, nil
}
