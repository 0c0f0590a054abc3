package simulate

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// armTransport is one way a client meets the world's tcp.* rules.
type armTransport struct {
	service string   // the journal's service of the client's connections
	moments []moment // the events it asks rules at, in order
	host    string   // what a row's host match names
	path    string   // what a row's path match names
	// drive opens two connections, each with two GETs of
	// /selfupdate/wuident.cab, then one connection that sends nothing.
	drive func(t *testing.T)
}

// armRow is one line of the arming table: a rule's phase (or whole
// connection) and match on a transport, and what its `when: {first: N}`
// counts there: "accept" (connections), "CONNECT", "request", or "never"
// (the rule never arms on this transport).
type armRow struct {
	transport string
	phase     string // connect … body; "whole" (tcp.latency) and "refuse" (tcp.refuse) act on the whole connection; "request/up" is request with direction up
	match     string // "", "host", "path"
	counts    string
}

// armingTable is the specification of arming.go, row by row.
var armingTable = func() []armRow {
	var rows []armRow
	add := func(transport, match string, counts map[string]string) {
		for _, ph := range []string{"connect", "proxy", "handshake", "request", "headers", "body", "whole", "refuse"} {
			rows = append(rows, armRow{transport, ph, match, counts[ph]})
		}
		// The direction does not move the moment: a rule at request with
		// direction up counts what one toward the client counts.
		rows = append(rows, armRow{transport, "request/up", match, counts["request"]})
	}
	all := func(c string) map[string]string {
		return map[string]string{"connect": c, "proxy": c, "handshake": c, "request": c, "headers": c, "body": c, "whole": c, "refuse": c}
	}
	// Plain HTTP through the proxy: only unmatched connection-wide rules
	// (whole, phase connect) arm at accept; everything else per request,
	// connect, proxy and handshake acting as the request arrives.
	add("plain", "", map[string]string{"connect": "accept", "proxy": "request", "handshake": "request",
		"request": "request", "headers": "request", "body": "request", "whole": "accept", "refuse": "accept"})
	add("plain", "host", all("request"))
	add("plain", "path", all("request"))
	// An opaque CONNECT tunnel: connection-level rules at the CONNECT, the
	// request, headers and body phases at the origin's first byte; both
	// count CONNECTs. (A path match makes the proxy intercept: see MITM.)
	add("opaque", "", map[string]string{"connect": "accept", "proxy": "CONNECT", "handshake": "CONNECT",
		"request": "CONNECT", "headers": "CONNECT", "body": "CONNECT", "whole": "accept", "refuse": "accept"})
	add("opaque", "host", all("CONNECT"))
	// A tunnel the MITM terminates: connection-level rules at the CONNECT,
	// request, headers and body per request inside.
	add("mitm", "", map[string]string{"connect": "accept", "proxy": "CONNECT", "handshake": "CONNECT",
		"request": "request", "headers": "request", "body": "request", "whole": "accept", "refuse": "accept"})
	add("mitm", "host", map[string]string{"connect": "CONNECT", "proxy": "CONNECT", "handshake": "CONNECT",
		"request": "request", "headers": "request", "body": "request", "whole": "CONNECT", "refuse": "CONNECT"})
	// A path (or class) match cannot match a CONNECT: connection-level
	// rules with one act as the request arrives, as on plain HTTP.
	add("mitm", "path", all("request"))
	// The upstream ports: as plain HTTP, without the proxy phase.
	for _, tr := range []string{"upstream-http", "upstream-https"} {
		add(tr, "", map[string]string{"connect": "accept", "proxy": "never", "handshake": "request",
			"request": "request", "headers": "request", "body": "request", "whole": "accept", "refuse": "accept"})
		m := all("request")
		m["proxy"] = "never"
		add(tr, "host", m)
		add(tr, "path", m)
	}
	return rows
}()

// label is what a moment counts.
func (m moment) label() string {
	switch m {
	case momentAccept:
		return "accept"
	case momentConnect, momentTunnel:
		return "CONNECT"
	}
	return "request"
}

// TestArmingTable is the table of when the tcp.* rules arm: per transport,
// phase and match, the event that counts for `when` (here `first: 1`, so
// exactly one firing), checked on real sockets through the proxy (plain,
// opaque tunnel, MITM) and the upstream ports, and against asks.
func TestArmingTable(t *testing.T) {
	w := testWorld(t, Options{Proxy: "127.0.0.1:0", UpstreamHTTP: "127.0.0.1:0", UpstreamHTTPS: "127.0.0.1:0",
		StateDir: t.TempDir(), InterceptHosts: []string{"wsus.lab"}, MaxStall: 5 * time.Second})
	ca, err := w.LabCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	transports := armTransports(w, roots)

	for _, row := range armingTable {
		tr := transports[row.transport]
		name := fmt.Sprintf("%s/%s/match=%s", row.transport, row.phase, row.match)
		t.Run(name, func(t *testing.T) {
			var m faults.Match
			switch row.match {
			case "host":
				m.Host = tr.host
			case "path":
				m.Path = tr.path
			}
			sp := armSpec(t, row.phase, m)

			// The arming function says the same as the sockets.
			r := faults.NewSet([]faults.Spec{sp}, 1, nil).Rules()[0]
			var asked []string
			for _, mo := range tr.moments {
				if mo.keep(r) {
					asked = append(asked, mo.label())
				}
			}
			if row.counts != "never" && !strings.Contains(strings.Join(asked, " "), row.counts) {
				t.Errorf("asks: the moments of %s asking the rule count %v, want %s", row.transport, asked, row.counts)
			}

			activate(t, w, sp)
			since := w.journal.lastSeq()
			tr.drive(t)
			rule := w.Active().Set.Rules()[0]
			var got observed
			ok := eventually(3*time.Second, func() bool {
				got = observe(w, since, tr.service, rule)
				return got.settled(row.counts, !strings.HasSuffix(row.phase, "/up"))
			})
			if !ok {
				t.Fatalf("%s: %+v", row.counts, got)
			}
		})
	}
}

// armSpec is a rule of phase (or whole) with `when: {first: 1}`. Phases
// use a stall of 1ms (it acts and lets the exchange go on), whole a
// latency of 1ms.
func armSpec(t *testing.T, phase string, m faults.Match) faults.Spec {
	t.Helper()
	when := faults.When{First: 1}
	switch phase {
	case "whole":
		return spec("tcp.latency", &faults.TCPLatency{Latency: profile.Duration(time.Millisecond)}, m, when)
	case "refuse":
		return spec("tcp.refuse", &faults.TCPRefuse{}, m, when)
	}
	f := &faults.TCPStall{Duration: profile.Duration(time.Millisecond)}
	p, dir, _ := strings.Cut(phase, "/")
	f.At, f.Direction = profile.Phase(p), faults.Direction(dir)
	return spec("tcp.stall", f, m, when)
}

// observed is what the journal and the rule's counters say after a
// transport's drive.
type observed struct {
	Matched, Fired         int64
	Accepts, Connects, Req int    // journaled events of each kind on the service
	ArmedAt                string // the counted event of the one arming: accept, CONNECT, request
	Armed, Acted           int
}

func observe(w *World, since uint64, service string, rule *faults.Rule) observed {
	h := rule.Hits()
	o := observed{Matched: h.Matched, Fired: h.Fired}
	method := map[uint64]string{}
	for _, e := range w.Journal().Events(since, nil) {
		if e.Service != service {
			continue
		}
		switch e.Kind {
		case EventConnOpen:
			o.Accepts++
		case EventRequest:
			method[e.Req] = e.Method
			if e.Method == http.MethodConnect {
				o.Connects++
			} else {
				o.Req++
			}
		}
	}
	for _, e := range w.Journal().Events(since, nil) {
		if e.Fault != rule.Kind {
			continue
		}
		switch e.Kind {
		case EventArmed:
			o.Armed++
			switch {
			case e.Req == 0:
				o.ArmedAt = "accept"
			case method[e.Req] == http.MethodConnect:
				o.ArmedAt = "CONNECT"
			default:
				o.ArmedAt = "request"
			}
		case EventFault:
			o.Acted++
		}
	}
	return o
}

// settled reports whether o shows a rule that counts what counts says:
// every such event of the drive counted (and no other), one firing, armed
// at such an event, and (when acts) acting. An up rule armed at a GET, which
// has no body, acts on the next bytes the client sends on the connection,
// if it sends any: the drive does not make sure of it.
func (o observed) settled(counts string, acts bool) bool {
	// The drive makes three connections at least, and two CONNECTs or
	// three requests that reached the world (a refused connection carries
	// none): the counts tell them apart.
	if o.Accepts < 3 || o.Connects < 2 && o.Req < 3 {
		return false
	}
	switch counts {
	case "never":
		return o.Matched == 0 && o.Fired == 0 && o.Armed == 0
	case "accept":
		if o.Matched != int64(o.Accepts) {
			return false
		}
	case "CONNECT":
		if o.Connects < 2 || o.Matched != int64(o.Connects) {
			return false
		}
	case "request":
		if o.Matched != int64(o.Req) {
			return false
		}
	default:
		return false
	}
	return o.Fired == 1 && o.Armed == 1 && o.ArmedAt == counts && (o.Acted >= 1 || !acts)
}

// armTransports are the four ways in (the upstream port twice: HTTP and
// HTTPS), each with its client.
func armTransports(w *World, roots *x509.CertPool) map[string]armTransport {
	proxy := &url.URL{Scheme: "http", Host: w.Addrs().Proxy}
	get := func(t *testing.T, service, dial string, mk func() *http.Transport, u string) {
		t.Helper()
		for range 2 {
			tr := mk()
			c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
			for range 2 {
				if resp, err := c.Get(u); err == nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
			tr.CloseIdleConnections()
		}
		since := w.journal.lastSeq()
		c, err := net.Dial("tcp", dial)
		if err != nil {
			t.Fatal(err)
		}
		me := c.LocalAddr().String()
		c.Close()
		// Its accept is journaled before the next row's rule can count it.
		waitFor(t, func() bool {
			return len(w.Journal().Events(since, func(e Event) bool {
				return e.Kind == EventConnOpen && e.Service == service && e.Client == me
			})) == 1
		})
	}
	viaProxy := func() *http.Transport {
		return &http.Transport{Proxy: http.ProxyURL(proxy), TLSClientConfig: &tls.Config{RootCAs: roots}, DisableCompression: true}
	}
	direct := func() *http.Transport {
		return &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "wsus.lab"}, DisableCompression: true}
	}
	const path = "/selfupdate/wuident.cab"
	up, ups := w.Addrs().UpstreamHTTP, w.Addrs().UpstreamHTTPS
	return map[string]armTransport{
		"plain": {service: "proxy", moments: []moment{momentAccept, momentPlain}, host: "wsus.lab", path: "/selfupdate/*",
			drive: func(t *testing.T) { get(t, "proxy", proxy.Host, viaProxy, "http://wsus.lab"+path) }},
		"opaque": {service: "proxy", moments: []moment{momentAccept, momentConnect, momentTunnel}, host: "opaque.lab",
			drive: func(t *testing.T) { get(t, "proxy", proxy.Host, viaProxy, "https://opaque.lab"+path) }},
		"mitm": {service: "proxy", moments: []moment{momentAccept, momentConnect, momentInner}, host: "wsus.lab", path: "/selfupdate/*",
			drive: func(t *testing.T) { get(t, "proxy", proxy.Host, viaProxy, "https://wsus.lab"+path) }},
		"upstream-http": {service: "upstream-http", moments: []moment{momentAccept, momentOrigin}, host: "127.0.0.1", path: "/selfupdate/*",
			drive: func(t *testing.T) { get(t, "upstream-http", up, direct, "http://"+up+path) }},
		"upstream-https": {service: "upstream-https", moments: []moment{momentAccept, momentOrigin}, host: "127.0.0.1", path: "/selfupdate/*",
			drive: func(t *testing.T) { get(t, "upstream-https", ups, direct, "https://"+ups+path) }},
	}
}
