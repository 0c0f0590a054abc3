package simulate

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// countingOrigin is origin() with a count of the TCP connections it
// accepted, so a test sees whether the proxy reused its origin sockets.
func countingOrigin(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	srv := httptest.NewUnstartedServer(origin(t, false).Config.Handler)
	var n atomic.Int64
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			n.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &n
}

// The splicing exchange: bodies arrive whole and in order, the journal
// counts their bytes, the client's and the origin's connections are both
// kept alive, and the body bytes went socket to socket.
func TestProxySplicedBodies(t *testing.T) {
	w := proxyWorld(t, Options{})
	srv, conns := countingOrigin(t)
	c := client(t, w, nil, 30*time.Second)
	sizes := []int{0, 1, 511, 512, 4096, 100_000, 3 << 20}
	var total int
	for _, n := range sizes {
		resp, err := c.Get(fmt.Sprintf("%s/blob/%d", srv.URL, n))
		if err != nil {
			t.Fatalf("%d bytes: %v", n, err)
		}
		got, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(got, blob(n)) {
			t.Fatalf("%d bytes: %s, %d bytes back, same=%v, err %v", n, resp.Status, len(got), bytes.Equal(got, blob(n)), err)
		}
		if resp.ContentLength != int64(n) {
			t.Errorf("%d bytes: Content-Length %d", n, resp.ContentLength)
		}
		total += n
	}
	if got := conns.Load(); got != 1 {
		t.Errorf("the origin accepted %d connections for %d sequential requests, want 1 (kept alive)", got, len(sizes))
	}
	// Of each body, what the origin's first read brought with the head
	// (up to 16 KiB) and the first 512 bytes (net/http writes those itself
	// before it hands the socket over) go through user space; the rest
	// went by splice. The 3 MiB body alone leaves at least this much:
	spliced := counterValue(t, w.metrics.spliced)
	if want := float64(3<<20 - 16<<10 - 512); spliced < want || spliced > float64(total) {
		t.Errorf("spliced %.0f body bytes of %d, want between %.0f and %d", spliced, total, want, total)
	}
	var journaled int64
	for _, e := range w.Journal().Events(0, nil) {
		if e.Kind == EventResponse && e.Method == http.MethodGet {
			journaled += e.Bytes
		}
	}
	if journaled != int64(total) {
		t.Errorf("journal counts %d body bytes, want %d", journaled, total)
	}

	// Range requests (how Windows Update downloads content) keep their
	// status, Content-Range and bytes.
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/blob/200000", nil)
	req.Header.Set("Range", "bytes=1000-150999")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != "bytes 1000-150999/200000" || !bytes.Equal(got, blob(200000)[1000:151000]) {
		t.Errorf("range: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Range"), len(got))
	}

	// A chunked answer takes the same exchange without splicing.
	resp, err = c.Get(srv.URL + "/chunked/25000")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, blob(25000)) {
		t.Errorf("chunked: %d bytes back", len(got))
	}
}

// A tcp.* rule on the body still acts byte-exactly: the answer is not
// spliced past it.
func TestProxySpliceKeepsBodyFaults(t *testing.T) {
	w := proxyWorld(t, Options{})
	srv := origin(t, false)
	activate(t, w, spec("tcp.close", &faults.TCPClose{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 70_000}}, faults.Match{Path: "/blob/*"}, faults.When{}))
	raw := rawProxyConn(t, w)
	fmt.Fprintf(raw, "GET %s/blob/1000000 HTTP/1.1\r\nHost: %s\r\n\r\n", srv.URL, strings.TrimPrefix(srv.URL, "http://"))
	br := bufio.NewReader(raw)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	if err == nil || len(got) != 70_000 || !bytes.Equal(got, blob(1000000)[:70_000]) {
		t.Errorf("got %d body bytes (err %v), want exactly 70000 then a cut", len(got), err)
	}
	if s := counterValue(t, w.metrics.spliced); s != 0 {
		t.Errorf("%.0f bytes spliced past an armed rule", s)
	}
}

// Origins that misbehave: a body shorter than its Content-Length ends the
// client's answer short; an origin that closes its idle keep-alive
// connection costs nothing (the next request dials again).
func TestProxySpliceOriginFailures(t *testing.T) {
	w := proxyWorld(t, Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var accepted atomic.Int64
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go func(c net.Conn) {
				defer c.Close()
				br := bufio.NewReader(c)
				req, err := http.ReadRequest(br)
				if err != nil {
					return
				}
				switch req.URL.Path {
				case "/short": // promises 100000, sends 30000, closes
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n")
					_, _ = c.Write(blob(30000))
				case "/once": // keep-alive promised, then closed while idle
					fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
					time.Sleep(50 * time.Millisecond)
				}
			}(c)
		}
	}()
	base := "http://" + ln.Addr().String()
	c := client(t, w, nil, 10*time.Second)

	resp, err := c.Get(base + "/short")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err == nil || len(got) != 30000 {
		t.Errorf("short origin body: %d bytes, err %v; want 30000 and an error", len(got), err)
	}

	for i := range 3 {
		resp, err := c.Get(base + "/once")
		if err != nil {
			t.Fatalf("request %d after the origin closed its idle connection: %v", i, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "hello" {
			t.Fatalf("request %d: %q", i, b)
		}
		time.Sleep(150 * time.Millisecond) // the origin has closed by now
	}
	if n := accepted.Load(); n != 4 {
		t.Errorf("origin accepted %d connections, want 4 (each idle one was closed by the origin)", n)
	}
}

// Many clients at once through the splicing exchange, each body checked.
func TestProxySpliceConcurrent(t *testing.T) {
	w := proxyWorld(t, Options{})
	srv := origin(t, false)
	c := client(t, w, nil, 60*time.Second)
	const clients, per = 16, 8
	errs := make(chan error, clients)
	for i := range clients {
		go func() {
			for j := range per {
				n := 1000 + (i*per+j)*7919
				resp, err := c.Get(srv.URL + "/blob/" + strconv.Itoa(n))
				if err != nil {
					errs <- err
					return
				}
				got, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || !bytes.Equal(got, blob(n)) {
					errs <- fmt.Errorf("%d bytes: got %d, err %v", n, len(got), err)
					return
				}
			}
			errs <- nil
		}()
	}
	for range clients {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// counterValue reads a counter.
func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
