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
	goBin := filepath.Join(runtime.GOROOT(), "bin", "go")
	for _, c := range []struct {
		goos string
		pkgs []string
	}{
		{runtime.GOOS, []string{"../", "../observe", "../winagent", "."}},
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
	out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	for _, d := range strings.Fields(string(out)) {
		if strings.HasPrefix(d, "github.com/wufault/wufault/") && d != "github.com/wufault/wufault/client/profile" {
			t.Errorf("client/profile links %s", d)
		}
	}
}
