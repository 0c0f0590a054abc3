package faults

import (
	"bufio"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults/ntlm"
)

// authProxy serves a ProxyAuth in front of a stand-in for the forward
// proxy on 127.0.0.1:0, as the world does: every connection gets an id
// through ConnContext, every request a reporter. It counts accepted
// connections and requests that got through.
type authProxy struct {
	addr     string
	accepted atomic.Int64
	passed   atomic.Int64
	mu       sync.Mutex
	events   []AuthEvent
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// startAuthProxy starts the proxy; withConnID false leaves connection ids
// out of the context (the hook then keys state by client address).
func startAuthProxy(t *testing.T, f *ProxyAuth, withConnID bool) *authProxy {
	t.Helper()
	if err := f.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &authProxy{addr: ln.Addr().String()}
	var ids atomic.Uint64
	next := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.passed.Add(1)
		if r.Header.Get("Proxy-Authorization") != "" {
			t.Error("Proxy-Authorization reached the next handler")
		}
		if r.Method != http.MethodConnect {
			w.Header().Set("Content-Type", "text/plain")
			_, _ = io.WriteString(w, "ok "+r.URL.String())
			return
		}
		// A tunnel to a tiny origin: answer one request inside, then close.
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		_, _ = rw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
		_ = rw.Flush()
		_ = c.SetDeadline(time.Now().Add(5 * time.Second))
		if req, err := http.ReadRequest(rw.Reader); err == nil {
			_, _ = fmt.Fprintf(rw, "HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\ntunnel")
			_ = rw.Flush()
			_ = req.Body.Close()
		}
	})
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			r = r.WithContext(WithAuthReporter(r.Context(), p.record))
			f.ServeProxy(w, r, next)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	if withConnID {
		srv.ConnContext = func(ctx context.Context, _ net.Conn) context.Context { return WithConnID(ctx, ids.Add(1)) }
	}
	go func() { _ = srv.Serve(countingListener{ln, &p.accepted}) }()
	t.Cleanup(func() { _ = srv.Close() })
	return p
}

func (p *authProxy) record(e AuthEvent) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.events = append(p.events, e)
}

// legs returns the recorded events as "scheme leg outcome" strings.
func (p *authProxy) legs() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, e := range p.events {
		out = append(out, strings.TrimSpace(e.Scheme+" "+e.Leg+" "+e.Outcome))
	}
	return out
}

func (p *authProxy) lastEvent() AuthEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.events[len(p.events)-1]
}

// rawClient speaks HTTP/1.1 to the proxy over one kept-alive connection.
type rawClient struct {
	t  *testing.T
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawClient {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawClient{t: t, c: c, br: bufio.NewReader(c)}
}

// do sends one request (CONNECT when target has no scheme) with an
// optional Proxy-Authorization and returns the response, body read.
func (rc *rawClient) do(target, auth string) *http.Response {
	rc.t.Helper()
	method, uri, host := "GET", target, strings.TrimPrefix(target, "http://")
	if !strings.HasPrefix(target, "http://") {
		method, uri = "CONNECT", target
	}
	host, _, _ = strings.Cut(host, "/")
	req := method + " " + uri + " HTTP/1.1\r\nHost: " + host + "\r\n"
	if auth != "" {
		req += "Proxy-Authorization: " + auth + "\r\n"
	}
	if _, err := io.WriteString(rc.c, req+"\r\n"); err != nil {
		rc.t.Fatal(err)
	}
	resp, err := http.ReadResponse(rc.br, &http.Request{Method: method})
	if err != nil {
		rc.t.Fatalf("%s %s: %v", method, target, err)
	}
	if method != "CONNECT" || resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	return resp
}

// token returns the base64 token of the Proxy-Authenticate line for scheme.
func token(t *testing.T, resp *http.Response, scheme string) []byte {
	t.Helper()
	for _, v := range resp.Header.Values("Proxy-Authenticate") {
		if s, tok, ok := strings.Cut(v, " "); ok && strings.EqualFold(s, scheme) {
			b, err := base64.StdEncoding.DecodeString(tok)
			if err != nil {
				t.Fatalf("token %q: %v", v, err)
			}
			return b
		}
	}
	t.Fatalf("no %s token in %q", scheme, resp.Header.Values("Proxy-Authenticate"))
	return nil
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func basicAuth(user, pass string) string { return "Basic " + b64([]byte(user+":"+pass)) }

// ntlmLegs runs NEGOTIATE and AUTHENTICATE with go-ntlmssp on rc and
// returns the second response.
func ntlmLegs(t *testing.T, rc *rawClient, target, user, pass string) (*http.Response, *http.Response) {
	t.Helper()
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	r1 := rc.do(target, "NTLM "+b64(neg))
	if r1.StatusCode != http.StatusProxyAuthRequired {
		t.Fatalf("NEGOTIATE: status %d", r1.StatusCode)
	}
	auth, err := ntlmssp.NewAuthenticateMessage(token(t, r1, "NTLM"), user, pass, nil)
	if err != nil {
		t.Fatalf("go-ntlmssp refused our CHALLENGE: %v", err)
	}
	return r1, rc.do(target, "NTLM "+b64(auth))
}

var lab = []profile.Credential{{User: `LAB\alice`, Password: "Passw0rd!"}, {User: "bob", Password: "hunter2"}}

func TestProxyAuthOffers(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    *ProxyAuth
		want []string
	}{
		{"default", &ProxyAuth{}, []string{"Negotiate", "NTLM", `Basic realm="wufault"`}},
		{"ordered", &ProxyAuth{Schemes: []string{"basic", "ntlm"}, Realm: "corp proxy"}, []string{`Basic realm="corp proxy"`, "NTLM"}},
		{"scheme-mismatch", &ProxyAuth{Reject: "scheme-mismatch"}, []string{"Negotiate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startAuthProxy(t, tc.f, true)
			rc := dialRaw(t, p.addr)
			for _, target := range []string{"update.example.test:443", "http://update.example.test/selfupdate/wuident.cab"} {
				resp := rc.do(target, "")
				if resp.StatusCode != http.StatusProxyAuthRequired {
					t.Fatalf("%s: status %d", target, resp.StatusCode)
				}
				if got := resp.Header.Values("Proxy-Authenticate"); !slices.Equal(got, tc.want) {
					t.Errorf("Proxy-Authenticate %q, want %q", got, tc.want)
				}
				if resp.ContentLength != 0 || resp.Close {
					t.Errorf("Content-Length %d, close %v: the connection must stay open", resp.ContentLength, resp.Close)
				}
			}
			if p.accepted.Load() != 1 || p.passed.Load() != 0 {
				t.Errorf("accepted %d connections, passed %d requests", p.accepted.Load(), p.passed.Load())
			}
			if got := p.legs(); !slices.Equal(got, []string{"offer challenged", "offer challenged"}) {
				t.Errorf("legs %q", got)
			}
		})
	}
}

func TestProxyAuthBasic(t *testing.T) {
	for _, tc := range []struct {
		name, user, pass string
		status           int
		reason           string
	}{
		{"domain user", `LAB\alice`, "Passw0rd!", 200, ""},
		{"domain case", `lab\ALICE`, "Passw0rd!", 200, ""},
		{"bare user of a domain account", "alice", "Passw0rd!", 200, ""},
		{"user without domain", "bob", "hunter2", 200, ""},
		{"other domain", `EVIL\alice`, "Passw0rd!", 407, "unknown user"},
		{"wrong password", `LAB\alice`, "passw0rd!", 407, "wrong password"},
		{"unknown user", "carol", "hunter2", 407, "unknown user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"basic"}, Users: lab}, true)
			rc := dialRaw(t, p.addr)
			resp := rc.do("http://wu.example.test/a", basicAuth(tc.user, tc.pass))
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			ev := p.lastEvent()
			if ev.Scheme != "basic" || ev.Leg != LegCredentials || ev.User != tc.user || ev.Reason != tc.reason {
				t.Errorf("event %+v", ev)
			}
			if strings.Contains(fmt.Sprintf("%+v %s", p.events, ev), tc.pass) {
				t.Error("the password reached the events")
			}
		})
	}
}

// TestProxyAuthBasicNetHTTP uses net/http's own proxy support: the
// credentials in the proxy URL go out as Basic on CONNECT and plain requests.
func TestProxyAuthBasicNetHTTP(t *testing.T) {
	p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"basic"}, Users: lab}, true)
	for _, tc := range []struct {
		user, pass string
		status     int
	}{{"bob", "hunter2", 200}, {"bob", "nope", 407}} {
		var seen []string
		tr := &http.Transport{
			Proxy: http.ProxyURL(mustURL(t, "http://"+tc.user+":"+tc.pass+"@"+p.addr)),
			OnProxyConnectResponse: func(_ context.Context, _ *neturl, _ *http.Request, resp *http.Response) error {
				seen = resp.Header.Values("Proxy-Authenticate")
				return nil
			},
		}
		c := &http.Client{Transport: tr, Timeout: 10 * time.Second}
		resp, err := c.Get("http://wu.example.test/plain")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s: plain status %d, want %d", tc.pass, resp.StatusCode, tc.status)
		}
		if tc.status == 407 && resp.Header.Get("Proxy-Authenticate") != `Basic realm="wufault"` {
			t.Errorf("plain 407 offers %q", resp.Header.Values("Proxy-Authenticate"))
		}
		// CONNECT: net/http refuses a non-200 tunnel with the status text.
		req, _ := http.NewRequest("GET", "https://wu.example.test/", nil)
		_, err = tr.RoundTrip(req)
		if tc.status == 407 {
			if err == nil || !strings.Contains(err.Error(), "Proxy Authentication Required") || len(seen) != 1 {
				t.Errorf("CONNECT with a wrong password: err %v, offers %q", err, seen)
			}
		}
		tr.CloseIdleConnections()
	}
}

func TestProxyAuthNTLM(t *testing.T) {
	for _, target := range []string{"wu.example.test:443", "http://wu.example.test/ClientWebService/client.asmx"} {
		t.Run(target, func(t *testing.T) {
			p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"ntlm"}, Users: lab}, true)
			rc := dialRaw(t, p.addr)
			r1, r2 := ntlmLegs(t, rc, target, `LAB\alice`, "Passw0rd!")
			if r1.ContentLength != 0 || r1.Close || r1.Header.Get("Proxy-Support") != "Session-Based-Authentication" {
				t.Errorf("CHALLENGE response: length %d close %v headers %v", r1.ContentLength, r1.Close, r1.Header)
			}
			ch, err := ntlm.ParseChallenge(token(t, r1, "NTLM"))
			if err != nil {
				t.Fatal(err)
			}
			if ch.TargetName != "LAB" || len(ch.TargetInfo) != 5 {
				t.Errorf("challenge target %q info %v", ch.TargetName, ch.TargetInfo)
			}
			if r2.StatusCode != http.StatusOK {
				t.Fatalf("AUTHENTICATE: status %d", r2.StatusCode)
			}
			want := []string{"ntlm negotiate challenged", "ntlm authenticate accepted"}
			if strings.HasPrefix(target, "http://") {
				// Connection-based: a later request without credentials passes.
				if r3 := rc.do("http://wu.example.test/second", ""); r3.StatusCode != http.StatusOK {
					t.Errorf("request after authentication: status %d", r3.StatusCode)
				}
				want = append(want, "ntlm connection accepted")
			} else {
				io.WriteString(rc.c, "GET / HTTP/1.1\r\nHost: wu.example.test\r\n\r\n")
				if resp, err := http.ReadResponse(rc.br, nil); err != nil || resp.StatusCode != 200 {
					t.Errorf("request inside the tunnel: %v %v", resp, err)
				}
			}
			if got := p.legs(); !slices.Equal(got, want) {
				t.Errorf("legs %q, want %q", got, want)
			}
			if ev := p.events[1]; ev.User != `LAB\alice` || ev.Detail != "ntlmv2" {
				t.Errorf("event %+v", ev)
			}
			if p.accepted.Load() != 1 {
				t.Errorf("%d connections, want the whole exchange on one", p.accepted.Load())
			}
		})
	}
}

func TestProxyAuthNTLMWrong(t *testing.T) {
	for _, tc := range []struct{ name, user, pass, reason string }{
		{"wrong password", `LAB\alice`, "guess", "wrong password"},
		{"unknown user", `LAB\mallory`, "Passw0rd!", "unknown user"},
		{"wrong domain", `EVIL\alice`, "Passw0rd!", "unknown user"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startAuthProxy(t, &ProxyAuth{Users: lab}, true)
			rc := dialRaw(t, p.addr)
			_, r2 := ntlmLegs(t, rc, "wu.example.test:443", tc.user, tc.pass)
			if r2.StatusCode != 407 || !slices.Equal(r2.Header.Values("Proxy-Authenticate"), []string{"Negotiate", "NTLM", `Basic realm="wufault"`}) {
				t.Errorf("status %d offers %q", r2.StatusCode, r2.Header.Values("Proxy-Authenticate"))
			}
			if ev := p.lastEvent(); ev.Reason != tc.reason || ev.Outcome != AuthRejected || ev.Status != 407 {
				t.Errorf("event %+v", ev)
			}
			// The connection is still usable: a second try on it works.
			if _, r := ntlmLegs(t, rc, "wu.example.test:443", `LAB\alice`, "Passw0rd!"); r.StatusCode != 200 {
				t.Errorf("retry on the same connection: %d", r.StatusCode)
			}
			if p.accepted.Load() != 1 {
				t.Errorf("%d connections", p.accepted.Load())
			}
		})
	}
}

// TestProxyAuthNTLMByAddress runs the exchange without connection ids in
// the context: state is keyed by client address.
func TestProxyAuthNTLMByAddress(t *testing.T) {
	p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"ntlm"}, Users: lab}, false)
	a, b := dialRaw(t, p.addr), dialRaw(t, p.addr)
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	ra := a.do("wu.example.test:443", "NTLM "+b64(neg))
	rb := b.do("wu.example.test:443", "NTLM "+b64(neg))
	// b answers a's challenge: its connection never saw that challenge.
	authA, _ := ntlmssp.NewAuthenticateMessage(token(t, ra, "NTLM"), "bob", "hunter2", nil)
	if r := b.do("wu.example.test:443", "NTLM "+b64(authA)); r.StatusCode != 407 {
		t.Errorf("cross-connection AUTHENTICATE: %d", r.StatusCode)
	}
	if r := a.do("wu.example.test:443", "NTLM "+b64(authA)); r.StatusCode != 200 {
		t.Errorf("AUTHENTICATE: %d", r.StatusCode)
	}
	_ = rb
}

// spnegoInit wraps an NTLM NEGOTIATE in a NegTokenInit with mechs.
func spnegoInit(mechs []asn1OID, tok []byte) string {
	return "Negotiate " + b64((&ntlm.NegTokenInit{MechTypes: mechs, MechToken: tok}).Marshal())
}

func spnegoResp(tok []byte) string {
	return "Negotiate " + b64((&ntlm.NegTokenResp{NegState: ntlm.NegStateAbsent, ResponseToken: tok}).Marshal())
}

func parseResp(t *testing.T, resp *http.Response) *ntlm.NegTokenResp {
	t.Helper()
	tok, err := ntlm.ParseToken(token(t, resp, "Negotiate"))
	if err != nil || tok.Kind != ntlm.TokenResp {
		t.Fatalf("Negotiate token: %v %v", tok, err)
	}
	return tok.Resp
}

func TestProxyAuthNegotiate(t *testing.T) {
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	t.Run("bare ntlm", func(t *testing.T) {
		p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"negotiate"}, Users: lab}, true)
		rc := dialRaw(t, p.addr)
		r1 := rc.do("http://wu.example.test/x", "Negotiate "+b64(neg))
		chMsg := token(t, r1, "Negotiate")
		if !ntlm.IsNTLM(chMsg) {
			t.Fatalf("bare NTLM answered with %x", chMsg)
		}
		auth, _ := ntlmssp.NewAuthenticateMessage(chMsg, "bob", "hunter2", nil)
		if r2 := rc.do("http://wu.example.test/x", "Negotiate "+b64(auth)); r2.StatusCode != 200 {
			t.Errorf("status %d", r2.StatusCode)
		}
		if got := p.legs(); !slices.Equal(got, []string{"negotiate negotiate challenged", "negotiate authenticate accepted"}) {
			t.Errorf("legs %q", got)
		}
	})
	t.Run("spnego ntlm", func(t *testing.T) {
		p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"negotiate"}, Users: lab}, true)
		rc := dialRaw(t, p.addr)
		r1 := rc.do("http://wu.example.test/x", spnegoInit([]asn1OID{ntlm.OIDNTLMSSP}, neg))
		resp := parseResp(t, r1)
		if resp.NegState != ntlm.NegStateAcceptIncomplete || !resp.SupportedMech.Equal(ntlm.OIDNTLMSSP) {
			t.Fatalf("first reply %+v", resp)
		}
		auth, err := ntlmssp.NewAuthenticateMessage(resp.ResponseToken, `LAB\alice`, "Passw0rd!", nil)
		if err != nil {
			t.Fatal(err)
		}
		r2 := rc.do("http://wu.example.test/x", spnegoResp(auth))
		if r2.StatusCode != 200 {
			t.Fatalf("status %d", r2.StatusCode)
		}
		if done := parseResp(t, r2); done.NegState != ntlm.NegStateAcceptCompleted {
			t.Errorf("final token %+v", done)
		}
		if ev := p.lastEvent(); ev.Detail != "ntlmv2, spnego" || ev.User != `LAB\alice` {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("kerberos preferred, ntlm listed", func(t *testing.T) {
		p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"negotiate"}, Users: lab}, true)
		rc := dialRaw(t, p.addr)
		apReq := []byte{0x60, 0x03, 0x06, 0x01, 0x00} // stands for a Kerberos AP-REQ: ignored
		r1 := rc.do("http://wu.example.test/x", spnegoInit([]asn1OID{ntlm.OIDMSKerberos, ntlm.OIDKerberos, ntlm.OIDNTLMSSP}, apReq))
		sel := parseResp(t, r1)
		if sel.NegState != ntlm.NegStateAcceptIncomplete || !sel.SupportedMech.Equal(ntlm.OIDNTLMSSP) || sel.ResponseToken != nil {
			t.Fatalf("mechanism selection %+v", sel)
		}
		r2 := rc.do("http://wu.example.test/x", spnegoResp(neg))
		ch := parseResp(t, r2)
		if ch.SupportedMech != nil || !ntlm.IsNTLM(ch.ResponseToken) {
			t.Fatalf("challenge reply %+v", ch)
		}
		auth, _ := ntlmssp.NewAuthenticateMessage(ch.ResponseToken, "bob", "hunter2", nil)
		if r3 := rc.do("http://wu.example.test/x", spnegoResp(auth)); r3.StatusCode != 200 {
			t.Errorf("status %d", r3.StatusCode)
		}
		if p.accepted.Load() != 1 || len(p.legs()) != 3 {
			t.Errorf("connections %d legs %q", p.accepted.Load(), p.legs())
		}
	})
	t.Run("kerberos only", func(t *testing.T) {
		p := startAuthProxy(t, &ProxyAuth{Users: lab}, true)
		rc := dialRaw(t, p.addr)
		r1 := rc.do("wu.example.test:443", spnegoInit([]asn1OID{ntlm.OIDMSKerberos, ntlm.OIDKerberos}, []byte{0x60, 0x00}))
		if r1.StatusCode != 407 || parseResp(t, r1).NegState != ntlm.NegStateReject {
			t.Errorf("status %d", r1.StatusCode)
		}
		if got := r1.Header.Values("Proxy-Authenticate"); len(got) != 3 || got[1] != "NTLM" {
			t.Errorf("offers after the reject: %q", got)
		}
		if ev := p.lastEvent(); !strings.Contains(ev.Reason, "no KDC") || ev.Outcome != AuthRejected {
			t.Errorf("event %+v", ev)
		}
	})
}

func TestProxyAuthRejectModes(t *testing.T) {
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	t.Run("always", func(t *testing.T) {
		p := startAuthProxy(t, &ProxyAuth{Users: lab, Reject: "always"}, true)
		rc := dialRaw(t, p.addr)
		if r := rc.do("http://wu.example.test/", basicAuth("bob", "hunter2")); r.StatusCode != 407 {
			t.Errorf("basic: %d", r.StatusCode)
		}
		r1, r2 := ntlmLegs(t, rc, "wu.example.test:443", "bob", "hunter2")
		if r1.StatusCode != 407 || r2.StatusCode != 407 || len(r2.Header.Values("Proxy-Authenticate")) != 3 {
			t.Errorf("ntlm: %d %d %q", r1.StatusCode, r2.StatusCode, r2.Header.Values("Proxy-Authenticate"))
		}
		if ev := p.lastEvent(); ev.Reason != "reject: always (credentials were valid)" {
			t.Errorf("event %+v", ev)
		}
	})
	t.Run("scheme-mismatch", func(t *testing.T) {
		p := startAuthProxy(t, &ProxyAuth{Users: lab, Reject: "scheme-mismatch"}, true)
		rc := dialRaw(t, p.addr)
		r := rc.do("wu.example.test:443", spnegoInit([]asn1OID{ntlm.OIDNTLMSSP}, neg))
		if r.StatusCode != 407 || parseResp(t, r).NegState != ntlm.NegStateReject || len(r.Header.Values("Proxy-Authenticate")) != 1 {
			t.Errorf("spnego ntlm: %d %q", r.StatusCode, r.Header.Values("Proxy-Authenticate"))
		}
		// NTLM and Basic are not offered at all.
		for _, auth := range []string{"NTLM " + b64(neg), basicAuth("bob", "hunter2")} {
			if r := rc.do("wu.example.test:443", auth); r.StatusCode != 407 || p.lastEvent().Reason != "scheme not offered" {
				t.Errorf("%s: %d %+v", auth[:5], r.StatusCode, p.lastEvent())
			}
		}
		// Bare NTLM in Negotiate: a plain 407.
		if r := rc.do("wu.example.test:443", "Negotiate "+b64(neg)); r.StatusCode != 407 || r.Header.Get("Proxy-Authenticate") != "Negotiate" {
			t.Errorf("bare ntlm: %d %q", r.StatusCode, r.Header.Values("Proxy-Authenticate"))
		}
		if p.passed.Load() != 0 || p.accepted.Load() != 1 {
			t.Errorf("passed %d, connections %d", p.passed.Load(), p.accepted.Load())
		}
	})
	t.Run("loop", func(t *testing.T) {
		p := startAuthProxy(t, &ProxyAuth{Users: lab, Reject: "loop"}, true)
		rc := dialRaw(t, p.addr)
		for range 3 {
			r1, r2 := ntlmLegs(t, rc, "http://wu.example.test/", `LAB\alice`, "Passw0rd!")
			if r1.StatusCode != 407 || r2.StatusCode != 407 || len(r2.Header.Values("Proxy-Authenticate")) != 3 {
				t.Fatalf("loop: %d %d", r1.StatusCode, r2.StatusCode)
			}
		}
		if r := rc.do("http://wu.example.test/", ""); r.StatusCode != 407 {
			t.Errorf("no credentials after a valid answer: %d", r.StatusCode)
		}
		if r := rc.do("http://wu.example.test/", basicAuth("bob", "hunter2")); r.StatusCode != 407 {
			t.Errorf("basic: %d", r.StatusCode)
		}
		if ev := p.lastEvent(); ev.Reason != "reject: loop (credentials were valid)" {
			t.Errorf("event %+v", ev)
		}
		if p.passed.Load() != 0 || p.accepted.Load() != 1 {
			t.Errorf("passed %d, connections %d", p.passed.Load(), p.accepted.Load())
		}
	})
}

func TestProxyAuthWithoutUsers(t *testing.T) {
	for _, tc := range []struct{ reject, reason string }{
		{"always", "reject: always (no users to check)"},
		{"loop", "reject: loop (no users to check)"},
	} {
		p := startAuthProxy(t, &ProxyAuth{Reject: tc.reject}, true)
		rc := dialRaw(t, p.addr)
		if r := rc.do("http://wu.example.test/", basicAuth("anyone", "anything")); r.StatusCode != 407 {
			t.Errorf("%s basic: %d", tc.reject, r.StatusCode)
		}
		if ev := p.lastEvent(); ev.Reason != tc.reason {
			t.Errorf("%s basic: %+v", tc.reject, ev)
		}
		if _, r := ntlmLegs(t, rc, "wu.example.test:443", `X\anyone`, "anything"); r.StatusCode != 407 {
			t.Errorf("%s ntlm: %d", tc.reject, r.StatusCode)
		}
		if ev := p.lastEvent(); ev.Reason != tc.reason || ev.User != `X\anyone` {
			t.Errorf("%s ntlm: %+v", tc.reject, ev)
		}
	}
}

// ntlmV1Auth builds an NTLMv1 AUTHENTICATE with extended session security
// for challenge, as an LmCompatibilityLevel 0-2 client sends it.
func ntlmV1Auth(t *testing.T, challenge []byte, domain, user, pass string) []byte {
	t.Helper()
	ch, err := ntlm.ParseChallenge(challenge)
	if err != nil {
		t.Fatal(err)
	}
	client := []byte{1, 2, 3, 4, 5, 6, 7, 8}
	sum := md5sum(append(ch.ServerChallenge[:], client...))
	return (&ntlm.Authenticate{
		Flags:      ntlm.FlagUnicode | ntlm.FlagNTLM | ntlm.FlagExtendedSessionSecurity,
		Domain:     domain,
		User:       user,
		LMResponse: append(client, make([]byte, 16)...),
		NTResponse: ntlm.DESL(ntlm.NTOWFv1(pass), sum[:8]),
	}).Marshal()
}

func TestProxyAuthNTLMv1(t *testing.T) {
	neg := (&ntlm.Negotiate{Flags: ntlm.FlagUnicode | ntlm.FlagNTLM | ntlm.FlagExtendedSessionSecurity}).Marshal()
	for _, tc := range []struct {
		allow  bool
		pass   string
		status int
		reason string
	}{
		{true, "hunter2", 200, ""},
		{true, "wrong", 407, "wrong password"},
		{false, "hunter2", 407, "ntlmv1 response refused (ntlmv1: false)"},
	} {
		p := startAuthProxy(t, &ProxyAuth{Schemes: []string{"ntlm"}, Users: lab, NTLMv1: tc.allow}, true)
		rc := dialRaw(t, p.addr)
		r1 := rc.do("wu.example.test:443", "NTLM "+b64(neg))
		r2 := rc.do("wu.example.test:443", "NTLM "+b64(ntlmV1Auth(t, token(t, r1, "NTLM"), "", "bob", tc.pass)))
		if r2.StatusCode != tc.status {
			t.Errorf("ntlmv1 %v %s: status %d, want %d", tc.allow, tc.pass, r2.StatusCode, tc.status)
		}
		if ev := p.lastEvent(); ev.Reason != tc.reason || ev.Detail != "ntlmv1-ess" {
			t.Errorf("event %+v", ev)
		}
	}
}

func TestProxyAuthBadInput(t *testing.T) {
	neg, _ := ntlmssp.NewNegotiateMessage("", "")
	auth := (&ntlm.Authenticate{Flags: ntlm.FlagUnicode, User: "bob", NTResponse: make([]byte, 60)}).Marshal()
	trunc := func(b []byte, n int) []byte { return b[:n] }
	huge := append([]byte("NTLMSSP\x00\x01\x00\x00\x00"), make([]byte, 70<<10)...)
	avFlood := (&ntlm.Negotiate{Flags: ntlm.FlagUnicode}).Marshal()
	avFlood = append(avFlood, make([]byte, 40000)...)
	for _, tc := range []struct {
		name, auth string
		reason     string
	}{
		{"malformed base64", "NTLM !!!not-base64!!!", "malformed base64"},
		{"empty token", "NTLM", "malformed base64"},
		{"truncated NEGOTIATE", "NTLM " + b64(trunc(neg, 13)), "malformed: message truncated"},
		{"wrong signature", "NTLM " + b64(append([]byte("NTLMSSQ\x00"), neg[8:]...)), "malformed: not an NTLMSSP message"},
		{"AUTHENTICATE first", "NTLM " + b64(auth), "AUTHENTICATE without a CHALLENGE on this connection"},
		{"CHALLENGE from the client", "NTLM " + b64(unhexT("4e544c4d53535000020000000000000000000000000000000000000000000000")), "unexpected CHALLENGE message"},
		{"oversized", "NTLM " + b64(huge), "credentials larger than 64 KiB"},
		{"long negotiate", "NTLM " + b64(avFlood), ""},
		{"garbage negotiate", "Negotiate " + b64([]byte{0x60, 0x84, 0xff, 0xff, 0xff, 0xff}), "malformed"},
		{"negTokenResp without ntlm", "Negotiate " + b64((&ntlm.NegTokenResp{NegState: 1, ResponseToken: []byte("x")}).Marshal()), "negTokenResp without an NTLM token"},
		{"basic without colon", "Basic " + b64([]byte("bob")), "malformed credentials: no colon"},
		{"unknown scheme", "Digest username=bob", "scheme not offered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startAuthProxy(t, &ProxyAuth{Users: lab}, true)
			rc := dialRaw(t, p.addr)
			r := rc.do("wu.example.test:443", tc.auth)
			if tc.name == "long negotiate" {
				// A long but valid NEGOTIATE still gets its CHALLENGE.
				if r.StatusCode != 407 || !ntlm.IsNTLM(token(t, r, "NTLM")) {
					t.Errorf("status %d", r.StatusCode)
				}
				return
			}
			if r.StatusCode != 407 || len(r.Header.Values("Proxy-Authenticate")) != 3 {
				t.Errorf("status %d offers %q", r.StatusCode, r.Header.Values("Proxy-Authenticate"))
			}
			if ev := p.lastEvent(); !strings.HasPrefix(ev.Reason, tc.reason) || ev.Outcome != AuthRejected {
				t.Errorf("event %+v, want reason %q", ev, tc.reason)
			}
			// The connection survives for a proper exchange.
			if _, r := ntlmLegs(t, rc, "wu.example.test:443", "bob", "hunter2"); r.StatusCode != 200 {
				t.Errorf("exchange after bad input: %d", r.StatusCode)
			}
			if p.accepted.Load() != 1 {
				t.Errorf("%d connections", p.accepted.Load())
			}
		})
	}
}

func TestAuthEventString(t *testing.T) {
	e := AuthEvent{Scheme: "ntlm", Leg: LegAuthenticate, User: `LAB\alice`, Outcome: AuthRejected, Reason: "wrong password", Detail: "ntlmv2"}
	if got := e.String(); got != `ntlm authenticate user=LAB\alice rejected: wrong password (ntlmv2)` {
		t.Errorf("got %q", got)
	}
	ReportAuth(context.Background(), e) // no reporter: no effect
}

func TestConnValue(t *testing.T) {
	ctx := WithConnID(context.Background(), 7)
	if id, ok := ConnID(ctx); !ok || id != 7 {
		t.Errorf("ConnID = %d, %v", id, ok)
	}
	n := 0
	mk := func() *int { n++; return new(int) }
	a, _ := ConnValue(ctx, "k", mk)
	b, _ := ConnValue(ctx, "k", mk)
	if a != b || n != 1 {
		t.Errorf("ConnValue made %d values", n)
	}
	if _, ok := ConnValue(context.Background(), "k", mk); ok || n != 1 {
		t.Error("ConnValue without a connection")
	}
	if _, ok := ConnID(context.Background()); ok {
		t.Error("ConnID without a connection")
	}
}

// TestProxyAuthBareCredentials: a Proxy-Authorization without a scheme
// (bare base64 of user:password) had its first 16 characters, lowercased,
// written to the journal as the scheme.
func TestProxyAuthBareCredentials(t *testing.T) {
	p := startAuthProxy(t, &ProxyAuth{Users: lab}, true)
	rc := dialRaw(t, p.addr)
	bare := b64([]byte("alice:s3cret-password"))
	if r := rc.do("wu.example.test:443", bare); r.StatusCode != 407 {
		t.Fatalf("status %d", r.StatusCode)
	}
	ev := p.lastEvent()
	if ev.Scheme != "unrecognised" || strings.Contains(strings.ToLower(ev.String()), strings.ToLower(bare[:8])) {
		t.Errorf("event %q (scheme %q) shows the credentials", ev.String(), ev.Scheme)
	}
}
