package simulate

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
)

// loopbackUpstream lets a test world's proxy reach the test's origins.
var loopbackUpstream = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}

// testWorld starts a world as o says and closes it when the test ends,
// failing the test if Close does. The tests' origins listen on loopback:
// unless o says otherwise (a non-nil AllowUpstream, empty for the default
// policy), the proxy may reach 127.0.0.0/8.
func testWorld(t testing.TB, o Options) *World {
	t.Helper()
	if o.AllowUpstream == nil {
		o.AllowUpstream = loopbackUpstream
	}
	w, err := New(context.Background(), o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return w
}

// proxyWorld starts a world with the proxy on a loopback port, besides
// the services o asks for.
func proxyWorld(t testing.TB, o Options) *World {
	t.Helper()
	o.Proxy = "127.0.0.1:0"
	return testWorld(t, o)
}

// proxyService returns the world's running proxy.
func (w *World) proxyService(t testing.TB) *proxyService {
	t.Helper()
	w.mu.Lock()
	defer w.mu.Unlock()
	p, ok := w.services["proxy"].(*proxyService)
	if !ok {
		t.Fatal("no proxy service")
	}
	return p
}

// blobBase is the random material blobs are cut from (a prime length, so
// consecutive blocks differ).
var blobBase = func() []byte {
	b := make([]byte, 65521)
	r := rand.New(rand.NewPCG(1, 7))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// blob is deterministic content of n bytes, cheap to build under -race.
func blob(n int) []byte {
	b := make([]byte, n)
	for off, k := 0, 0; off < n; k++ {
		start := (k * 7919) % len(blobBase)
		off += copy(b[off:], blobBase[start:])
	}
	return b
}

// origin serves /blob/<n> (n bytes, Range supported, Content-Length),
// /chunked/<n> (n bytes without a length), /echo (the request head as
// text) and /slow (headers, then waits for the client to leave).
func origin(t testing.TB, tlsOrigin bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/blob/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		http.ServeContent(w, r, "blob.bin", time.Unix(1_700_000_000, 0), bytes.NewReader(blob(n)))
	})
	mux.HandleFunc("/chunked/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.PathValue("n"))
		b := blob(n)
		for len(b) > 0 {
			k := min(len(b), 1000)
			_, _ = w.Write(b[:k])
			w.(http.Flusher).Flush()
			b = b[k:]
		}
	})
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, r.Method+" "+r.URL.RequestURI()+"\nrange="+r.Header.Get("Range")+"\naccept-encoding="+r.Header.Get("Accept-Encoding")+"\n")
	})
	mux.HandleFunc("/ClientWebService/client.asmx", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		_, _ = io.WriteString(w, `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><GetConfigResponse/></s:Body></s:Envelope>`)
	})
	var s *httptest.Server
	if tlsOrigin {
		s = httptest.NewTLSServer(mux)
	} else {
		s = httptest.NewServer(mux)
	}
	t.Cleanup(s.Close)
	return s
}

// client returns an HTTP client that goes through the world's proxy and
// trusts the TLS origin, if any.
func client(t testing.TB, w *World, tlsOrigin *httptest.Server, timeout time.Duration) *http.Client {
	t.Helper()
	pu := &url.URL{Scheme: "http", Host: w.Addrs().Proxy}
	tr := &http.Transport{Proxy: http.ProxyURL(pu), DisableCompression: true, MaxIdleConnsPerHost: 64}
	if tlsOrigin != nil {
		pool := x509.NewCertPool()
		pool.AddCert(tlsOrigin.Certificate())
		tr.TLSClientConfig = &tls.Config{RootCAs: pool}
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// spec builds a faults.Spec.
func spec(kind string, f faults.Fault, m faults.Match, when faults.When) faults.Spec {
	return faults.Spec{Kind: kind, Match: m, When: when, Fault: f}
}

func sum(b []byte) [32]byte { return sha256.Sum256(b) }

// openFDs counts this process's open descriptors, less pipes: the net
// package keeps the pipes of TCP splices in a pool of its own, released by
// the garbage collector, not by the proxy.
func openFDs(t testing.TB) int {
	t.Helper()
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count descriptors: %v", err)
	}
	n := 0
	for _, e := range es {
		if l, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.HasPrefix(l, "pipe:") {
			continue
		}
		n++
	}
	return n
}

// eventually polls cond until it holds or d passes, and reports whether
// it held.
func eventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if cond() {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return cond()
}

// waitFor polls cond until it holds, failing the test after 5s.
func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	if !eventually(5*time.Second, cond) {
		t.Fatal("condition not met within 5s")
	}
}

// closeWithin closes w and fails the test, saying what hangs, unless
// Close returns within 5s, and without an error.
func closeWithin(t testing.TB, w *World, what string) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- w.Close() }()
	select {
	case err := <-errc:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal(what)
	}
}

// rawProxyConn dials the proxy directly.
func rawProxyConn(t testing.TB, w *World) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("tcp", w.Addrs().Proxy, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
