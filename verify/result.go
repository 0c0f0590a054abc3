package verify

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/scenarios"
)

// Result is the outcome of one scenario.
type Result struct {
	Scenario   string     `json:"scenario"`
	Summary    string     `json:"summary,omitempty"`
	File       string     `json:"file,omitempty"`
	Faults     []string   `json:"faults"` // "tcp.reset@body", in scenario order
	Generation string     `json:"generation"`
	Class      string     `json:"class,omitempty"` // where the session failed (observed)
	Expected   codes.Code `json:"expected"`
	Observed   codes.Code `json:"observed"`
	// Rule, Confidence and Source are the deciding client rule's: what
	// the evidence supports, never the scenario's declaration (empty when
	// the session succeeded: no rule decided).
	Rule       string             `json:"rule,omitempty"`
	Confidence profile.Confidence `json:"confidence,omitempty"`
	Source     string             `json:"source,omitempty"`
	// Declared is what the scenario file claims (expect.confidence and
	// expect.source), kept apart so that it can be checked against the
	// rule, never printed as observed.
	Declared *Declared      `json:"declared,omitempty"`
	Pass     bool           `json:"pass"`
	Error    string         `json:"error,omitempty"` // the run itself failed (not the session)
	Duration time.Duration  `json:"duration_ns"`
	Fixes    []FixResult    `json:"fixes,omitempty"`
	Session  *client.Result `json:"session,omitempty"`  // the client's full result (observations)
	Reported []codes.Code   `json:"reported,omitempty"` // codes real clients reported for this scenario
	// FirstRun, when set, is what a matrix's first run of the scenario
	// saw before it was run again alone (Matrix): observed code and any
	// fix that missed its expectation.
	FirstRun string `json:"first_run,omitempty"`
	// Unproduced are codes the scenario lists that its session never
	// showed (not as its final code, a request's code, a job's error or a
	// WinHTTP error): the scenario does not pass.
	Unproduced []codes.Code      `json:"unproduced,omitempty"`
	Expect     *scenarios.Expect `json:"-"`
}

// FixResult is one fix applied to the scenario's failing state.
type FixResult struct {
	Fix      string            `json:"fix"`
	With     []string          `json:"with,omitempty"`
	Expected scenarios.Outcome `json:"expected,omitempty"`
	Got      scenarios.Outcome `json:"got"`
	After    codes.Code        `json:"after"`
	// Control and ControlLater are the codes of the same failing state
	// run again with no fix, and after retry-later: the fix is credited
	// only when both still fail. Nil when the control could not reproduce
	// the failing state.
	Control      *codes.Code `json:"control"`
	ControlLater *codes.Code `json:"control_later"`
	// Note explains a grade, e.g. NoteRetryCures.
	Note  string `json:"note,omitempty"`
	Pass  bool   `json:"pass"`
	Error string `json:"error,omitempty"`
}

// Chain names the fix with the fixes applied before it.
func (f FixResult) Chain() string {
	return strings.Join(append(append([]string{}, f.With...), f.Fix), " + ")
}

// FaultLabel is the short label of a scenario's faults for tables.
func (r Result) FaultLabel() string {
	if len(r.Faults) == 0 {
		return "(none)"
	}
	return strings.Join(r.Faults, " + ")
}

// Report is the result of a matrix run.
type Report struct {
	Results  []Result      `json:"results"`
	Passed   int           `json:"passed"`
	Failed   int           `json:"failed"`
	Duration time.Duration `json:"duration_ns"`
	Started  time.Time     `json:"started"`
}

// Summarize counts passes and failures and sorts the results by scenario.
func (r *Report) Summarize() {
	sort.Slice(r.Results, func(i, j int) bool { return r.Results[i].Scenario < r.Results[j].Scenario })
	r.Passed, r.Failed = 0, 0
	for _, res := range r.Results {
		if res.Pass && res.FixesPass() {
			r.Passed++
		} else {
			r.Failed++
		}
	}
}

// ok reports whether the result met every expectation.
func (r Result) ok() bool { return r.Pass && r.FixesPass() && r.Error == "" }

// summary is the one line FirstRun keeps of a result.
func (r Result) summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "observed %s", r.Observed.Hex())
	if r.Error != "" {
		fmt.Fprintf(&b, ", error: %s", r.Error)
	}
	for _, f := range r.Fixes {
		if !f.Pass {
			fmt.Fprintf(&b, "; %s: %s (%s)", f.Chain(), f.Got, f.After.Hex())
		}
	}
	return b.String()
}

// FixesPass reports whether every fix met its expected outcome.
func (r Result) FixesPass() bool {
	for _, f := range r.Fixes {
		if !f.Pass {
			return false
		}
	}
	return true
}

// Declared is a scenario's own claim of confidence and source.
type Declared struct {
	Confidence profile.Confidence `json:"confidence,omitempty"`
	Source     string             `json:"source,omitempty"`
}

// DeclarationMismatch explains where the scenario's declared confidence
// differs from the confidence of the rule that decided its session, or
// where it cites a source tag the rule does not (empty: they agree, or
// there is nothing to compare: no declaration, or no rule decided).
func (r Result) DeclarationMismatch() string {
	if r.Declared == nil || r.Rule == "" {
		return ""
	}
	var out []string
	if d := r.Declared.Confidence; d != "" && d != r.Confidence {
		out = append(out, fmt.Sprintf("declares confidence %s, its rule %s says %s", d, r.Rule, r.Confidence))
	}
	ruleTags := codes.SourceTags(r.Source)
	for _, tag := range codes.SourceTags(r.Declared.Source) {
		if !slices.Contains(ruleTags, tag) {
			out = append(out, fmt.Sprintf("cites %s, which its rule %s does not (%s)", tag, r.Rule, r.Source))
		}
	}
	return strings.Join(out, "; ")
}
