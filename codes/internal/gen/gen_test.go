package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The checked-in table is what the generator writes from the x/sys
// version in go.mod: `go generate ./codes` after a change.
func TestGeneratedTableUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out := filepath.Join(t.TempDir(), "gen.tsv")
	cmd := exec.Command("go", "run", ".", "-hand", "../../catalog.tsv", "-out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("generator: %v\n%s", err, b)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile("../../catalog_generated.tsv")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("codes/catalog_generated.tsv is stale: run go generate ./codes")
	}
}
