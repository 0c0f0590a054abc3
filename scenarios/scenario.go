package scenarios

import (
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
)

// Scenario is one named situation: faults, client profile, expectation.
type Scenario struct {
	// Name is unique and kebab-case.
	Name string `yaml:"name" required:"true"`
	// Summary is one line for listings.
	Summary string `yaml:"summary,omitempty"`
	// Codes are the codes the scenario reproduces (shown in listings).
	Codes []codes.Code `yaml:"codes,omitempty"`
	// Notes explain the scenario: evidence, caveats, seed claims it corrects.
	Notes string `yaml:"notes,omitempty"`
	// Seed feeds every random choice (probability selection, jitter).
	Seed int64 `yaml:"seed,omitempty"`
	// Profile overrides the emulated client's default profile.
	Profile profile.Profile `yaml:"profile,omitempty"`
	// Faults are the faults to inject, in order.
	Faults []faults.Spec `yaml:"faults,omitempty"`
	// Expect is what the session should end with; nil for a scenario that
	// only drives a world (wufault serve).
	Expect *Expect `yaml:"expect,omitempty"`
	// Fixes are the documented remedies to check, with their expected outcome.
	Fixes []FixCheck `yaml:"fixes,omitempty"`

	// File is where the scenario was loaded from ("catalog/x.yaml" for
	// embedded ones).
	File string `yaml:"-"`
}

// Expect is the expected outcome of a session.
type Expect struct {
	// Code is the session's final code; 0x0 means success (S_OK).
	Code codes.Code `yaml:"code" required:"true"`
	// Class is the request class that fails.
	Class profile.Class `yaml:"class,omitempty"`
	// Confidence of the mapping, from reference/wu-codes.md section 4.
	Confidence profile.Confidence `yaml:"confidence,omitempty"`
	// Source is the evidence tag, e.g. "[L-WINHTTPERR] 12030".
	Source string `yaml:"source,omitempty"`
}

// Outcome is what applying a fix did.
type Outcome string

// The outcomes of a fix.
const (
	OutcomeFixes    Outcome = "fixes"     // the session now succeeds
	OutcomeNoEffect Outcome = "no-effect" // the same failure
	OutcomePartial  Outcome = "partial"   // a different failure, or success only sometimes
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeFixes, OutcomeNoEffect, OutcomePartial}

// FixCheck is a fix and its expected outcome on the scenario.
type FixCheck struct {
	Fix     string  `yaml:"fix" required:"true"`
	Outcome Outcome `yaml:"outcome" required:"true"`
	// With lists fixes applied first, in order: a fix that only works in
	// combination (reset-winhttp-proxy needs restart-wu-services, seed 002)
	// is checked as the last of the chain.
	With []string `yaml:"with,omitempty"`
	// Code is the code expected after the fix when it is not success.
	Code *codes.Code `yaml:"code,omitempty"`
}
