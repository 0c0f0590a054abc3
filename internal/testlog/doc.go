// Package testlog sends a test's slog records to the test's own output
// (t.Log: shown when the test fails, or with -v). It imports nothing of
// this module, so every package's tests can use it, including those of
// simulate and simulate/wsus, which internal/worldtest (built on them)
// cannot serve.
package testlog
