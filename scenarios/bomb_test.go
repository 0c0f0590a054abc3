package scenarios

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// BombFlat is the shape of the reported bomb: one anchored mapping of 1,000
// keys aliased 3,000 times (21 KB of YAML, 3 million decoded keys when
// every alias is expanded).
func BombFlat() string {
	var b strings.Builder
	b.WriteString("name: bomb\nx: &a {")
	for i := range 1000 {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "k%d: 1", i)
	}
	b.WriteString("}\nfixes: [")
	for i := range 3000 {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("*a")
	}
	b.WriteString("]\n")
	return b.String()
}

// BombNested is the billion-laughs shape: nine levels of ten aliases to
// the level below (10^9 leaves from 400 bytes).
func BombNested() string {
	var b strings.Builder
	b.WriteString("name: bomb\nl0: &l0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i < 9; i++ {
		fmt.Fprintf(&b, "l%d: &l%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*l%d, ", i-1), 10), ", "))
	}
	b.WriteString("profile: {hosts: *l8}\n")
	return b.String()
}

// allocated reports the bytes f allocates.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestAliasBombRefusedCheaply(t *testing.T) {
	for name, in := range map[string]string{"flat": BombFlat(), "nested": BombNested()} {
		t.Run(name, func(t *testing.T) {
			var err error
			alloc := allocated(func() { _, err = Load(strings.NewReader(in), "bomb.yaml") })
			var le *LoadError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a *LoadError", err)
			}
			if len(le.Problems) != 1 || !strings.Contains(err.Error(), "alias bomb") || !strings.HasPrefix(err.Error(), "bomb.yaml:") {
				t.Errorf("err = %.500s", err)
			}
			// Parsing the input itself takes a few MB; expanding the bomb
			// took gigabytes.
			if alloc > 64<<20 {
				t.Errorf("loading a %d-byte bomb allocated %d MB", len(in), alloc>>20)
			}
		})
	}
}

// TestAliasesWithinBudget: a fair use of aliases (a shared match block)
// still loads, and decodes as if written out.
func TestAliasesWithinBudget(t *testing.T) {
	in := `name: shared-match
faults:
  - kind: tcp.reset
    match: &wu {host: "*.update.microsoft.com", class: scan}
  - kind: tcp.refuse
    match: *wu
`
	sc, err := Load(strings.NewReader(in), "a.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(sc.Faults) != 2 || sc.Faults[1].Match != sc.Faults[0].Match || sc.Faults[1].Match.Host == "" {
		t.Fatalf("faults = %+v", sc.Faults)
	}
}

// TestProblemsCapped: a file with thousands of mistakes (no aliases) gets
// MaxProblems of them and a count of the rest, not an answer as large as
// the mistakes.
func TestProblemsCapped(t *testing.T) {
	var b strings.Builder
	b.WriteString("name: many\n")
	for i := range 5000 {
		fmt.Fprintf(&b, "k%d: 1\n", i)
	}
	_, err := Load(strings.NewReader(b.String()), "many.yaml")
	var le *LoadError
	if !errors.As(err, &le) {
		t.Fatalf("err = %v", err)
	}
	if len(le.Problems) != MaxProblems || le.More != 5000-MaxProblems {
		t.Fatalf("problems %d, more %d", len(le.Problems), le.More)
	}
	if !strings.HasSuffix(err.Error(), fmt.Sprintf("… and %d more problems", 5000-MaxProblems)) {
		t.Errorf("error ends %q", err.Error()[len(err.Error())-80:])
	}
	if len(err.Error()) > 16<<10 {
		t.Errorf("error is %d bytes", len(err.Error()))
	}
}
