package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/wufault/wufault/internal/worldtest"
	"github.com/wufault/wufault/simulate/wsus"
)

func TestProbeCommand(t *testing.T) {
	// A world (proxy and DNS) in front of the test's own emulator,
	// wsus.wufault.test, which the world's DNS forwards to its resolver.
	w := worldtest.Start(t, worldtest.Proxy(), worldtest.DNS(), worldtest.WithOrigin(worldtest.StartOrigin(t, wsus.Options{Seed: 1})))
	a := w.Addrs()
	args := []string{"probe", "--wsus", w.Origin.URL("http"), "--dns", a.DNS, "--proxy", "http://" + a.Proxy, "--time-scale", "0.05"}

	out, errs, status := runCmd(t, append(args, "--json")...)
	if status != 0 {
		t.Fatalf("status %d: %s\n%s", status, errs, out)
	}
	var rep struct {
		Pass      bool `json:"pass"`
		Endpoints []struct {
			URL   string `json:"url"`
			Pass  bool   `json:"pass"`
			Range string `json:"range"`
			Code  string `json:"code"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, out)
	}
	if !rep.Pass || len(rep.Endpoints) != 5 || rep.Endpoints[0].Range != "supported" {
		t.Errorf("report %+v", rep)
	}

	w.Use("- {kind: proxy.auth, schemes: [basic], users: [{user: alice, password: pw}]}")
	out, _, status = runCmd(t, args...)
	if status != 1 || !strings.Contains(out, "0x8024401B") || !strings.Contains(out, "some required endpoints failed") {
		t.Errorf("407: status %d\n%s", status, out)
	}
	t.Setenv("WUFAULT_PROXY_PASSWORD", "pw")
	out, errs, status = runCmd(t, append(args, "--proxy-user", "alice")...)
	if status != 0 {
		t.Errorf("with credentials: status %d: %s\n%s", status, errs, out)
	}

	if _, _, status := runCmd(t, "probe", "--generation", "vista", "--dns", a.DNS); status == 0 {
		t.Error("a bad --generation was accepted")
	}
}
