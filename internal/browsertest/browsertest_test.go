package browsertest

import (
	"os"
	"path/filepath"
	"testing"
)

// The profile exists, is empty, and is gone after the test even with
// files written into it.
func TestProfile(t *testing.T) {
	var dir string
	t.Run("use", func(t *testing.T) {
		dir = Profile(t)
		entries, err := os.ReadDir(dir)
		if err != nil || len(entries) != 0 {
			t.Fatalf("new profile %s: %v, %d entries", dir, err, len(entries))
		}
		if err := os.MkdirAll(filepath.Join(dir, "Default", "Cache"), 0o700); err != nil {
			t.Fatal(err)
		}
	})
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("profile %s still there after the test: %v", dir, err)
	}
}
