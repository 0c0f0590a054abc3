package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestReadyFileRemovedOnExit: the ready file stayed after serve ended,
// naming listeners that were gone.
func TestReadyFileRemovedOnExit(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--ready-file", ready, "--proxy", "127.0.0.1:0", "--dns", "127.0.0.1:0",
			"--upstream-http", "", "--upstream-https", "", "--control", "127.0.0.1:0"}, &syncBuf{}, &syncBuf{})
	}()
	for i := 0; ; i++ {
		if _, err := os.Stat(ready); err == nil {
			break
		}
		if i > 400 {
			t.Fatal("no ready file")
		}
		time.Sleep(25 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("serve: %v", err)
	}
	if _, err := os.Stat(ready); !os.IsNotExist(err) {
		t.Errorf("ready file after exit: %v", err)
	}
}
