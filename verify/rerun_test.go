package verify

import (
	"context"
	"strings"
	"testing"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/scenarios"
)

// A scenario that misses its expectation in a matrix runs once more, and
// the report keeps what the first run saw.
func TestMatrixRerunsMissesAlone(t *testing.T) {
	sc, err := scenarios.Find("http-status-503-scan")
	if err != nil {
		t.Fatal(err)
	}
	wrong := *sc
	exp := *sc.Expect
	exp.Code = codes.Code(0x80244019) // not what a 503 gives
	wrong.Expect, wrong.Fixes = &exp, nil
	rep := Matrix(context.Background(), []*scenarios.Scenario{&wrong, sc}, Options{StateDir: t.TempDir(), SkipFixes: true})
	missed, kept := rep.Results[0], rep.Results[1]
	if missed.Pass || !strings.HasPrefix(missed.FirstRun, "observed 0x") {
		t.Errorf("missed scenario: pass %v, first run %q; want a failure that records its first run", missed.Pass, missed.FirstRun)
	}
	if !strings.Contains(Diff(missed), "first run, beside other scenarios") {
		t.Errorf("Diff does not mention the first run:\n%s", Diff(missed))
	}
	if !kept.Pass || kept.FirstRun != "" {
		t.Errorf("passing scenario: pass %v, first run %q; want a pass and no rerun", kept.Pass, kept.FirstRun)
	}
	rep = Matrix(context.Background(), []*scenarios.Scenario{&wrong, sc}, Options{StateDir: t.TempDir(), SkipFixes: true, NoRerun: true})
	if rep.Results[0].FirstRun != "" {
		t.Errorf("NoRerun: first run %q", rep.Results[0].FirstRun)
	}
	// Alone from the start (one scenario, or one at a time): nothing to rerun.
	rep = Matrix(context.Background(), []*scenarios.Scenario{&wrong, sc}, Options{StateDir: t.TempDir(), SkipFixes: true, Parallel: 1})
	if rep.Results[0].FirstRun != "" {
		t.Errorf("Parallel 1: first run %q", rep.Results[0].FirstRun)
	}
}
