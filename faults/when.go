package faults

import (
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// When selects which of the events a rule matches it fires on. All set
// conditions must hold; an empty When fires on every matching event.
//
//	first: N        the first N matching events
//	every: N        every Nth matching event (N, 2N, 3N, …)
//	nth: N          only the Nth matching event
//	probability: p  each matching event with probability p, drawn from the scenario seed
//	after: d        only once d has passed since the scenario became active
//	times: N        at most N firings in all
//
// first, every and nth exclude one another.
type When struct {
	First       int              `yaml:"first,omitempty" json:"first,omitempty"`
	Every       int              `yaml:"every,omitempty" json:"every,omitempty"`
	Nth         int              `yaml:"nth,omitempty" json:"nth,omitempty"`
	Probability *float64         `yaml:"probability,omitempty" json:"probability,omitempty"`
	After       profile.Duration `yaml:"after,omitempty" json:"after,omitempty"`
	Times       int              `yaml:"times,omitempty" json:"times,omitempty"`
}

// Validate checks the selector.
func (w When) Validate() error {
	var errs []error
	counted := 0
	for _, f := range []struct {
		name string
		v    int
	}{{"first", w.First}, {"every", w.Every}, {"nth", w.Nth}, {"times", w.Times}} {
		if f.v < 0 {
			errs = append(errs, fieldErr(f.name, "must be >= 0, got %d", f.v))
		}
		if f.v != 0 && f.name != "times" {
			counted++
		}
	}
	if counted > 1 {
		errs = append(errs, fieldErr("first", "first, every and nth exclude one another"))
	}
	if p := w.Probability; p != nil && (*p < 0 || *p > 1 || *p != *p) {
		errs = append(errs, fieldErr("probability", "must be between 0 and 1, got %v", *p))
	}
	if w.After < 0 {
		errs = append(errs, fieldErr("after", "must not be negative, got %s", w.After))
	}
	return errors.Join(errs...)
}

// selector is the running state of one rule's When.
type selector struct {
	when  When
	start time.Time
	now   func() time.Time

	mu      sync.Mutex
	rnd     *rand.Rand
	matched int64
	fired   int64
}

func newSelector(w When, seed int64, index int, start time.Time, now func() time.Time) *selector {
	return &selector{
		when:  w,
		start: start,
		now:   now,
		rnd:   rand.New(rand.NewPCG(uint64(seed), uint64(index)+0x9e3779b97f4a7c15)),
	}
}

// fire counts one matching event and reports whether the rule fires on it.
func (s *selector) fire() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.matched++
	n := s.matched
	w := s.when
	ok := true
	switch {
	case w.First > 0:
		ok = n <= int64(w.First)
	case w.Every > 0:
		ok = n%int64(w.Every) == 0
	case w.Nth > 0:
		ok = n == int64(w.Nth)
	}
	if ok && w.After > 0 && s.now().Sub(s.start) < w.After.D() {
		ok = false
	}
	if ok && w.Times > 0 && s.fired >= int64(w.Times) {
		ok = false
	}
	// The draw happens for every matching event that got this far, so the
	// sequence of draws depends only on the seed and the event order.
	if ok && w.Probability != nil {
		ok = s.rnd.Float64() < *w.Probability
	}
	if ok {
		s.fired++
	}
	return ok
}

// Hits counts a rule's matching events and firings.
type Hits struct {
	Matched int64 `json:"matched"`
	Fired   int64 `json:"fired"`
}

func (s *selector) hits() Hits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Hits{Matched: s.matched, Fired: s.fired}
}
