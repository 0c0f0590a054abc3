package client_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/internal/testlog"
	"github.com/wufault/wufault/internal/worldtest"
	"github.com/wufault/wufault/verify"
)

// testLogger routes slog to the test's output.
var testLogger = testlog.New

// labEnv is an environment with the origin as "lab" WSUS under the name
// wsus.lab, which the origin's resolver answers; no world, no proxy.
func labEnv(t testing.TB, o *worldtest.Origin) client.Env {
	return client.Env{DNS: o.Resolver, Server: "http://wsus.lab:" + o.Port(), Logger: testLogger(t), Clock: &verify.Clock{}}
}

func ptr[T any](v T) *T { return &v }

// direct is a profile without proxy.
func direct() profile.Profile { return profile.Profile{Proxy: ptr("")} }

func run(t testing.TB, m *client.Machine) *client.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := m.Run(ctx)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return r
}

func newMachine(t testing.TB, p profile.Profile, env client.Env) *client.Machine {
	t.Helper()
	m, err := client.NewMachine(p, env)
	if err != nil {
		t.Fatalf("NewMachine: %v", err)
	}
	return m
}

func dumpResult(t testing.TB, r *client.Result) string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}
