package client_test

import (
	"context"
	"crypto/x509"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/internal/worldtest"
	"github.com/wufault/wufault/simulate/wsus"
)

func probeOpts(lw *worldtest.World, proxy string, eps []client.Endpoint) client.ProbeOptions {
	roots := x509.NewCertPool()
	if lw.Env().LabCA != nil {
		roots.AddCert(lw.Env().LabCA)
	}
	return client.ProbeOptions{Endpoints: eps, Proxy: proxy, DNS: []string{lw.Env().DNS}, TimeScale: 0.05, Roots: roots,
		Env: client.Env{Logger: lw.Env().Logger}}
}

func doProbe(t *testing.T, o client.ProbeOptions) *client.ProbeReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := client.Probe(ctx, o)
	if err != nil {
		t.Fatalf("Probe: %v", err)
	}
	var b strings.Builder
	if err := r.WriteText(&b); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + b.String())
	return r
}

// The probe against the world on loopback only: the test's WSUS through
// the world's proxy and directly, then with faults.
func TestProbe(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	eps, err := client.WSUSEndpoints(lw.Env().Server)
	if err != nil {
		t.Fatal(err)
	}
	for _, proxy := range []string{"", "http://" + lw.Env().Proxy} {
		r := doProbe(t, probeOpts(lw, proxy, eps))
		if !r.Pass {
			t.Fatalf("proxy %q: a healthy path failed", proxy)
		}
		if r.Endpoints[0].Range != "supported" || !r.Endpoints[0].DNS.OK || !r.Endpoints[0].TCP.OK || r.Endpoints[0].TLS.Skipped == "" {
			t.Errorf("wuident.cab: %+v", r.Endpoints[0])
		}
	}

	lw.Activate("faults", 1, loadFaults(t, `
- {kind: http.range_ignored, match: {path: /selfupdate/*}}
- {kind: http.status, status: 502, match: {path: /ClientWebService/client.asmx}}`))
	r := doProbe(t, probeOpts(lw, lw.Env().Proxy, eps))
	if r.Pass {
		t.Fatal("a 502 on the scan endpoint passed")
	}
	if e := r.Endpoints[0]; e.Range != "ignored" || !e.Pass {
		t.Errorf("wuident.cab with Range ignored: %+v (WinHTTP fetches the whole file: passes)", e)
	}
	if e := r.Endpoints[1]; e.Pass || e.Code.Hex() != "0x80244021" || e.Status != 502 {
		t.Errorf("scan endpoint: %+v", e)
	}

	lw.Activate("dns", 1, loadFaults(t, "- {kind: dns.nxdomain, match: {host: "+originHost+"}}"))
	r = doProbe(t, probeOpts(lw, "", eps[:1]))
	if e := r.Endpoints[0]; r.Pass || e.DNS.OK || e.Code.Hex() != "0x8024402C" {
		t.Errorf("nxdomain: %+v", e)
	}

	// HTTPS through the proxy's interception: the chain is reported, and
	// an expired certificate fails with 0x80072F8F.
	https, _ := client.WSUSEndpoints(lw.Env().ServerHTTPS)
	lw.Activate("expired", 1, loadFaults(t, "- {kind: tls.cert, profile: expired}"))
	r = doProbe(t, probeOpts(lw, lw.Env().Proxy, https[:1]))
	e := r.Endpoints[0]
	if r.Pass || e.Code.Hex() != "0x80072F8F" || e.WinHTTP != 12175 || len(e.Chain) == 0 || !e.Chain[0].NotAfter.Before(time.Now()) {
		t.Errorf("expired: %+v", e)
	}
}

func TestProbeOptions(t *testing.T) {
	if _, err := client.Probe(context.Background(), client.ProbeOptions{Proxy: "ftp://x"}); err == nil {
		t.Error("a bad proxy URL was accepted")
	}
	if _, err := client.WSUSEndpoints("wsus.corp.example"); err == nil {
		t.Error("a WSUS URL without a scheme was accepted")
	}
	for _, e := range client.MicrosoftUpdateEndpoints() {
		if !strings.HasPrefix(e.URL, "http://") && !strings.HasPrefix(e.URL, "https://") {
			t.Errorf("endpoint %q", e.URL)
		}
	}
}
