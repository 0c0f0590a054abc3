package simulate

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
)

// speakFirst is an origin that says what after delay and closes, whatever
// the client does (an SMTP-like banner).
func speakFirst(t *testing.T, delay time.Duration, what string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				time.Sleep(delay)
				_, _ = io.WriteString(c, what)
			}()
		}
	}()
	return ln.Addr().String()
}

// tunnelTo opens a CONNECT tunnel through the world's proxy.
func tunnelTo(t *testing.T, w *World, hostport string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c := rawProxyConn(t, w)
	_ = c.SetDeadline(time.Now().Add(20 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", hostport, hostport)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT %s: %v %v", hostport, resp, err)
	}
	return c, br
}

// TestInterceptOriginSpeaksFirst: with an http.* rule that could match any
// host, a tunnel waited for the client's first byte forever; an origin
// that speaks first never reached its client. The wait is TunnelPeek now,
// then the tunnel is relayed.
func TestInterceptOriginSpeaksFirst(t *testing.T) {
	w := proxyWorld(t, Options{TunnelPeek: 200 * time.Millisecond})
	activate(t, w, spec("http.status", &faults.HTTPStatus{Status: 503}, faults.Match{}, faults.When{}))
	c, br := tunnelTo(t, w, speakFirst(t, 2*time.Second, "hello"))
	got, err := io.ReadAll(br)
	if string(got) != "hello" || err != nil {
		t.Fatalf("client got %q (%v), want the origin's hello and EOF", got, err)
	}
	c.Close()
	waitFor(t, func() bool {
		return len(w.journal.Events(0, func(e Event) bool { return strings.Contains(e.Detail, "relayed opaque") })) == 1
	})
}

// TestTunnelIdleTimeout: an opaque tunnel with nothing to carry either way
// is closed after TunnelIdle; one that carries a slow one-way download
// is not.
func TestTunnelIdleTimeout(t *testing.T) {
	w := proxyWorld(t, Options{TunnelIdle: 300 * time.Millisecond})
	start := time.Now()
	c, br := tunnelTo(t, w, speakFirst(t, time.Hour, "never"))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("idle tunnel: read %v, want EOF", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("idle tunnel closed after %v", d)
	}
	c.Close()
	waitFor(t, func() bool {
		return len(w.journal.Events(0, func(e Event) bool { return strings.Contains(e.Detail, "tunnel idle") })) == 1
	})

	// A byte every 100 ms for 1.5 s, the client silent: never idle.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		o, err := ln.Accept()
		if err != nil {
			return
		}
		defer o.Close()
		for range 15 {
			time.Sleep(100 * time.Millisecond)
			if _, err := o.Write([]byte{'x'}); err != nil {
				return
			}
		}
	}()
	c, br = tunnelTo(t, w, ln.Addr().String())
	defer c.Close()
	got, err := io.ReadAll(br)
	if len(got) != 15 || err != nil {
		t.Fatalf("slow download: %d bytes (%v), want 15 and EOF", len(got), err)
	}
}

// dribble sends head, then body one byte per 200 ms, and returns how long
// the server kept the connection (until it answered or closed).
func dribble(t *testing.T, addr, head string, body int) time.Duration {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := io.WriteString(c, head); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, _ = io.Copy(io.Discard, c)
	}()
	for range body {
		select {
		case <-done:
			return time.Since(start)
		case <-time.After(200 * time.Millisecond):
		}
		if _, err := c.Write([]byte{'x'}); err != nil {
			break
		}
	}
	<-done
	return time.Since(start)
}

// TestBodyTimeouts: a body sent at a byte per 200 ms held the proxy's and
// the control API's handlers without limit (1 byte/s stayed open past
// 45 s); BodyTimeout ends it.
func TestBodyTimeouts(t *testing.T) {
	o := origin(t, false)
	w := proxyWorld(t, Options{Control: "127.0.0.1:0", BodyTimeout: 500 * time.Millisecond})
	host := strings.TrimPrefix(o.URL, "http://")
	for name, tc := range map[string]struct{ addr, head string }{
		"proxy":   {w.Addrs().Proxy, "POST " + o.URL + "/echo HTTP/1.1\r\nHost: " + host + "\r\nContent-Length: 100\r\n\r\n"},
		"control": {w.Addrs().Control, "PUT /scenario HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"},
	} {
		if d := dribble(t, tc.addr, tc.head, 100); d > 10*time.Second {
			t.Errorf("%s: a 100-byte body at 5 bytes/s held the connection %v", name, d)
		}
	}
}

// TestControlHeaderLimit: the control API took 1 MiB heads.
func TestControlHeaderLimit(t *testing.T) {
	_, api := controlWorld(t, Options{})
	req, _ := http.NewRequest("GET", api+"/healthz", nil)
	req.Header.Set("X-Big", strings.Repeat("a", 1<<20))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("1 MiB head: %d", resp.StatusCode)
	}
}

// TestClientErrorsAreTheClients: a POST with a bad chunk size, and a
// client that half-closes while the proxy waits on the origin, were
// journaled as "upstream: …" and counted in wufault_upstream_errors_total.
func TestClientErrorsAreTheClients(t *testing.T) {
	o := origin(t, false)
	silent := speakFirst(t, time.Hour, "")
	w := proxyWorld(t, Options{})
	host := strings.TrimPrefix(o.URL, "http://")
	for name, req := range map[string]string{
		"bad chunk":  "POST " + o.URL + "/ClientWebService/client.asmx HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
		"half-close": "GET http://" + silent + "/ HTTP/1.1\r\nHost: " + silent + "\r\n\r\n",
	} {
		c, err := net.Dial("tcp", w.Addrs().Proxy)
		if err != nil {
			t.Fatal(err)
		}
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		if name == "half-close" {
			time.Sleep(100 * time.Millisecond)
			_ = c.(*net.TCPConn).CloseWrite()
		}
		_, _ = io.Copy(io.Discard, c)
		c.Close()
	}
	if !eventually(5*time.Second, func() bool {
		return len(w.journal.Events(0, func(e Event) bool { return e.Kind == EventResponse && strings.HasPrefix(e.Detail, "client: ") })) == 2
	}) {
		for _, e := range w.journal.Events(0, func(e Event) bool { return e.Kind == EventResponse }) {
			t.Logf("%s %s %d %s", e.Method, e.Host, e.Status, e.Detail)
		}
		t.Fatal("want two client errors")
	}
	if n := len(w.journal.Events(0, func(e Event) bool { return strings.HasPrefix(e.Detail, "upstream: ") })); n != 0 {
		t.Errorf("%d upstream errors in the journal", n)
	}
	if got := counter(t, w, "wufault_upstream_errors_total"); got != 0 {
		t.Errorf("wufault_upstream_errors_total = %v", got)
	}
	if got := counter(t, w, "wufault_client_errors_total"); got != 2 {
		t.Errorf("wufault_client_errors_total = %v, want 2", got)
	}
}
