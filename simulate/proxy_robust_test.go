package simulate

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// Hostile and broken clients get their own connection answered or closed;
// everyone else is served; nothing leaks once the world closes.
func TestProxyBadInputNoLeaks(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	o := origin(t, true)
	plain := origin(t, false)
	fds := openFDs(t)

	w, err := New(context.Background(), Options{Proxy: "127.0.0.1:0", MaxStall: 10 * time.Second, AllowUpstream: loopbackUpstream})
	if err != nil {
		t.Fatal(err)
	}
	c := client(t, w, o, 10*time.Second)
	t0 := time.Now()
	ok := func(what string) {
		t.Helper()
		t.Logf("%v: %s", time.Since(t0), what)
		resp, err := c.Get(o.URL + "/blob/1000")
		if err != nil {
			t.Fatalf("after %s: %v", what, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	dial := func() net.Conn {
		conn, err := net.Dial("tcp", w.Addrs().Proxy)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
		return conn
	}
	status := func(conn net.Conn) string {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		return strings.TrimSpace(line)
	}

	// Garbage: 400, then the connection closes.
	g := dial()
	fmt.Fprint(g, "\x16\x03\x01 this is not HTTP\r\n\r\n")
	if s := status(g); !strings.Contains(s, "400") {
		t.Errorf("garbage: %q, want a 400", s)
	}
	g.Close()
	ok("garbage")

	// An absurd header: 431.
	a := dial()
	fmt.Fprintf(a, "GET %s/echo HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n", plain.URL, strings.Repeat("a", 200<<10))
	if s := status(a); !strings.Contains(s, "431") {
		t.Errorf("absurd header: %q, want a 431", s)
	}
	a.Close()
	ok("absurd header")

	// A half-sent CONNECT waits (up to the header timeout) without
	// holding anyone else up; closing it frees it.
	h := dial()
	fmt.Fprint(h, "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHo")
	ok("half-sent CONNECT")
	h.Close()

	// Clients vanishing mid-download, tunnelled and plain.
	for _, u := range []string{o.URL, plain.URL} {
		tr := c.Transport.(*http.Transport).Clone()
		resp, err := (&http.Client{Transport: tr}).Get(u + "/blob/20000000")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.CopyN(io.Discard, resp.Body, 100000)
		tr.CloseIdleConnections()
		resp.Body.Close()
		tr.CloseIdleConnections()
	}
	ok("vanished clients")

	// Many tunnels opened and dropped at once.
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			conn, err := net.Dial("tcp", w.Addrs().Proxy)
			if err != nil {
				return
			}
			host := strings.TrimPrefix(o.URL, "https://")
			fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
			conn.Close()
		})
	}
	wg.Wait()
	ok("dropped tunnels")

	p := w.proxyService(t)
	if !eventually(5*time.Second, func() bool { p.t.mu.Lock(); defer p.t.mu.Unlock(); return len(p.t.conns) <= 2 }) {
		p.t.mu.Lock()
		t.Errorf("%d client connections still tracked", len(p.t.conns))
		p.t.mu.Unlock()
	}
	c.Transport.(*http.Transport).CloseIdleConnections()
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	o.Close()
	plain.Close()
	if !eventually(5*time.Second, func() bool { return openFDs(t) <= fds }) {
		t.Errorf("descriptors: %d before the world, %d after it closed", fds, openFDs(t))
		es, _ := os.ReadDir("/proc/self/fd")
		for _, e := range es {
			l, _ := os.Readlink("/proc/self/fd/" + e.Name())
			t.Log(e.Name(), l)
		}
	}
}

// A client outside loopback and --allow-cidr has its connection closed,
// and the refusal is journaled.
func TestProxyRefusesForeignClients(t *testing.T) {
	w := proxyWorld(t, Options{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}})
	p := w.proxyService(t)
	a, b := net.Pipe()
	defer b.Close()
	if fc := p.t.admit(foreignConn{a, "198.51.100.7:4000"}); fc != nil {
		t.Fatal("a foreign client was admitted")
	}
	if _, err := b.Read(make([]byte, 1)); err != io.EOF && err != io.ErrClosedPipe {
		t.Errorf("foreign client's connection: read %v, want it closed", err)
	}
	evs := w.Journal().Events(0, func(e Event) bool { return e.Kind == EventConnClose && strings.Contains(e.Detail, "not allowed") })
	if len(evs) != 1 || evs[0].Client != "198.51.100.7:4000" {
		t.Errorf("journal: %+v", evs)
	}
	a2, b2 := net.Pipe()
	defer b2.Close()
	fc := p.t.admit(foreignConn{a2, "192.0.2.9:4000"})
	if fc == nil {
		t.Fatal("an allowed client was refused")
	}
	fc.Close()
}

type foreignConn struct {
	net.Conn
	addr string
}

func (f foreignConn) RemoteAddr() net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(f.addr))
}

// A stall without duration ends at the world's maximum when the client
// never gives up, and at once when the world closes.
func TestProxyStallBounded(t *testing.T) {
	w := proxyWorld(t, Options{MaxStall: 300 * time.Millisecond})
	o := origin(t, false)
	activate(t, w, spec("tcp.stall", &faults.TCPStall{}, faults.Match{Path: "/echo"}, faults.When{}))
	start := time.Now()
	_, err := client(t, w, nil, 0).Get(o.URL + "/echo")
	took := time.Since(start)
	if err == nil || took < 300*time.Millisecond || took > 5*time.Second {
		t.Errorf("stall with a patient client: %v after %v, want an error after ~300ms", err, took)
	}

	w2 := proxyWorld(t, Options{MaxStall: time.Minute})
	activate(t, w2, spec("tcp.stall", &faults.TCPStall{}, faults.Match{}, faults.When{}))
	errc := make(chan error, 1)
	since := w2.journal.lastSeq()
	go func() {
		_, err := client(t, w2, nil, 0).Get(o.URL + "/echo")
		errc <- err
	}()
	waitEvent(t, w2, since, func(e Event) bool {
		return e.Kind == EventFault && e.Fault == "tcp.stall" && strings.HasPrefix(e.Detail, "stalled after")
	})
	closeWithin(t, w2, "Close did not end the stall")
	if err := <-errc; err == nil {
		t.Error("the stalled client got an answer")
	}
}

// Concurrent swaps while traffic flows: no race, no failure without a
// fault.
func TestProxySwapUnderLoad(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, false)
	c := client(t, w, nil, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		for n := 0; ctx.Err() == nil; n++ {
			w.Activate(fmt.Sprint("s", n), int64(n), []faults.Spec{
				spec("tcp.latency", &faults.TCPLatency{Latency: profile.Duration(time.Millisecond)}, faults.Match{Path: "/none"}, faults.When{}),
				spec("http.status", &faults.HTTPStatus{Status: 500}, faults.Match{Host: "nowhere.test"}, faults.When{}),
			})
			time.Sleep(time.Millisecond)
		}
	})
	for range 4 {
		wg.Go(func() {
			for ctx.Err() == nil {
				resp, err := c.Get(o.URL + "/blob/5000")
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if len(b) != 5000 || resp.StatusCode != 200 {
					t.Errorf("%s, %d bytes", resp.Status, len(b))
					return
				}
			}
		})
	}
	wg.Wait()
}

// A client that leaves while the origin stays silent does not pin the
// tunnel: the world closes at once, and nothing leaks.
func TestProxyTunnelClientLeavesOriginSilent(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	hold, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hold.Close()
	var held []net.Conn
	var mu sync.Mutex
	go func() {
		for {
			c, err := hold.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			held = append(held, c)
			mu.Unlock()
		}
	}()
	defer func() {
		mu.Lock()
		for _, c := range held {
			c.Close()
		}
		mu.Unlock()
	}()
	w, err := New(context.Background(), Options{Proxy: "127.0.0.1:0", AllowUpstream: loopbackUpstream})
	if err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c, err := net.Dial("tcp", w.Addrs().Proxy)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n", hold.Addr())
		if s, _ := bufio.NewReader(c).ReadString('\n'); !strings.Contains(s, "200") {
			t.Fatalf("CONNECT: %q", s)
		}
		c.Close()
	}
	time.Sleep(50 * time.Millisecond)
	closeWithin(t, w, "Close hangs on tunnels whose origin is silent")
}

// A stall of a set duration ends by itself: the download after it is not
// cut at the world's maximum stall.
func TestProxyTimedStallIsNotCutAtMaxStall(t *testing.T) {
	w := proxyWorld(t, Options{MaxStall: 300 * time.Millisecond})
	o := origin(t, false)
	activate(t, w, spec("tcp.stall", &faults.TCPStall{PhaseBound: faults.PhaseBound{At: profile.PhaseHeaders}, Duration: profile.Duration(100 * time.Millisecond)}, faults.Match{Path: "/blob/*"}, faults.When{}),
		spec("tcp.bandwidth", &faults.TCPBandwidth{Rate: 64 << 10}, faults.Match{Path: "/blob/*"}, faults.When{}))
	start := time.Now()
	resp, err := client(t, w, nil, 10*time.Second).Get(o.URL + "/blob/40000")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || len(b) != 40000 || time.Since(start) < 400*time.Millisecond {
		t.Errorf("%d bytes after %v, %v; want all 40000 after the stall and ~600ms of shaping", len(b), time.Since(start), err)
	}
}
