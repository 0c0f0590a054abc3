package client_test

import (
	"errors"
	"net"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/simulate/wsus"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// wantServiceProxy asserts that the Windows Update service runs with the
// proxy it read at its start.
func wantServiceProxy(t *testing.T, m *client.Machine, want string) {
	t.Helper()
	if got, running := m.ServiceProxy(); !running || got != want {
		t.Errorf("service proxy %q (running %v), want %q", got, running, want)
	}
}

func wantCode(t *testing.T, r *client.Result, want string) {
	t.Helper()
	if r.Code.Hex() != want {
		t.Fatalf("code %s, want %s\n%s", r.Code, want, dumpResult(t, r))
	}
}

// A cached NXDOMAIN keeps failing after the network is fixed (retry-later
// does not help) until the DNS cache is flushed or the negative TTL
// (the SOA minimum, capped by MaxNegativeCacheTtl) expires on the machine
// clock.
func TestNegativeCache(t *testing.T) {
	cases := []struct {
		name   string
		ttl    string
		expiry time.Duration // when the cached answer expires
	}{
		{"soa minimum", "300s", 300 * time.Second},
		{"capped at MaxNegativeCacheTtl", "3600s", client.MaxNegativeCacheTTL},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			lw := startWorld(t, wsus.Options{Seed: 1})
			lw.Activate("nx", 1, loadFaults(t, "- {kind: dns.nxdomain, negative_ttl: "+c.ttl+", match: {host: "+originHost+"}}"))
			p := profile.Profile{Proxy: ptr(""), Timeouts: patient()}
			m := newMachine(t, p, lw.Env())
			r := run(t, m)
			wantCode(t, r, "0x8024402C")
			if ne, ok := errors.AsType[*client.NameError](r.Failed.Err); !ok || ne.Reason != client.ReasonNXDomain || ne.Cached {
				t.Fatalf("first failure: %v", r.Failed.Err)
			}
			lw.Activate("fixed", 1, nil) // the network is fixed

			r = run(t, m) // retry-later
			wantCode(t, r, "0x8024402C")
			if ne, ok := errors.AsType[*client.NameError](r.Failed.Err); !ok || !ne.Cached {
				t.Fatalf("retry: want the cached NXDOMAIN, got %v", r.Failed.Err)
			}
			lw.Clock.Advance(c.expiry - time.Second)
			wantCode(t, run(t, m), "0x8024402C")
			lw.Clock.Advance(2 * time.Second)
			wantCode(t, run(t, m), "0x00000000")

			// flush-dns fixes it at once.
			lw.Activate("nx again", 1, loadFaults(t, "- {kind: dns.nxdomain, match: {host: "+originHost+"}}"))
			m.FlushDNS()
			wantCode(t, run(t, m), "0x8024402C")
			lw.Activate("fixed", 1, nil)
			wantCode(t, run(t, m), "0x8024402C")
			m.FlushDNS()
			wantCode(t, run(t, m), "0x00000000")
		})
	}
}

// A positive answer is cached for its TTL: a fault that starts later does
// not hurt until the entry expires.
func TestPositiveCache(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	m := newMachine(t, profile.Profile{Proxy: ptr(""), Timeouts: patient()}, lw.Env())
	wantCode(t, run(t, m), "0x00000000")
	if len(m.DNSCache()) == 0 {
		t.Fatal("nothing cached")
	}
	lw.Activate("nx", 1, loadFaults(t, "- {kind: dns.nxdomain, match: {host: "+originHost+"}}"))
	wantCode(t, run(t, m), "0x00000000")
	lw.Clock.Advance(61 * time.Second) // the test resolver's TTL is 60 s
	wantCode(t, run(t, m), "0x8024402C")
}

// Proxy settings are read when the service starts (seed 002): a changed
// WinHTTP proxy takes effect after restart-wu-services only.
func TestProxyChangeNeedsRestart(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	dead := closedPort(t)
	t.Run("set-winhttp-proxy", func(t *testing.T) {
		m := newMachine(t, profile.Profile{Proxy: ptr(dead), Timeouts: patient()}, lw.Env())
		r := run(t, m)
		wantCode(t, r, "0x80072EFD")
		if r.Failed.Phase != profile.PhaseConnect || r.Failed.Proxy != dead {
			t.Errorf("failed %+v", r.Failed)
		}
		if err := m.SetWinHTTPProxy("lab"); err != nil {
			t.Fatal(err)
		}
		if got := m.Config().Proxy; got != lw.Env().Proxy {
			t.Errorf("configured proxy %q, want the lab's %q", got, lw.Env().Proxy)
		}
		wantServiceProxy(t, m, dead)
		wantCode(t, run(t, m), "0x80072EFD") // the running service kept the old proxy
		m.RestartServices()
		wantServiceProxy(t, m, lw.Env().Proxy)
		wantCode(t, run(t, m), "0x00000000")
	})
	t.Run("running_proxy", func(t *testing.T) {
		p := profile.Profile{Proxy: ptr("lab"), Running: ptr(true), RunningProxy: ptr(dead), Timeouts: patient()}
		m := newMachine(t, p, lw.Env())
		wantServiceProxy(t, m, dead)
		wantCode(t, run(t, m), "0x80072EFD")
		m.RestartServices()
		wantServiceProxy(t, m, lw.Env().Proxy)
		wantCode(t, run(t, m), "0x00000000")
	})
	t.Run("reset-winhttp-proxy", func(t *testing.T) {
		m := newMachine(t, profile.Profile{Proxy: ptr(dead), Timeouts: patient()}, lw.Env())
		wantCode(t, run(t, m), "0x80072EFD")
		m.ResetWinHTTPProxy()
		wantCode(t, run(t, m), "0x80072EFD")
		m.RestartServices()
		wantCode(t, run(t, m), "0x00000000")
	})
	t.Run("import-ie-proxy", func(t *testing.T) {
		m := newMachine(t, profile.Profile{Proxy: ptr(dead), UserProxy: ptr("lab"), Timeouts: patient()}, lw.Env())
		wantCode(t, run(t, m), "0x80072EFD")
		m.ImportIEProxy()
		m.RestartServices()
		wantCode(t, run(t, m), "0x00000000")
	})
}

// The user proxy is a fallback for detection only when policy allows
// (SetProxyBehaviorForUpdateDetection = 1, [L-PROXY]); the reported code
// is the last attempt's.
func TestProxyFallback(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	dead := closedPort(t)
	p := profile.Profile{Proxy: ptr(dead), UserProxy: ptr("lab"), Timeouts: patient()}
	wantCode(t, run(t, newMachine(t, p, lw.Env())), "0x80072EFD")
	p.ProxyFallback = ptr(true)
	r := run(t, newMachine(t, p, lw.Env()))
	wantCode(t, r, "0x00000000")
	if r.Observations[0].Code.Hex() != "0x80072EFD" || r.Observations[1].Code != codes.OK {
		t.Errorf("want the failed system proxy attempt, then the user proxy's\n%s", dumpResult(t, r))
	}
	// Both paths fail: the last attempt's code is reported.
	p.UserProxy = ptr("bad proxy:port")
	wantCode(t, run(t, newMachine(t, p, lw.Env())), "0x80072EFD")
}

func TestConfigurationErrors(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	cases := []struct {
		name    string
		profile profile.Profile
		want    string
		winhttp client.WinHTTPError
	}{
		{"WUServer without a scheme", profile.Profile{Server: ptr("wsus.corp.example:8530")}, "0x80072EE6", 12006},
		{"WUServer without a scheme or port", profile.Profile{Server: ptr("wsus.corp.example")}, "0x80072EE6", 12006},
		{"WUServer ftp", profile.Profile{Server: ptr("ftp://wsus.corp.example")}, "0x80072EE6", 12006},
		{"WUServer without a host", profile.Profile{Server: ptr("http://")}, "0x80072EE5", 12005},
		{"invalid proxy list", profile.Profile{Proxy: ptr("proxy.corp:99999")}, "0x80240030", 0},
		{"invalid proxy scheme", profile.Profile{Proxy: ptr("ftp=proxy.corp:21")}, "0x80240030", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, newMachine(t, c.profile, lw.Env()))
			wantCode(t, r, c.want)
			if r.Failed.WinHTTP != c.winhttp || r.Failed.Phase != "" {
				t.Errorf("winhttp %d phase %q\n%s", r.Failed.WinHTTP, r.Failed.Phase, dumpResult(t, r))
			}
			if len(r.Observations) != 1 {
				t.Errorf("a configuration error sends nothing\n%s", dumpResult(t, r))
			}
		})
	}
}

// Fixes on the client side against the faults they remedy.
func TestFixes(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	t.Run("remove-hosts-override", func(t *testing.T) {
		p := profile.Profile{Proxy: ptr(""), Hosts: []profile.HostEntry{{Host: originHost, Address: "127.0.0.2"}}, Timeouts: patient()}
		m := newMachine(t, p, lw.Env())
		wantCode(t, run(t, m), "0x80072EFD")
		m.FlushDNS() // no help: hosts entries are not cache entries
		wantCode(t, run(t, m), "0x80072EFD")
		m.RemoveHostsOverride()
		wantCode(t, run(t, m), "0x00000000")
	})
	t.Run("use-public-dns", func(t *testing.T) {
		lw := startWorld(t, wsus.Options{Seed: 1})
		lw.Activate("servfail", 1, loadFaults(t, "- {kind: dns.servfail}"))
		m := newMachine(t, profile.Profile{Proxy: ptr(""), Timeouts: patient()}, lw.Env())
		wantCode(t, run(t, m), "0x8024402C")
		if err := m.UsePublicDNS(); err != nil {
			t.Fatal(err)
		}
		wantCode(t, run(t, m), "0x00000000")
	})
	t.Run("second resolver", func(t *testing.T) {
		lw := startWorld(t, wsus.Options{Seed: 1})
		lw.Activate("servfail", 1, loadFaults(t, "- {kind: dns.servfail}"))
		p := profile.Profile{Proxy: ptr(""), DNS: []string{"lab", "healthy"}, Timeouts: patient()}
		wantCode(t, run(t, newMachine(t, p, lw.Env())), "0x00000000")
	})
	t.Run("provide-proxy-credentials", func(t *testing.T) {
		lw := startWorld(t, wsus.Options{Seed: 1})
		lw.Activate("auth", 1, loadFaults(t, `- {kind: proxy.auth, schemes: [ntlm, basic], users: [{user: 'LAB\alice', password: pw}]}`))
		m := newMachine(t, profile.Profile{Timeouts: patient()}, lw.Env())
		wantCode(t, run(t, m), "0x8024401B")
		m.SetProxyCredentials(`LAB\alice`, "pw")
		wantCode(t, run(t, m), "0x00000000")
	})
	t.Run("enable-negotiate", func(t *testing.T) {
		lw := startWorld(t, wsus.Options{Seed: 1})
		lw.Activate("auth", 1, loadFaults(t, `- {kind: proxy.auth, schemes: [negotiate], users: [{user: 'LAB\alice', password: pw}]}`))
		p := profile.Profile{AuthSchemes: []string{"basic"}, ProxyCredentials: &profile.Credential{User: `LAB\alice`, Password: "pw"}, Timeouts: patient()}
		m := newMachine(t, p, lw.Env())
		wantCode(t, run(t, m), "0x8024401B")
		m.EnableNegotiate()
		wantCode(t, run(t, m), "0x00000000")
	})
	// reset-wu-components resets the WinHTTP proxy (KB971058) and restarts
	// the service, which then reads the direct setting.
	t.Run("reset-wu-components", func(t *testing.T) {
		lw := startWorld(t, wsus.Options{Seed: 1})
		m := newMachine(t, profile.Profile{Running: ptr(true), Timeouts: patient()}, lw.Env())
		m.ResetWUComponents()
		if p, running := m.ServiceProxy(); p != "" || !running || m.Config().Proxy != "" {
			t.Errorf("after reset-wu-components: service proxy %q (running %v), configured %q; want direct", p, running, m.Config().Proxy)
		}
		wantCode(t, run(t, m), "0x00000000")
	})
}
