package worldtest_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/internal/worldtest"
	"github.com/wufault/wufault/simulate/wsus"
)

// The fixture's world answers on the addresses it hands out: its DNS
// applies the faults given at start, its proxy reaches the test's origin
// under its name and intercepts it with the lab CA the pool trusts.
func TestStart(t *testing.T) {
	o := worldtest.StartOrigin(t, wsus.Options{Seed: 1})
	w := worldtest.Start(t, worldtest.Proxy(), worldtest.DNS(), worldtest.WithOrigin(o),
		worldtest.Faults("- {kind: dns.nxdomain, match: {host: '*.update.microsoft.com'}}"))

	ask := func(name string) int {
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, w.DNSAddr())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return r.Rcode
	}
	if rc := ask("fe2.update.microsoft.com."); rc != dns.RcodeNameError {
		t.Errorf("faulted name: rcode %d, want NXDOMAIN", rc)
	}
	if rc := ask(worldtest.OriginHost + "."); rc != dns.RcodeSuccess {
		t.Errorf("origin's name (forwarded to its resolver): rcode %d", rc)
	}

	tr := &http.Transport{Proxy: http.ProxyURL(w.ProxyURL()), TLSClientConfig: &tls.Config{RootCAs: w.CAPool()}}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	resp, err := hc.Get(o.URL("http") + "/selfupdate/wuident.cab")
	if err != nil {
		t.Fatalf("http through the proxy: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(b) == 0 {
		t.Errorf("http: status %d, %d bytes", resp.StatusCode, len(b))
	}
	// The proxy intercepts the origin's name with a certificate of the lab
	// CA, which the pool trusts (the origin itself speaks plain HTTP, so
	// what follows the handshake is the proxy's 502).
	resp, err = hc.Get(o.URL("https") + "/")
	if err != nil {
		t.Fatalf("https through the proxy: %v", err)
	}
	resp.Body.Close()
	if resp.TLS == nil || len(resp.TLS.VerifiedChains) == 0 {
		t.Fatalf("https: no verified TLS session: %+v", resp.TLS)
	}
	if ch := resp.TLS.VerifiedChains[0]; !ch[len(ch)-1].Equal(w.CA()) {
		t.Errorf("https: the chain ends at %s, not the lab CA", ch[len(ch)-1].Subject)
	}

	env := w.Env()
	if env.Proxy != w.Addrs().Proxy || env.DNS != w.DNSAddr() || env.HealthyDNS != o.Resolver ||
		!strings.HasPrefix(env.Server, "http://"+worldtest.OriginHost+":") || env.LabCA == nil || env.Clock == nil {
		t.Errorf("env %+v", env)
	}
}

// Lab maps the client's "lab" values to the world's own emulator ports.
func TestLabEnv(t *testing.T) {
	w := worldtest.Start(t, worldtest.Lab())
	env := w.Env()
	a := w.Addrs()
	_, hp, _ := net.SplitHostPort(a.UpstreamHTTP)
	_, sp, _ := net.SplitHostPort(a.UpstreamHTTPS)
	if env.Server != "http://wsus.lab:"+hp || env.ServerHTTPS != "https://wsus.lab:"+sp || env.Alternate != "http://content.wsus.lab:"+hp {
		t.Errorf("env %+v", env)
	}
	var d net.Dialer
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, addr := range []string{a.Proxy, a.UpstreamHTTP, a.UpstreamHTTPS} {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			t.Errorf("dial %s: %v", addr, err)
			continue
		}
		c.Close()
	}
}
