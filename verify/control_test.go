package verify

import (
	"context"
	"testing"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/scenarios"
)

// A transient fault (a reset that happens once) credits no fix but
// retry-later: every other fix that "cured" it is graded no-effect, with
// the note, because the control (the same failing state with no fix, and
// after retry-later) succeeds too.
func TestTransientFaultCreditsOnlyRetry(t *testing.T) {
	all, err := scenarios.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	var sc scenarios.Scenario
	for _, s := range all {
		if s.Name == "connection-aborted-transient" {
			sc = *s
		}
	}
	if sc.Name == "" {
		t.Fatal("no connection-aborted-transient in the catalog")
	}
	sc.Fixes = []scenarios.FixCheck{
		{Fix: "retry-later", Outcome: scenarios.OutcomeFixes},
		{Fix: "flush-dns", Outcome: scenarios.OutcomeNoEffect},
		{Fix: "sfc-dism", Outcome: scenarios.OutcomeNoEffect},
		{Fix: "trust-lab-ca", Outcome: scenarios.OutcomeNoEffect},
		{Fix: "re-register-wups2", Outcome: scenarios.OutcomeNoEffect},
	}
	// A patient time scale: this test is about grading, not timing.
	r := Run(context.Background(), &sc, Options{StateDir: t.TempDir(), TimeScale: 0.05})
	if !r.Pass {
		t.Fatalf("scenario: %s", Diff(r))
	}
	for _, f := range r.Fixes {
		if f.Error != "" || !f.Pass {
			t.Errorf("fix %s: got %s (after %s, control %v/%v, note %q), want %s: %s", f.Fix, f.Got, f.After, f.Control, f.ControlLater, f.Note, f.Expected, f.Error)
		}
		if f.Control == nil || f.ControlLater == nil || (*f.Control != codes.OK && *f.ControlLater != codes.OK) {
			t.Errorf("fix %s: the control %v, %v did not show a transient fault", f.Fix, f.Control, f.ControlLater)
		}
		if f.Fix != "retry-later" && (f.After != codes.OK || f.Note != NoteRetryCures) {
			t.Errorf("fix %s: after %s, note %q: want success after the fix, graded no-effect because retrying alone cures it", f.Fix, f.After, f.Note)
		}
	}
}
