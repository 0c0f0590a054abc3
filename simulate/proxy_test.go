package simulate

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

func TestProxyPlainPassThrough(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, false)
	c := client(t, w, nil, 10*time.Second)

	want := blob(3 << 20)
	resp, err := c.Get(o.URL + "/blob/" + fmt.Sprint(len(want)))
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || sum(got) != sum(want) || resp.ContentLength != int64(len(want)) {
		t.Fatalf("full body: err %v, %d bytes (content-length %d), want %d intact", err, len(got), resp.ContentLength, len(want))
	}

	// Range and 206 untouched, on a reused connection.
	var reused bool
	req, _ := http.NewRequest("GET", o.URL+"/blob/"+fmt.Sprint(len(want)), nil)
	req.Header.Set("Range", "bytes=100-199")
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}))
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != fmt.Sprintf("bytes 100-199/%d", len(want)) || !bytes.Equal(got, want[100:200]) {
		t.Errorf("range: %s %q, %d bytes", resp.Status, resp.Header.Get("Content-Range"), len(got))
	}
	if !reused {
		t.Error("keep-alive: second request did not reuse the connection to the proxy")
	}

	// Streaming without a length, and the client's Accept-Encoding passes.
	resp, err = c.Get(o.URL + "/chunked/5000")
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, blob(5000)) || resp.ContentLength != -1 {
		t.Errorf("chunked: %d bytes, length %d", len(got), resp.ContentLength)
	}
	req, _ = http.NewRequest("GET", o.URL+"/echo", nil)
	req.Header.Set("Accept-Encoding", "gzip, deflate")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	got, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(got), "accept-encoding=gzip, deflate") {
		t.Errorf("Accept-Encoding not passed: %q", got)
	}

	evs := w.Journal().Events(0, nil)
	var opens, reqs, resps int
	for _, e := range evs {
		switch e.Kind {
		case EventConnOpen:
			opens++
		case EventRequest:
			reqs++
			if e.Req == 0 || e.Conn == 0 || e.Host == "" || e.Class == "" {
				t.Errorf("request event lacks ids: %+v", e)
			}
		case EventResponse:
			resps++
		}
	}
	if opens < 1 || reqs != 4 || resps != 4 {
		t.Errorf("journal: %d opens, %d requests, %d responses; want ≥1, 4, 4", opens, reqs, resps)
	}
}

func TestProxyConnectPassThrough(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, true)
	c := client(t, w, o, 20*time.Second)
	want := blob(256 << 10)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for range 40 {
		wg.Go(func() {
			tr := c.Transport.(*http.Transport).Clone()
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr, Timeout: 20 * time.Second}).Get(o.URL + "/blob/" + fmt.Sprint(len(want)))
			if err != nil {
				errs <- err
				return
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || sum(got) != sum(want) {
				errs <- fmt.Errorf("tunnel body: %d bytes, %v", len(got), err)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if !eventually(5*time.Second, func() bool {
		n := 0
		for _, e := range w.Journal().Events(0, nil) {
			if e.Kind == EventResponse && e.Method == http.MethodConnect && e.Status == 200 {
				n++
			}
		}
		return n == 40
	}) {
		t.Error("not every tunnel journaled its end")
	}
}

func TestProxyUpstreamFailures(t *testing.T) {
	w := proxyWorld(t, Options{})
	p := w.proxyService(t)
	p.tr.ResponseHeaderTimeout = 300 * time.Millisecond
	c := client(t, w, nil, 10*time.Second)

	// Nothing listens: 502 with an HTML page.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := l.Addr().String()
	l.Close()
	resp, err := c.Get("http://" + dead + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "502 Bad Gateway") ||
		!strings.Contains(string(body), "connection refused by the origin") || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("dead origin: %s %q", resp.Status, body)
	}

	// An origin that never answers: 504.
	silent, _ := net.Listen("tcp", "127.0.0.1:0")
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	resp, err = c.Get("http://" + silent.Addr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusGatewayTimeout || !strings.Contains(string(body), "the origin did not answer in time") {
		t.Errorf("silent origin: %s %q, want 504 with its reason", resp.Status, body)
	}

	// A CONNECT to nothing: 502 to the CONNECT.
	raw := rawProxyConn(t, w)
	fmt.Fprintf(raw, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", dead, dead)
	r, err := http.ReadResponse(bufio.NewReader(raw), nil)
	if err != nil {
		t.Fatalf("CONNECT to a dead port: %v", err)
	}
	body, _ = io.ReadAll(r.Body)
	if r.StatusCode != http.StatusBadGateway || !strings.Contains(string(body), "connection refused by the origin") || r.ContentLength != int64(len(body)) {
		t.Errorf("CONNECT to a dead port: %s %q (length %d)", r.Status, body, r.ContentLength)
	}
	n := 0
	for _, e := range w.Journal().Events(0, nil) {
		if e.Kind == EventResponse && (e.Status == 502 || e.Status == 504) && strings.HasPrefix(e.Detail, "upstream:") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("journal has %d upstream failures, want 3", n)
	}
}

// isReset reports whether err is a connection reset.
func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }

func TestProxyTCPFaultsPlain(t *testing.T) {
	w := proxyWorld(t, Options{MaxStall: 5 * time.Second})
	o := origin(t, false)
	size := 64 << 10
	url := o.URL + "/blob/" + fmt.Sprint(size)
	for _, tc := range []struct {
		name  string
		kind  string
		fault faults.Fault
		check func(t *testing.T, resp *http.Response, body []byte, err error, took time.Duration)
	}{
		{"reset at headers", "tcp.reset", &faults.TCPReset{}, func(t *testing.T, resp *http.Response, body []byte, err error, _ time.Duration) {
			if !isReset(err) {
				t.Errorf("err = %v, want ECONNRESET", err)
			}
		}},
		{"reset in body after 1000", "tcp.reset", &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 1000}}, func(t *testing.T, resp *http.Response, body []byte, err error, _ time.Duration) {
			if resp == nil || !isReset(err) || len(body) != 1000 {
				t.Errorf("got %d body bytes, err %v; want 1000 then ECONNRESET", len(body), err)
			}
		}},
		{"close in body after 1000", "tcp.close", &faults.TCPClose{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 1000}}, func(t *testing.T, resp *http.Response, body []byte, err error, _ time.Duration) {
			if resp == nil || !errors.Is(err, io.ErrUnexpectedEOF) || len(body) != 1000 || isReset(err) {
				t.Errorf("got %d body bytes, err %v; want 1000 then unexpected EOF (FIN)", len(body), err)
			}
		}},
		{"close at request", "tcp.close", &faults.TCPClose{PhaseBound: faults.PhaseBound{At: profile.PhaseRequest}}, func(t *testing.T, resp *http.Response, body []byte, err error, _ time.Duration) {
			if !errors.Is(err, io.EOF) || isReset(err) {
				t.Errorf("err = %v, want EOF", err)
			}
		}},
		{"stall in body", "tcp.stall", &faults.TCPStall{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 100}}, func(t *testing.T, resp *http.Response, body []byte, err error, took time.Duration) {
			var ne net.Error
			if resp == nil || len(body) != 100 || !errors.As(err, &ne) || !ne.Timeout() {
				t.Errorf("got %d bytes, err %v; want 100 then a client timeout", len(body), err)
			}
		}},
		{"stall 200ms then resume", "tcp.stall", &faults.TCPStall{PhaseBound: faults.PhaseBound{At: profile.PhaseHeaders}, Duration: profile.Duration(200 * time.Millisecond)}, func(t *testing.T, resp *http.Response, body []byte, err error, took time.Duration) {
			if err != nil || len(body) != size || took < 200*time.Millisecond {
				t.Errorf("got %d bytes in %v, err %v; want all after ≥200ms", len(body), took, err)
			}
		}},
		{"latency", "tcp.latency", &faults.TCPLatency{Latency: profile.Duration(150 * time.Millisecond), Jitter: profile.Duration(10 * time.Millisecond)}, func(t *testing.T, resp *http.Response, body []byte, err error, took time.Duration) {
			if err != nil || len(body) != size || took < 140*time.Millisecond {
				t.Errorf("got %d bytes in %v, err %v; want all after ≥140ms", len(body), took, err)
			}
		}},
		{"bandwidth", "tcp.bandwidth", &faults.TCPBandwidth{Rate: 256 << 10}, func(t *testing.T, resp *http.Response, body []byte, err error, took time.Duration) {
			if err != nil || len(body) != size || took < 200*time.Millisecond {
				t.Errorf("got %d bytes in %v, err %v; want all in ≥200ms at 256KiB/s", len(body), took, err)
			}
		}},
		{"slice", "tcp.slice", &faults.TCPSlice{Size: 7, Delay: profile.Duration(time.Millisecond)}, func(t *testing.T, resp *http.Response, body []byte, err error, took time.Duration) {
			// The answer (status line, headers and some 40 bytes of body,
			// over 150 bytes) arrives whole, 7 bytes a millisecond.
			if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(body), "GET /echo\n") || took < 20*time.Millisecond {
				t.Errorf("got %q in %v, err %v; want the echo, sliced (≥20ms)", body, took, err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := "/blob/" + fmt.Sprint(size)
			activate(t, w, spec(tc.kind, tc.fault, faults.Match{Path: path}, faults.When{}))
			c := client(t, w, nil, time.Second)
			u := url
			if tc.kind == "tcp.slice" {
				u = o.URL + "/echo"
				activate(t, w, spec(tc.kind, tc.fault, faults.Match{Path: "/echo"}, faults.When{}))
			}
			start := time.Now()
			resp, err := c.Get(u)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			tc.check(t, resp, body, err, time.Since(start))
			// The next request (the rule matches again) and an unmatched one
			// on a fresh client still work after the fault.
			w.Activate("", 0, nil)
			resp, err = client(t, w, nil, 5*time.Second).Get(o.URL + "/echo")
			if err != nil {
				t.Fatalf("after the fault: %v", err)
			}
			resp.Body.Close()
		})
	}
}

func TestProxyTCPFaultsTunnel(t *testing.T) {
	w := proxyWorld(t, Options{MaxStall: 5 * time.Second})
	o := origin(t, true)
	u := o.URL + "/blob/100000"
	host := "127.0.0.1"
	for _, tc := range []struct {
		name  string
		kind  string
		fault faults.Fault
		want  func(err error) bool
		what  string
	}{
		{"reset at proxy", "tcp.reset", &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseProxy}}, isReset, "ECONNRESET"},
		{"reset at handshake", "tcp.reset", &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseHandshake}}, isReset, "ECONNRESET"},
		{"close at handshake", "tcp.close", &faults.TCPClose{PhaseBound: faults.PhaseBound{At: profile.PhaseHandshake}}, func(err error) bool { return errors.Is(err, io.EOF) && !isReset(err) }, "EOF"},
		{"reset in the tunnel after 3000", "tcp.reset", &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 3000}}, isReset, "ECONNRESET"},
		{"stall at proxy", "tcp.stall", &faults.TCPStall{PhaseBound: faults.PhaseBound{At: profile.PhaseProxy}}, func(err error) bool {
			var ne net.Error
			return errors.As(err, &ne) && ne.Timeout()
		}, "timeout"},
		{"refuse", "tcp.refuse", &faults.TCPRefuse{}, isReset, "ECONNRESET"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			activate(t, w, spec(tc.kind, tc.fault, faults.Match{Host: host}, faults.When{}))
			_, err := client(t, w, o, time.Second).Get(u)
			if !tc.want(err) {
				t.Errorf("err = %v, want %s", err, tc.what)
			}
			w.Activate("", 0, nil)
			resp, err := client(t, w, o, 5*time.Second).Get(u)
			if err != nil {
				t.Fatalf("after the fault: %v", err)
			}
			resp.Body.Close()
		})
	}
}

func TestProxyDenyConnect(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, true)
	activate(t, w, spec("proxy.deny_connect", &faults.ProxyDenyConnect{}, faults.Match{}, faults.When{First: 1}))
	var seen int
	c := client(t, w, o, 5*time.Second)
	c.Transport.(*http.Transport).OnProxyConnectResponse = func(ctx context.Context, _ *url.URL, _ *http.Request, resp *http.Response) error {
		seen = resp.StatusCode
		return nil
	}
	_, err := c.Get(o.URL + "/echo")
	if err == nil || seen != http.StatusForbidden {
		t.Fatalf("first CONNECT: err %v, status %d; want a 403", err, seen)
	}
	resp, err := c.Get(o.URL + "/echo")
	if err != nil {
		t.Fatalf("second CONNECT (first: 1 spent): %v", err)
	}
	resp.Body.Close()
	if h := w.Active().Set.Rules()[0].Hits(); h.Fired != 1 || h.Matched != 2 {
		t.Errorf("hits %+v, want 2 matched, 1 fired", h)
	}
	denied := w.Journal().Events(0, func(e Event) bool {
		return e.Kind == EventResponse && e.Method == http.MethodConnect && e.Status == 403
	})
	if len(denied) != 1 {
		t.Errorf("journal: %d denied CONNECT answers, want 1", len(denied))
	}
}

// Bytes a latency line still holds when net/http closes a
// "Connection: close" answer reach the client before the close.
func TestProxyLatencyFlushesOnClose(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, false)
	activate(t, w, spec("tcp.latency", &faults.TCPLatency{Latency: profile.Duration(50 * time.Millisecond)}, faults.Match{Path: "/blob/*"}, faults.When{}))
	c := client(t, w, nil, 5*time.Second)
	c.Transport.(*http.Transport).DisableKeepAlives = true
	for range 3 {
		resp, err := c.Get(o.URL + "/blob/30000")
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(b) != 30000 {
			t.Fatalf("%d bytes, %v", len(b), err)
		}
	}
}
