package faults

import (
	"fmt"
	"time"
)

// Spec is one fault as a scenario configures it.
type Spec struct {
	Kind  string `json:"kind"`
	Match Match  `json:"match,omitzero"`
	When  When   `json:"when,omitzero"`
	Fault Fault  `json:"params"`
}

// Rule is a Spec armed in a running world. It owns the selection state.
type Rule struct {
	Index int
	Spec
	sel   *selector
	layer string
	match Match // Spec.Match with lowercase patterns, for matches
}

// Layer is the layer of the rule's kind ("dns", "tcp", …).
func (r *Rule) Layer() string { return r.layer }

// Name identifies the rule in logs and the journal: "faults[2] tcp.reset".
func (r *Rule) Name() string { return fmt.Sprintf("faults[%d] %s", r.Index, r.Kind) }

// Hits reports how often the rule matched and fired.
func (r *Rule) Hits() Hits { return r.sel.hits() }

// selectNorm counts t, whose host is normalized (NormHost), if the rule
// matches it and reports whether it fires.
func (r *Rule) selectNorm(t Target, host string) bool {
	return r.match.matches(t, host) && r.sel.fire()
}

// Set is the armed fault list of one active scenario. It is safe for
// concurrent use; a new scenario gets a new Set, so counters restart.
type Set struct {
	rules []*Rule
}

// NewSet arms specs. seed feeds every probability draw (one stream per
// rule, so adding a rule does not change the draws of the others); now is
// the clock for `after` (nil: time.Now).
func NewSet(specs []Spec, seed int64, now func() time.Time) *Set {
	if now == nil {
		now = time.Now
	}
	start := now()
	s := &Set{rules: make([]*Rule, len(specs))}
	for n, sp := range specs {
		s.rules[n] = &Rule{Index: n, Spec: sp, sel: newSelector(sp.When, seed, n, start, now), layer: Info{Kind: sp.Kind}.Layer(), match: sp.Match.lower()}
	}
	return s
}

// Rules returns the armed rules in scenario order.
func (s *Set) Rules() []*Rule {
	if s == nil {
		return nil
	}
	return s.rules
}

// Select returns, in scenario order, the rules of layer that match t and
// fire on it. Each matching rule counts the event once.
func (s *Set) Select(layer string, t Target) []*Rule { return s.SelectFunc(layer, t, nil) }

// AnyForHost reports, without counting, whether some rule of one of the
// layers could fire for traffic to host, whatever its path, method or class:
// the proxy uses it to decide whether a tunnel to host must be intercepted.
func (s *Set) AnyForHost(host string, layers ...string) bool {
	if s == nil {
		return false
	}
	host = NormHost(host)
	for _, r := range s.rules {
		for _, l := range layers {
			if r.layer == l && (r.match.Host == "" || Glob(r.match.Host, host)) {
				return true
			}
		}
	}
	return false
}

// SelectFunc is Select restricted to the rules keep accepts (nil: all);
// the others are neither counted nor returned. The world uses it to split
// one event between the moments it arms rules (at accept, at a CONNECT,
// per request).
func (s *Set) SelectFunc(layer string, t Target, keep func(*Rule) bool) []*Rule {
	if s == nil {
		return nil
	}
	var out []*Rule
	host := NormHost(t.Host)
	for _, r := range s.rules {
		if r.layer == layer && (keep == nil || keep(r)) && r.selectNorm(t, host) {
			out = append(out, r)
		}
	}
	return out
}
