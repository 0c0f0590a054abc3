package faults

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

func fires(w When, n int, seed int64) string {
	s := NewSet([]Spec{{Kind: "tcp.reset", When: w, Fault: new(TCPReset)}}, seed, nil)
	out := ""
	for range n {
		if len(s.Select("tcp", Target{Host: "h"})) == 1 {
			out += "x"
		} else {
			out += "."
		}
	}
	return out
}

func TestWhen(t *testing.T) {
	p := func(v float64) *float64 { return &v }
	for _, tc := range []struct {
		when When
		want string
	}{
		{When{}, "xxxxxxxx"},
		{When{First: 3}, "xxx....."},
		{When{Every: 3}, "..x..x.."},
		{When{Nth: 2}, ".x......"},
		{When{Times: 2}, "xx......"},
		{When{Every: 2, Times: 2}, ".x.x...."},
		{When{Probability: p(0)}, "........"},
		{When{Probability: p(1)}, "xxxxxxxx"},
	} {
		if got := fires(tc.when, 8, 1); got != tc.want {
			t.Errorf("%+v: got %s, want %s", tc.when, got, tc.want)
		}
	}
}

func TestWhenProbabilityIsSeeded(t *testing.T) {
	half := 0.5
	a, b, c := fires(When{Probability: &half}, 64, 7), fires(When{Probability: &half}, 64, 7), fires(When{Probability: &half}, 64, 8)
	if a != b {
		t.Errorf("same seed, different firings:\n%s\n%s", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same firings: %s", a)
	}
	n := 0
	for _, ch := range a {
		if ch == 'x' {
			n++
		}
	}
	if n < 16 || n > 48 {
		t.Errorf("probability 0.5 fired %d of 64 times", n)
	}
}

func TestWhenAfter(t *testing.T) {
	now := time.Unix(1000, 0)
	clock := func() time.Time { return now }
	s := NewSet([]Spec{{Kind: "dns.drop", When: When{After: profile.Duration(time.Minute)}, Fault: new(DNSDrop)}}, 1, clock)
	if len(s.Select("dns", Target{})) != 0 {
		t.Error("fired before after")
	}
	now = now.Add(time.Minute)
	if len(s.Select("dns", Target{})) != 1 {
		t.Error("did not fire after after")
	}
	if h := s.Rules()[0].Hits(); h != (Hits{Matched: 2, Fired: 1}) {
		t.Errorf("hits = %+v", h)
	}
}

func TestSelectByLayerAndMatch(t *testing.T) {
	s := NewSet([]Spec{
		{Kind: "dns.nxdomain", Match: Match{Host: "*.windowsupdate.com"}, Fault: new(NXDomain)},
		{Kind: "tcp.reset", Match: Match{Host: "*.windowsupdate.com"}, When: When{First: 1}, Fault: new(TCPReset)},
	}, 1, nil)
	if got := s.Select("dns", Target{Host: "download.windowsupdate.com"}); len(got) != 1 || got[0].Kind != "dns.nxdomain" {
		t.Errorf("dns select = %v", got)
	}
	if got := s.Select("dns", Target{Host: "example.test"}); len(got) != 0 {
		t.Errorf("unmatched host selected %v", got)
	}
	if got := s.Rules()[1].Hits(); got.Matched != 0 {
		t.Errorf("a dns event counted on a tcp rule: %+v", got)
	}
	if !s.AnyForHost("a.windowsupdate.com", "tcp") || s.AnyForHost("a.windowsupdate.com", "http") {
		t.Error("AnyForHost wrong")
	}
	if s.Rules()[1].Name() != "faults[1] tcp.reset" {
		t.Errorf("Name = %q", s.Rules()[1].Name())
	}
}

func TestSelectConcurrent(t *testing.T) {
	s := NewSet([]Spec{{Kind: "tcp.reset", When: When{Every: 2}, Fault: new(TCPReset)}}, 1, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	fired := 0
	for range 8 {
		wg.Go(func() {
			for range 100 {
				if len(s.Select("tcp", Target{})) == 1 {
					mu.Lock()
					fired++
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if fired != 400 {
		t.Errorf("every: 2 over 800 events fired %d times", fired)
	}
}

func TestWhenValidate(t *testing.T) {
	bad := -0.1
	for _, w := range []When{{First: -1}, {First: 1, Every: 2}, {Nth: 1, Every: 2}, {Probability: &bad}, {After: -1}, {Times: -2}} {
		if err := w.Validate(); err == nil {
			t.Errorf("%+v accepted", w)
		}
	}
	if err := (When{First: 2, Times: 1}).Validate(); err != nil {
		t.Errorf("valid when rejected: %v", err)
	}
	_ = fmt.Sprint
}
