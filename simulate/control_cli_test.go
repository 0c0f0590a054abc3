package simulate

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/faults"
)

// An unknown ?event or ?fault is a 400 naming the kinds, not an empty list.
func TestJournalUnknownFilter(t *testing.T) {
	_, api := controlWorld(t, Options{})
	for _, q := range []string{"event=bogus", "fault=tcp.rest"} {
		code, b := call(t, "GET", api+"/journal?"+q, "", "")
		if code != 400 || !strings.Contains(string(b), "unknown kind") {
			t.Errorf("?%s: %d %s", q, code, b)
		}
	}
	if code, b := call(t, "GET", api+"/journal?event=scenario&fault=tcp.reset", "", ""); code != 200 {
		t.Errorf("known kinds: %d %s", code, b)
	}
}

// EventKinds names every Event* constant of journal.go.
func TestEventKindsComplete(t *testing.T) {
	b, err := os.ReadFile("journal.go")
	if err != nil {
		t.Fatal(err)
	}
	consts := regexp.MustCompile(`(?m)^\s*Event[A-Za-z]+\s*=\s*"([^"]+)"`).FindAllSubmatch(b, -1)
	if len(consts) < 10 {
		t.Fatalf("found %d constants", len(consts))
	}
	for _, m := range consts {
		if !slices.Contains(EventKinds, string(m[1])) {
			t.Errorf("EventKinds lacks %q", m[1])
		}
	}
}

// metricValue returns the value of the series line that starts with name
// in /metrics, and whether it was there.
func metricValue(t *testing.T, api, series string) (string, bool) {
	t.Helper()
	code, b := call(t, "GET", api+"/metrics", "", "")
	if code != 200 {
		t.Fatalf("/metrics: %d", code)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			return v, true
		}
	}
	return "", false
}

// A scenario given at start counts as an activation, and DNS questions
// show in /metrics by transport and rcode.
func TestMetricsActivationsAndDNS(t *testing.T) {
	w, addr := dnsWorld(t, Options{Control: "127.0.0.1:0"}, "", nil)
	api := "http://" + w.Addrs().Control
	w.Activate("start-scenario", 1, []faults.Spec{spec("dns.nxdomain", &faults.NXDomain{}, faults.Match{}, faults.When{})})
	if v, ok := metricValue(t, api, "wufault_scenario_activations_total"); !ok || v != "1" {
		t.Errorf("activations after Activate: %q %v, want 1", v, ok)
	}
	for range 3 {
		if m := mustAsk(t, "udp", addr, "fe2.update.microsoft.com.", dns.TypeA); m.Rcode != dns.RcodeNameError {
			t.Fatalf("rcode %s", dns.RcodeToString[m.Rcode])
		}
	}
	mustAsk(t, "tcp", addr, "fe2.update.microsoft.com.", dns.TypeA)
	waitFor(t, func() bool {
		v, _ := metricValue(t, api, `wufault_dns_queries_total{rcode="NXDOMAIN",transport="udp"}`)
		return v == "3"
	})
	if v, ok := metricValue(t, api, `wufault_dns_queries_total{rcode="NXDOMAIN",transport="tcp"}`); !ok || v != "1" {
		t.Errorf("tcp series %q %v", v, ok)
	}
}

// After DELETE /scenario, a tunnel the origin closes normally is journaled
// without blaming a fault for the FIN the proxy relays.
func TestConnectNormalCloseNotAFault(t *testing.T) {
	w, api := controlWorld(t, Options{})
	if code, b := call(t, "PUT", api+"/scenario", "", "name: x\nfaults:\n  - kind: http.status\n    status: 503\n"); code != 200 {
		t.Fatalf("PUT: %d %s", code, b)
	}
	if code, b := call(t, "DELETE", api+"/scenario", "", ""); code != 200 {
		t.Fatalf("DELETE: %d %s", code, b)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err == nil {
			io.WriteString(c, "hello")
			c.Close()
		}
	}()
	c := rawProxyConn(t, w)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", l.Addr(), l.Addr())
	br := bufio.NewReader(c)
	status, err := br.ReadString('\n')
	if err != nil || !strings.Contains(status, " 200 ") {
		t.Fatalf("CONNECT: %q %v", status, err)
	}
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			break
		}
	}
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "hello" {
		t.Fatalf("tunnel gave %q %v", rest, err)
	}
	c.Close()
	var closes []Event
	waitFor(t, func() bool {
		closes = w.Journal().Events(0, func(e Event) bool { return e.Kind == EventConnClose && e.Service == "proxy" })
		return len(closes) > 0
	})
	for _, e := range closes {
		if strings.Contains(e.Detail, "fault") {
			t.Errorf("normal close journaled as %q", e.Detail)
		}
	}
}
