package testlog

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// New is a logger writing every record, debug included, to t.Log until
// the test's cleanups have run. Servers do not wait for every goroutine
// they started when they close (an http.Server's connections log after
// Close returns), and t.Log after the test has ended panics: records that
// come that late are dropped. Call New before starting what logs, so that
// its cleanup runs after theirs.
func New(t testing.TB) *slog.Logger {
	w := &writer{t: t}
	t.Cleanup(func() {
		w.mu.Lock()
		w.done = true
		w.mu.Unlock()
	})
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type writer struct {
	t    testing.TB
	mu   sync.Mutex // held while logging, so the test cannot end in between
	done bool
}

func (w *writer) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.done {
		w.t.Helper()
		w.t.Log(strings.TrimRight(string(b), "\n"))
	}
	return len(b), nil
}
