package client_test

import (
	"testing"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate/wsus"
)

func TestSessionSucceeds(t *testing.T) {
	e := startEmulator(t, wsus.Options{Seed: 1})
	d := startDNS(t, map[string]string{"wsus.lab": "127.0.0.1"})
	for _, gen := range []string{"modern", "legacy"} {
		t.Run(gen, func(t *testing.T) {
			p := direct()
			p.Generation = gen
			m := newMachine(t, p, labEnv(t, e, d))
			r := run(t, m)
			if r.Code != codes.OK {
				t.Fatalf("code %s\n%s", r.Code, dumpResult(t, r))
			}
			if r.Updates != 4 || r.Downloaded != 2 {
				t.Errorf("updates %d, downloaded %d\n%s", r.Updates, r.Downloaded, dumpResult(t, r))
			}
			t.Log("\n" + dumpResult(t, r))
		})
	}
}

var _ = scenarios.Profile{}
var _ = client.ClassScan
