// Package testlog sends a test's slog records to the test's own output
// (t.Log: shown when the test fails, or with -v). It imports nothing of
// this module, so every package's tests can use it, including those of
// simulate and simulate/wsus, which internal/worldtest (built on them)
// cannot serve.
package testlog

import (
	"log/slog"
	"strings"
	"testing"
)

// New is a logger writing every record, debug included, to t.Log.
func New(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(writer{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type writer struct{ t testing.TB }

func (w writer) Write(b []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}
