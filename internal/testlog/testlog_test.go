package testlog

import (
	"strings"
	"testing"
)

// recorder keeps what a logger gives t.Log.
type recorder struct {
	testing.TB
	lines    []string
	cleanups []func()
}

func (r *recorder) Cleanup(f func()) { r.cleanups = append(r.cleanups, f) }

func (r *recorder) Helper()         {}
func (r *recorder) Log(args ...any) { r.lines = append(r.lines, args[0].(string)) }

func TestNew(t *testing.T) {
	r := &recorder{TB: t}
	New(r).Debug("probe", "n", 1)
	if len(r.lines) != 1 || !strings.Contains(r.lines[0], "level=DEBUG") || !strings.Contains(r.lines[0], "msg=probe n=1") ||
		strings.HasSuffix(r.lines[0], "\n") {
		t.Fatalf("lines %q", r.lines)
	}
}

// A record that comes after the test's cleanups ran (a server's goroutine
// that outlived Close) is dropped: t.Log would panic then.
func TestNoLogAfterTheTest(t *testing.T) {
	r := &recorder{TB: t}
	log := New(r)
	log.Info("during the test")
	for _, f := range r.cleanups {
		f()
	}
	log.Info("after the test")
	if len(r.lines) != 1 || !strings.Contains(r.lines[0], "during the test") {
		t.Fatalf("lines %q, want only the record logged during the test", r.lines)
	}
}
