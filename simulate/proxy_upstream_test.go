package simulate

import (
	"bufio"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
)

// Names the world's own DNS answers are what the proxy dials: a dns.answer
// rule sends origin.test to the loopback origin.
func TestProxyResolvesThroughWorldDNS(t *testing.T) {
	o := origin(t, false)
	w := proxyWorld(t, Options{DNS: "127.0.0.1:0", Logger: testLogger(t)})
	activate(t, w, spec("dns.answer", &faults.DNSAnswer{Address: "127.0.0.1"}, faults.Match{Host: "origin.test"}, faults.When{}))
	_, port, _ := strings.Cut(strings.TrimPrefix(o.URL, "http://"), ":")
	resp, err := client(t, w, nil, 5*time.Second).Get("http://origin.test:" + port + "/echo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "GET /echo") {
		t.Fatalf("%s %q", resp.Status, b)
	}
	if n := len(w.Journal().Events(0, func(e Event) bool { return e.Kind == EventDNSQuery })); n == 0 {
		t.Error("the proxy's lookup did not reach the world's DNS")
	}
	// A name the world's DNS cannot answer is a 502 naming the lookup.
	resp, err = client(t, w, nil, 5*time.Second).Get("http://nothing.invalid/x")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "cannot resolve") {
		t.Errorf("unresolvable name: %s %q", resp.Status, b)
	}
}

// Lab-zone hosts go to the embedded upstream emulator's listener.
func TestProxyRoutesLabZoneToEmulator(t *testing.T) {
	emu := origin(t, false)
	w := proxyWorld(t, Options{})
	w.mu.Lock()
	w.services["upstream-http"] = stubService{addr: strings.TrimPrefix(emu.URL, "http://")}
	w.mu.Unlock()
	resp, err := client(t, w, nil, 5*time.Second).Get("http://download.windowsupdate.com/echo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(string(b), "GET /echo") {
		t.Errorf("%s %q", resp.Status, b)
	}
	// CONNECT to a lab host on port 80 goes to the same listener.
	tun := dialTunnel(t, w, "fe2.update.microsoft.com:80")
	req, _ := http.NewRequest(http.MethodGet, "http://fe2.update.microsoft.com/echo", nil)
	if resp, body, err := tun.do(req); err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(body), "GET /echo") {
		t.Errorf("tunnel to the emulator: %v %q %v", resp, body, err)
	}
}

// With a parent proxy, plain requests and tunnels go through it; a parent
// refusing a CONNECT becomes a 502 that names it.
func TestProxyParent(t *testing.T) {
	o := origin(t, false)
	so := origin(t, true)
	parent := proxyWorld(t, Options{})
	pu := &url.URL{Scheme: "http", Host: parent.Addrs().Proxy}
	w := proxyWorld(t, Options{ParentProxy: pu})
	c := client(t, w, so, 5*time.Second)
	for _, u := range []string{o.URL + "/echo", so.URL + "/echo"} {
		resp, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %s", u, resp.Status)
		}
	}
	var plain, connect int
	for _, e := range parent.Journal().Events(0, func(e Event) bool { return e.Kind == EventRequest }) {
		if e.Method == http.MethodConnect {
			connect++
		} else {
			plain++
		}
	}
	if plain != 1 || connect != 1 {
		t.Errorf("the parent saw %d plain requests and %d CONNECTs, want 1 and 1", plain, connect)
	}
	activate(t, parent, spec("proxy.deny_connect", &faults.ProxyDenyConnect{}, faults.Match{}, faults.When{}))
	raw := rawProxyConn(t, w)
	host := strings.TrimPrefix(so.URL, "https://")
	_, _ = io.WriteString(raw, "CONNECT "+host+" HTTP/1.1\r\nHost: "+host+"\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(raw), &http.Request{Method: http.MethodConnect})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(b), "answered 403") {
		t.Errorf("refused by the parent: %s %q", resp.Status, b)
	}
}
