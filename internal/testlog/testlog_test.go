package testlog

import (
	"strings"
	"testing"
)

// recorder keeps what a logger gives t.Log.
type recorder struct {
	testing.TB
	lines []string
}

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
