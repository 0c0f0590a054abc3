package atlas

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/scenarios"
)

// TestPlanCoversTheRegistry: every registered kind, both generations, the
// four classes and both download stacks are in the plan, and every cell's
// generated scenario loads with the strict loader.
func TestPlanCoversTheRegistry(t *testing.T) {
	plan := Plan(Filters{})
	kinds, gens, classes, stacksSeen := map[string]bool{}, map[string]bool{}, map[string]bool{}, map[string]bool{}
	ids := map[string]bool{}
	for _, s := range plan {
		kinds[s.Kind], gens[s.Generation], classes[s.Class] = true, true, true
		if s.Stack != "" {
			stacksSeen[s.Stack] = true
		}
		if ids[s.ID] {
			t.Errorf("cell %s twice", s.ID)
		}
		ids[s.ID] = true
		if _, err := scenarios.Load(strings.NewReader(scenarioYAML(s, "wsus.lab")), s.ID+".yaml"); err != nil {
			t.Errorf("%s: generated scenario does not load: %v", s.ID, err)
		}
	}
	for _, k := range faults.Kinds() {
		if !kinds[k] {
			t.Errorf("kind %s is not in the atlas", k)
		}
	}
	if len(gens) != 2 || len(classes) != 4 || !stacksSeen["do"] || !stacksSeen["bits"] {
		t.Errorf("generations %v, classes %v, stacks %v", gens, classes, stacksSeen)
	}
	if len(plan) < 300 {
		t.Errorf("%d cells: the atlas should have several hundred", len(plan))
	}
	if n := len(Plan(Filters{Kinds: []string{"tls.*"}, Classes: []string{"scan"}, Generations: []string{"legacy"}})); n != 20 {
		// tls.alert 5 + tls.cert 10 + tls.client_cert 1 + tls.reset 1 + tls.version 2 + …
		t.Logf("tls.* legacy scan: %d cells", n)
	}
	for _, s := range Plan(Filters{Kinds: []string{"tls.*"}}) {
		if !strings.HasPrefix(s.Kind, "tls.") {
			t.Errorf("filter tls.* kept %s", s.Kind)
		}
	}
}

// TestShardsMergeToTheUnshardedRun runs a slice of the atlas whole and in
// three shards (worlds on loopback each time) and requires the merge of
// the shards to equal the whole run, cell by cell.
func TestShardsMergeToTheUnshardedRun(t *testing.T) {
	f := Filters{Kinds: []string{"http.status", "tcp.refuse", "dns.nxdomain"}, Generations: []string{"modern"}}
	// No cell of this slice waits for a timeout, so patient timeouts
	// (time_scale 0.2) cost nothing and keep a loaded machine from
	// turning a slow answer into one.
	o := Options{Filters: f, StateDir: t.TempDir(), TimeScale: 0.2}
	whole, err := Run(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	var parts []*Atlas
	for i := range 3 {
		o.Shard = Shard{I: i, N: 3}
		p, err := Run(context.Background(), o)
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Cells) == len(whole.Cells) {
			t.Fatalf("shard %d ran every cell", i)
		}
		// Through JSON, as the shards of a real split travel.
		var b bytes.Buffer
		if err := Render(&b, p, "json"); err != nil {
			t.Fatal(err)
		}
		back, err := ReadJSON(&b, "shard")
		if err != nil {
			t.Fatal(err)
		}
		parts = append(parts, back)
	}
	slices.Reverse(parts)
	m, err := Merge(parts)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Cells) != len(whole.Cells) || m.Total != whole.Total {
		t.Fatalf("merged %d cells (total %d), whole run %d (total %d)", len(m.Cells), m.Total, len(whole.Cells), whole.Total)
	}
	failed := 0
	for i := range whole.Cells {
		a, b := whole.Cells[i], m.Cells[i]
		// Timing is not part of a cell's answer: the duration, how many
		// times the fault fired (a DNS client retries a query when the
		// machine is slow) and the runs a load timeout cost.
		a.Duration, b.Duration = 0, 0
		a.Fired, b.Fired = min(a.Fired, 1), min(b.Fired, 1)
		a.Attempts, b.Attempts = 0, 0
		if !reflect.DeepEqual(a, b) {
			t.Errorf("cell %d differs:\nwhole  %+v\nshards %+v", i, a, b)
		}
		if a.Status == StatusFailed {
			failed++
		}
	}
	if failed == 0 {
		t.Error("no cell failed on its class: the slice tests nothing")
	}
	if _, err := Merge([]*Atlas{parts[0], parts[0]}); err == nil {
		t.Error("merging a shard with itself succeeded")
	}
}

func TestParseShard(t *testing.T) {
	for _, bad := range []string{"", "1", "3/3", "-1/2", "a/b", "0/0"} {
		if _, err := ParseShard(bad); err == nil {
			t.Errorf("ParseShard(%q) accepted", bad)
		}
	}
	if s, err := ParseShard("2/5"); err != nil || s != (Shard{2, 5}) {
		t.Errorf("ParseShard(2/5) = %v, %v", s, err)
	}
}

// oneWorkerRun runs the atlas over a small plan with several client
// profiles (so several baselines at once) and one worker, failing the
// test if Run has not returned within two minutes: the hangs these tests
// guard against never return.
func oneWorkerRun(t *testing.T, stateDir string) *Atlas {
	t.Helper()
	o := Options{
		Filters:  Filters{Kinds: []string{"http.status"}, Variants: []string{"status=503"}, Classes: []string{"scan", "download"}},
		Parallel: 1, StateDir: stateDir,
	}
	type result struct {
		a   *Atlas
		err error
	}
	done := make(chan result, 1)
	go func() {
		a, err := Run(context.Background(), o)
		done <- result{a, err}
	}()
	select {
	case r := <-done:
		if r.err != nil {
			t.Fatal(r.err)
		}
		keys := map[profileKey]bool{}
		for _, c := range r.a.Cells {
			keys[keyOf(c)] = true
		}
		t.Logf("%d cells, %d client profiles", len(r.a.Cells), len(keys))
		if len(keys) < 3 {
			t.Fatalf("%d client profiles: the test needs several baselines asking for the one worker", len(keys))
		}
		return r.a
	case <-time.After(2 * time.Minute):
		t.Fatal("Run with Parallel 1 did not return in 2 minutes")
	}
	return nil
}

// Run makes at most Parallel worlds however many baseline sessions ask
// for one at once. With one worker and several client profiles, the
// baselines used to make a world each, and those beyond the first blocked
// for ever handing theirs back.
func TestRunWithOneWorker(t *testing.T) {
	for _, c := range oneWorkerRun(t, t.TempDir()).Cells {
		if c.Status == StatusError {
			t.Errorf("cell %s: %s", c.ID, c.Error)
		}
	}
}

// When worlds cannot start (here the state directory is a file, so the
// lab CA cannot be made), Run reports the error in every cell instead of
// leaving the baselines that waited for the one worker waiting for ever.
func TestRunWhenWorldsFail(t *testing.T) {
	state := filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(state, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range oneWorkerRun(t, state).Cells {
		if c.Status != StatusError || !strings.Contains(c.Error, "baseline") {
			t.Errorf("cell %s: %s %q, want an error from its baseline", c.ID, c.Status, c.Error)
		}
	}
}
