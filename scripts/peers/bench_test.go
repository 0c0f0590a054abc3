package peers

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The benchmark is driven by the environment (scripts/bench-peers.sh):
//
//	WUFAULT_PEERS         name|mode|address|pid;… one path per item. Modes:
//	                      direct (no proxy), plain (absolute-URI GET through
//	                      the proxy), connect (CONNECT tunnel, HTTP inside),
//	                      forward (a TCP forwarder standing in for the origin)
//	WUFAULT_PEERS_ORIGIN  address the origin listens on (default 127.0.0.1:0)
//	WUFAULT_PEERS_BYTES   bytes per download (default 64 MiB)
//
// Without WUFAULT_PEERS it measures the direct path only, so `go test
// -bench Peers` works anywhere.

type path struct {
	name, mode, addr, pid string
}

func paths(b *testing.B) []path {
	env := os.Getenv("WUFAULT_PEERS")
	if env == "" {
		return []path{{name: "direct", mode: "direct"}}
	}
	var out []path
	for _, item := range strings.Split(env, ";") {
		f := strings.Split(item, "|")
		if len(f) != 4 {
			b.Fatalf("WUFAULT_PEERS: item %q: want name|mode|address|pid", item)
		}
		switch f[1] {
		case "direct", "plain", "connect", "forward":
		default:
			b.Fatalf("WUFAULT_PEERS: item %q: unknown mode %q", item, f[1])
		}
		out = append(out, path{f[0], f[1], f[2], f[3]})
	}
	return out
}

// chunk is what the origin sends, 1 MiB at a time.
var chunk = bytes.Repeat([]byte("wufault-peers-payload-0123456789abcdefghijklmnopqrstuvwxyz-0123\n"), 1<<14)

// origin serves GET /bytes/N: N bytes with a Content-Length.
func origin(b *testing.B) string {
	addr := os.Getenv("WUFAULT_PEERS_ORIGIN")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		b.Fatalf("origin: %v", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/bytes/"), 10, 64)
		if err != nil || n < 0 {
			http.Error(w, "want /bytes/N", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		w.Header().Set("Content-Type", "application/octet-stream")
		for n > 0 {
			k := min(n, int64(len(chunk)))
			if _, err := w.Write(chunk[:k]); err != nil {
				return
			}
			n -= k
		}
	})}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() { _ = srv.Close() })
	return ln.Addr().String()
}

// client returns an HTTP client for p and the URL prefix to fetch from.
func client(p path, origin string) (*http.Client, string) {
	tr := &http.Transport{
		DisableCompression:  true,
		MaxIdleConnsPerHost: 4,
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	base := "http://" + origin
	switch p.mode {
	case "plain":
		tr.Proxy = http.ProxyURL(mustURL("http://" + p.addr))
	case "connect":
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return dialConnect(ctx, p.addr, addr)
		}
	case "forward":
		base = "http://" + p.addr
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Minute}, base
}

// dialConnect opens a CONNECT tunnel to target through proxy.
func dialConnect(ctx context.Context, proxy, target string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", proxy)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		c.Close()
		return nil, fmt.Errorf("connect through %s: %w", proxy, err)
	}
	if resp.StatusCode != http.StatusOK {
		c.Close()
		return nil, fmt.Errorf("connect through %s: %s", proxy, resp.Status)
	}
	if br.Buffered() > 0 {
		c.Close()
		return nil, fmt.Errorf("connect through %s: bytes after the 200", proxy)
	}
	return c, nil
}

// cpu is the user+system time of process pid ("self": this one), from
// /proc (Linux; zero elsewhere).
func cpu(pid string) time.Duration {
	if pid == "" || pid == "-" {
		return 0
	}
	raw, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

// BenchmarkPeers downloads WUFAULT_PEERS_BYTES through each path and
// reports MB/s and the proxy process's CPU seconds per GiB.
func BenchmarkPeers(b *testing.B) {
	size, err := strconv.ParseInt(envOr("WUFAULT_PEERS_BYTES", strconv.Itoa(64<<20)), 10, 64)
	if err != nil || size <= 0 {
		b.Fatalf("WUFAULT_PEERS_BYTES: want a positive byte count")
	}
	org := origin(b)
	buf := make([]byte, 256<<10)
	for _, p := range paths(b) {
		b.Run(p.name, func(b *testing.B) {
			c, base := client(p, org)
			defer c.Transport.(*http.Transport).CloseIdleConnections()
			u := fmt.Sprintf("%s/bytes/%d", base, size)
			b.SetBytes(size)
			c0, s0 := cpu(p.pid), cpu("self")
			b.ResetTimer()
			for range b.N {
				resp, err := c.Get(u)
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.CopyBuffer(writerOnly{io.Discard}, resp.Body, buf)
				resp.Body.Close()
				if err != nil || n != size {
					b.Fatalf("%s: got %d of %d bytes: %v", p.name, n, size, err)
				}
			}
			b.StopTimer()
			gib := float64(size) * float64(b.N) / (1 << 30)
			if p.pid != "" && p.pid != "-" {
				b.ReportMetric((cpu(p.pid)-c0).Seconds()/gib, "proxy-cpu-s/GiB")
			}
			b.ReportMetric((cpu("self")-s0).Seconds()/gib, "client-origin-cpu-s/GiB")
		})
	}
}

// writerOnly hides io.Discard's ReadFrom so the copy uses buf.
type writerOnly struct{ io.Writer }

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
