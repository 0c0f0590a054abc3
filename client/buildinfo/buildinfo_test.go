package buildinfo

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFrom(t *testing.T) {
	bi := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/wufault/wufault", Version: "v1.2.0"},
		Settings: []debug.BuildSetting{
			{Key: "GOOS", Value: "windows"}, {Key: "GOARCH", Value: "arm64"},
			{Key: "vcs.revision", Value: "0123456789abcdef0123456789abcdef01234567"},
			{Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
		}}
	got := From("wufault", bi).String()
	want := "wufault v1.2.0 (revision 0123456789ab, 2026-12-01T10:00:00Z, modified) go1.26.8 windows/arm64"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := From("wufault", &debug.BuildInfo{GoVersion: "go1.26.8"}).Version; got != "(devel)" {
		t.Errorf("no module version: %q", got)
	}
}

// TestBuiltBinaryNamesItsRevision builds wufault from a clone of this
// checkout's HEAD (the go command stamps the VCS revision only in a plain
// clone, not a git worktree) and checks that --version and the version
// command print that revision.
func TestBuiltBinaryNamesItsRevision(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git is not installed")
	}
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	dir := t.TempDir()
	clone := filepath.Join(dir, "src")
	if out, err := exec.Command("git", "clone", "-q", "--no-hardlinks", strings.TrimSpace(string(top)), clone).CombinedOutput(); err != nil {
		t.Fatalf("git clone: %v\n%s", err, out)
	}
	rev, err := exec.Command("git", "-C", clone, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	// The work tree's uncommitted files go over the clone (the build then
	// says "modified"), so the test runs the code under test.
	files, err := exec.Command("git", "-C", strings.TrimSpace(string(top)), "ls-files", "-cmo", "--exclude-standard").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range strings.Fields(string(files)) {
		b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(top)), f))
		if err != nil {
			continue // deleted in the work tree
		}
		os.MkdirAll(filepath.Dir(filepath.Join(clone, f)), 0o755)
		if err := os.WriteFile(filepath.Join(clone, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, prog := range []string{"wufault", "wufault-agent"} {
		bin := filepath.Join(dir, prog)
		build := exec.Command("go", "build", "-buildvcs=true", "-o", bin, "./cmd/"+prog)
		build.Dir = clone
		build.Env = append(os.Environ(), "GOFLAGS=")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", prog, err, out)
		}
		args := [][]string{{"--version"}}
		if prog == "wufault" {
			args = append(args, []string{"version"})
		}
		for _, a := range args {
			out, err := exec.Command(bin, a...).CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", prog, a, err, out)
			}
			// The go command makes the module version a pseudo-version
			// from the commit when no tag names it.
			if !strings.HasPrefix(string(out), prog+" v") || !strings.Contains(string(out), "(revision "+string(rev[:12])) {
				t.Errorf("%s %s printed %q, want the program, a module version and revision %s", prog, a, out, rev[:12])
			}
		}
	}
}
