package simulate

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/faults"
)

// fleetScenario is a scenario of one client: every transport gets a fault
// whose answer tells the two clients apart.
func fleetScenario(name string, httpStatus, denyStatus int, dnsKind, certProfile string) string {
	return fmt.Sprintf(`name: %s
faults:
  - kind: %s
    match: {host: wsus.lab}
  - kind: http.status
    match: {path: /a}
    status: %d
  - kind: proxy.deny_connect
    match: {host: deny.lab}
    status: %d
  - kind: tls.cert
    match: {host: cert.lab}
    profile: %s
`, name, dnsKind, httpStatus, denyStatus, certProfile)
}

// sourceClient is what one loopback source address uses: a DNS client
// and an HTTP client through the proxy that trusts the lab CA, both bound
// to that address.
type sourceClient struct {
	ip   string
	dns  *dns.Client
	http *http.Client
}

func newSourceClient(t *testing.T, w *World, ip string, roots *x509.CertPool) *sourceClient {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	pu := &url.URL{Scheme: "http", Host: w.Addrs().Proxy}
	tr := &http.Transport{Proxy: http.ProxyURL(pu), DialContext: d.DialContext, TLSClientConfig: &tls.Config{RootCAs: roots}, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &sourceClient{
		ip:   ip,
		dns:  &dns.Client{Timeout: 5 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}},
		http: &http.Client{Transport: tr, Timeout: 10 * time.Second},
	}
}

// observe runs each transport once and says what the client saw.
func (c *sourceClient) observe(w *World) (map[string]string, error) {
	got := map[string]string{}
	m := new(dns.Msg)
	m.SetQuestion("wsus.lab.", dns.TypeA)
	r, _, err := c.dns.Exchange(m, w.Addrs().DNS)
	if err != nil {
		return nil, fmt.Errorf("dns: %w", err)
	}
	got["dns"] = dns.RcodeToString[r.Rcode]
	for name, u := range map[string]string{"http": "http://wsus.lab/a", "mitm": "https://wsus.lab/a"} {
		resp, err := c.http.Get(u)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		resp.Body.Close()
		got[name] = resp.Status[:3]
	}
	_, err = c.http.Get("https://deny.lab/")
	got["connect"] = fmt.Sprint(err)
	_, err = c.http.Get("https://cert.lab/")
	var ce x509.CertificateInvalidError
	var he x509.HostnameError
	switch {
	case errors.As(err, &ce) && ce.Reason == x509.Expired:
		got["tls"] = "expired"
	case errors.As(err, &he):
		got["tls"] = "wrong-host"
	default:
		got["tls"] = fmt.Sprint(err)
	}
	return got, nil
}

// TestFleetClientsMeetTheirOwnScenario has 127.0.0.2 and 127.0.0.3 use one
// world at the same time, each assigned its own scenario through the
// control API: over DNS, plain HTTP through the proxy, CONNECT and MITM
// TLS, each gets its own faults; 127.0.0.1 meets the default (none).
func TestFleetClientsMeetTheirOwnScenario(t *testing.T) {
	w := testWorld(t, Options{Proxy: "127.0.0.1:0", DNS: "127.0.0.1:0", UpstreamHTTP: "127.0.0.1:0", UpstreamHTTPS: "127.0.0.1:0", Control: "127.0.0.1:0"})
	api := "http://" + w.Addrs().Control
	for _, a := range []struct{ cidr, body string }{
		{"127.0.0.2", fleetScenario("two", 503, 403, "dns.nxdomain", "expired")},
		{url.PathEscape("127.0.0.3/32"), fleetScenario("three", 502, 405, "dns.servfail", "wrong-host")},
	} {
		if code, b := call(t, "PUT", api+"/clients/"+a.cidr+"/scenario", "", a.body); code != 200 {
			t.Fatalf("PUT /clients/%s/scenario: %d %s", a.cidr, code, b)
		}
	}
	ca, err := w.LabCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	want := map[string]map[string]string{
		"127.0.0.2": {"dns": "NXDOMAIN", "http": "503", "mitm": "503", "tls": "expired"},
		"127.0.0.3": {"dns": "SERVFAIL", "http": "502", "mitm": "502", "tls": "wrong-host"},
		"127.0.0.1": {"dns": "NOERROR", "http": "404", "mitm": "404"}, // the emulator has no /a
	}
	wantConnect := map[string]string{"127.0.0.2": "Forbidden", "127.0.0.3": "Method Not Allowed"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for ip := range want {
		c := newSourceClient(t, w, ip, roots)
		for range 3 {
			wg.Go(func() {
				got, err := c.observe(w)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("%s: %v", ip, err)
					return
				}
				for k, v := range want[ip] {
					if got[k] != v {
						t.Errorf("%s %s: got %s, want %s", ip, k, got[k], v)
					}
				}
				if wc := wantConnect[ip]; wc != "" && !strings.Contains(got["connect"], wc) {
					t.Errorf("%s CONNECT: %s, want %s", ip, got["connect"], wc)
				}
			})
		}
	}
	wg.Wait()

	// The journal names each firing's client and scenario.
	for ip, sc := range map[string]string{"127.0.0.2": "two", "127.0.0.3": "three"} {
		kinds := map[string]bool{}
		for _, e := range w.Journal().Events(0, func(e Event) bool { return e.Kind == EventFault && strings.HasPrefix(e.Client, ip+":") }) {
			if e.Scenario != sc {
				t.Errorf("%s firing of %s journaled with scenario %q", ip, e.Fault, e.Scenario)
			}
			kinds[e.Fault] = true
		}
		if len(kinds) != 4 {
			t.Errorf("%s: firings of %v, want all four kinds", ip, kinds)
		}
	}
	if n := len(w.Journal().Events(0, func(e Event) bool { return e.Kind == EventFault && strings.HasPrefix(e.Client, "127.0.0.1:") })); n != 0 {
		t.Errorf("%d firings for the default client", n)
	}

	// GET /clients: both assignments, most specific first, each with its
	// address and its firings; /metrics per client.
	code, b := call(t, "GET", api+"/clients", "", "")
	var views []struct {
		Client    string
		Scenario  struct{ Faults []struct{ Hits faults.Hits } }
		Addresses []ClientAddr
	}
	if err := json.Unmarshal(b, &views); code != 200 || err != nil || len(views) != 3 {
		t.Fatalf("GET /clients: %d %v %s", code, err, b)
	}
	if views[0].Client != "127.0.0.2/32" || views[1].Client != "127.0.0.3/32" || views[2].Client != "default" ||
		len(views[0].Addresses) != 1 || views[0].Addresses[0].Address != "127.0.0.2" || views[0].Scenario.Faults[1].Hits.Fired != 6 {
		t.Errorf("GET /clients: %s", b)
	}
	_, metrics := call(t, "GET", api+"/metrics", "", "")
	if !strings.Contains(string(metrics), `wufault_client_faults_fired_total{client="127.0.0.3",scenario="three"}`) {
		t.Errorf("no per-client firings in /metrics")
	}
}

// TestFleetBadInput: a malformed network or an unknown scenario is a 400
// naming it and changes nothing; removing an assignment returns its
// clients to the default.
func TestFleetBadInput(t *testing.T) {
	w, api := controlWorld(t, Options{})
	if code, b := call(t, "PUT", api+"/clients/127.0.0.2/scenario?name=http-status-503-scan", "", ""); code != 200 {
		t.Fatalf("assign: %d %s", code, b)
	}
	_, before := call(t, "GET", api+"/clients", "", "")
	for _, c := range []struct{ path, body, want string }{
		{"/clients/300.1.1.1/scenario?name=http-status-503-scan", "", `client \"300.1.1.1\": want an IP address or a CIDR`},
		{"/clients/" + url.PathEscape("127.0.0.1/8") + "/scenario?name=http-status-503-scan", "", "host bits set (did you mean 127.0.0.0/8?)"},
		{"/clients/127.0.0.2/scenario?name=no-such-scenario", "", `no catalog scenario named \"no-such-scenario\"`},
		{"/clients/127.0.0.2/scenario", "name: x\nfaults:\n  - kind: tcp.nope\n", "invalid scenario"},
	} {
		code, b := call(t, "PUT", api+c.path, "", c.body)
		if code != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("PUT %s: %d %s, want 400 with %q", c.path, code, b, c.want)
		}
	}
	if _, after := call(t, "GET", api+"/clients", "", ""); string(after) != string(before) {
		t.Errorf("a refused request changed the assignments:\n%s\n%s", before, after)
	}
	if code, _ := call(t, "DELETE", api+"/clients/127.0.0.9", "", ""); code != http.StatusNotFound {
		t.Errorf("DELETE of no assignment: %d", code)
	}
	if code, _ := call(t, "DELETE", api+"/clients/127.0.0.2", "", ""); code != 200 {
		t.Errorf("DELETE: %d", code)
	}
	if a := w.ActiveFor(netip.MustParseAddr("127.0.0.2")); a.Name != "" || a.Client != "" {
		t.Errorf("after DELETE 127.0.0.2 meets %q of %q", a.Name, a.Client)
	}
}

// TestFleetMostSpecificWins: overlapping networks resolve to the longest
// prefix, and each client address counts its own `when`.
func TestFleetMostSpecificWins(t *testing.T) {
	w := testWorld(t, Options{})
	first := []faults.Spec{{Kind: "http.status", When: faults.When{First: 1}, Fault: &faults.HTTPStatus{Status: 503}}}
	w.Assign(netip.MustParsePrefix("10.0.0.0/8"), "wide", 1, first)
	w.Assign(netip.MustParsePrefix("10.1.0.0/16"), "narrow", 1, nil)
	w.Assign(netip.MustParsePrefix("10.1.2.3/32"), "one", 1, nil)
	for ip, want := range map[string]string{"10.1.2.3": "one", "10.1.2.4": "narrow", "10.2.0.1": "wide", "192.0.2.1": ""} {
		if got := w.ActiveFor(netip.MustParseAddr(ip)).Name; got != want {
			t.Errorf("%s meets %q, want %q", ip, got, want)
		}
	}
	target := faults.Target{Host: "h", Path: "/"}
	for _, ip := range []string{"10.2.0.1", "10.3.0.1"} {
		a := w.ActiveFor(netip.MustParseAddr(ip))
		if n := len(a.Set.Select("http", target)); n != 1 {
			t.Errorf("%s: first event fired %d rules, want its own first: 1", ip, n)
		}
		if n := len(w.ActiveFor(netip.MustParseAddr(ip)).Set.Select("http", target)); n != 0 {
			t.Errorf("%s: second event fired %d rules", ip, n)
		}
	}
}
