package simulate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
)

// viaProxy sends one plain request for target through the world's proxy.
func viaProxy(t *testing.T, w *World, method, target string) (int, string) {
	t.Helper()
	pu, _ := url.Parse("http://" + w.Addrs().Proxy)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, Timeout: 10 * time.Second}
	defer c.CloseIdleConnections()
	req, _ := http.NewRequest(method, target, nil)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// connectVia sends CONNECT hostport on a raw connection to the proxy and
// returns the answer's status.
func connectVia(t *testing.T, w *World, hostport string) int {
	t.Helper()
	c := rawProxyConn(t, w)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hostport, hostport)
	resp, err := http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatalf("CONNECT %s: %v", hostport, err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// refusedEvents are the journal's proxy requests refused by the policy.
func refusedEvents(w *World) []Event {
	return w.journal.Events(0, func(e Event) bool { return strings.HasPrefix(e.Detail, "refused: ") })
}

// TestProxyRefusesOwnListeners: a client of the proxy cannot reach the
// control API (DELETE /scenario answered 200 through the proxy), the DNS
// server, the upstream ports or the proxy itself, even with loopback
// allowed upstream.
func TestProxyRefusesOwnListeners(t *testing.T) {
	w := proxyWorld(t, Options{Control: "127.0.0.1:0", DNS: "127.0.0.1:0", UpstreamHTTP: "127.0.0.1:0"})
	activate(t, w, spec("dns.drop", &faults.DNSDrop{}, faults.Match{Host: "nowhere.test"}, faults.When{}))
	before := w.Active()
	a := w.Addrs()
	code, body := viaProxy(t, w, http.MethodDelete, "http://"+a.Control+"/scenario")
	if code != http.StatusForbidden || !strings.Contains(body, "own control") {
		t.Fatalf("DELETE /scenario through the proxy: %d %.200s", code, body)
	}
	if w.Active() != before {
		t.Fatal("the scenario was changed through the proxy")
	}
	for name, addr := range map[string]string{"control": a.Control, "dns": a.DNS, "upstream-http": a.UpstreamHTTP, "proxy": a.Proxy} {
		if code, _ := viaProxy(t, w, http.MethodGet, "http://"+addr+"/"); code != http.StatusForbidden {
			t.Errorf("GET %s (%s) through the proxy: %d", addr, name, code)
		}
		if code := connectVia(t, w, addr); code != http.StatusForbidden {
			t.Errorf("CONNECT %s (%s): %d", addr, name, code)
		}
	}
	if n := len(refusedEvents(w)); n != 9 {
		t.Errorf("%d refusals in the journal, want 9", n)
	}
	if got := counter(t, w, "wufault_refused_destinations_total"); got != 9 {
		t.Errorf("wufault_refused_destinations_total = %v, want 9", got)
	}
}

// TestProxyRefusesLoopbackByDefault: an unrelated local service is out of
// reach (CONNECT 127.0.0.1:2024 answered 200), by address, by a localhost
// name and by a name that resolves to loopback; --allow-upstream and
// the scenario's own addresses open it.
func TestProxyRefusesLoopbackByDefault(t *testing.T) {
	o := origin(t, false)
	res := startFakeResolver(t)
	w := proxyWorld(t, Options{AllowUpstream: []netip.Prefix{}, Resolvers: []string{res.addr}})
	host := strings.TrimPrefix(o.URL, "http://")
	_, port, _ := net.SplitHostPort(host)
	for _, target := range []string{host, "localhost:" + port, "loopback.example.test:" + port, "169.254.1.1:80", "[::1]:" + port, "0.0.0.0:" + port} {
		if code, body := viaProxy(t, w, http.MethodGet, "http://"+target+"/echo"); code != http.StatusForbidden || !strings.Contains(body, "--allow-upstream") {
			t.Errorf("GET %s: %d %.200s", target, code, body)
		}
		if code := connectVia(t, w, target); code != http.StatusForbidden {
			t.Errorf("CONNECT %s: %d", target, code)
		}
	}
	if n := len(refusedEvents(w)); n != 12 {
		t.Errorf("%d refusals in the journal, want 12", n)
	}
	// The scenario names 127.0.0.1 (a dns.answer): the lab needs it.
	activate(t, w, spec("dns.answer", &faults.DNSAnswer{Address: "127.0.0.1"}, faults.Match{Host: "wsus.corp.test"}, faults.When{}))
	if code, body := viaProxy(t, w, http.MethodGet, o.URL+"/echo"); code != http.StatusOK {
		t.Errorf("GET %s with the scenario naming it: %d %.200s", o.URL, code, body)
	}

	w2 := proxyWorld(t, Options{AllowUpstream: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if code, body := viaProxy(t, w2, http.MethodGet, o.URL+"/echo"); code != http.StatusOK {
		t.Errorf("GET %s with --allow-upstream 127.0.0.0/8: %d %.200s", o.URL, code, body)
	}
	if code := connectVia(t, w2, host); code != http.StatusOK {
		t.Errorf("CONNECT %s with --allow-upstream 127.0.0.0/8: %d", host, code)
	}
}

// TestOpenNetworksNeedConsent: a proxy serving a non-loopback network
// needs a control token even with the control API on loopback, and an
// allow-list wider than a /8 needs AllowOpenCIDR.
func TestOpenNetworksNeedConsent(t *testing.T) {
	ten := []netip.Prefix{netip.MustParsePrefix("10.9.0.0/16")}
	_, err := New(context.Background(), Options{Proxy: "0.0.0.0:0", Control: "127.0.0.1:0", AllowCIDRs: ten})
	if err == nil || !strings.Contains(err.Error(), "control token") {
		t.Errorf("proxy on 0.0.0.0 with an open control API: %v", err)
	}
	w := testWorld(t, Options{Proxy: "0.0.0.0:0", Control: "127.0.0.1:0", AllowCIDRs: ten, ControlToken: "s3cret"})
	if code, _ := call(t, "DELETE", "http://"+w.Addrs().Control+"/scenario", "", ""); code != http.StatusUnauthorized {
		t.Errorf("control without the token: %d", code)
	}
	for _, c := range []string{"0.0.0.0/0", "10.0.0.0/7", "::/0"} {
		o := Options{Proxy: "127.0.0.1:0", AllowCIDRs: []netip.Prefix{netip.MustParsePrefix(c)}}
		if _, err := New(context.Background(), o); err == nil || !strings.Contains(err.Error(), "--allow-open-cidr") {
			t.Errorf("--allow-cidr %s: %v", c, err)
		}
		o.AllowOpenCIDR = true
		testWorld(t, o)
	}
}

// counter reads a counter of the world's registry, summed over labels.
func counter(t *testing.T, w *World, name string) float64 {
	t.Helper()
	mfs, err := w.metrics.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() == name {
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
		}
	}
	return sum
}
