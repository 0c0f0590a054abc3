package browsertest

import (
	"os"
	"testing"
	"time"
)

// Profile returns a new, empty Chromium user-data directory, removed when
// the test ends. Not t.TempDir: Chromium's helper processes may still
// write there while the browser shuts down, and t.TempDir's removal then
// fails the test ("directory not empty"); this one retries for two
// seconds and leaves the directory behind rather than fail.
func Profile(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "wufault-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for range 20 {
			if os.RemoveAll(dir) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("chromium profile %s left behind: still in use", dir)
	})
	return dir
}
