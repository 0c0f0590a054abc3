package profile_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// forbidden are what the client side must never link: the lab's packages
// (the client sees sockets, never the fault) and the lab's DNS library.
var forbidden = []string{
	"github.com/wufault/wufault/faults",
	"github.com/wufault/wufault/scenarios",
	"github.com/wufault/wufault/simulate",
	"github.com/wufault/wufault/verify",
	"github.com/miekg/dns",
}

// allowed are the packages of this module the client side may link.
func allowed(p string) bool {
	return p == "github.com/wufault/wufault/codes" || p == "github.com/wufault/wufault/client" ||
		strings.HasPrefix(p, "github.com/wufault/wufault/client/") || p == "github.com/wufault/wufault/cmd/wufault-agent"
}

// TestClientStandsAlone pins the import rule of DESIGN.md with go list
// -deps: the client, its observer and its Windows agent (built for
// Windows, as it ships) link this package, codes, the standard library and
// third-party libraries, and nothing of the lab.
func TestClientStandsAlone(t *testing.T) {
	goBin := goTool(t)
	for _, c := range []struct {
		goos string
		pkgs []string
	}{
		{runtime.GOOS, []string{"../..."}}, // every package under client/, as go list ./client/... sees it
		{"windows", []string{"../", "../observe", "../winagent", "../../cmd/wufault-agent"}},
	} {
		cmd := exec.Command(goBin, append([]string{"list", "-deps"}, c.pkgs...)...)
		cmd.Env = append(os.Environ(), "GOOS="+c.goos, "CGO_ENABLED=0")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps (GOOS=%s): %v\n%s", c.goos, err, out)
		}
		deps := strings.Fields(string(out))
		if !slices.Contains(deps, "github.com/wufault/wufault/client/profile") {
			t.Fatalf("GOOS=%s: the client does not link client/profile: the list is wrong\n%s", c.goos, out)
		}
		for _, d := range deps {
			if slices.Contains(forbidden, d) || strings.HasPrefix(d, "github.com/miekg/dns/") {
				t.Errorf("GOOS=%s: the client side links %s", c.goos, d)
			}
			if strings.HasPrefix(d, "github.com/wufault/wufault/") && !allowed(d) {
				t.Errorf("GOOS=%s: the client side links %s (only client/..., codes)", c.goos, d)
			}
		}
	}
}

// TestProfileIsALeaf: this package imports nothing of the module.
func TestProfileIsALeaf(t *testing.T) {
	out, err := exec.Command(goTool(t), "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, "github.com/wufault/wufault/") && d != "github.com/wufault/wufault/client/profile" {
			t.Errorf("client/profile links %s", d)
		}
	}
}

// goTool is the go command: the one of this toolchain's GOROOT (go test
// sets it in the environment), else the one on PATH.
func goTool(t *testing.T) string {
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			return p
		}
	}
	p, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command: %v", err)
	}
	return p
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
