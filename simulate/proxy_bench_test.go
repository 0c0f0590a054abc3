package simulate

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// The proxy benchmarks run against an in-process world by default. The
// script scripts/bench-proxy.sh runs them against separate processes
// (wufault serve, mitmproxy, tinyproxy) through these variables:
//
//	WUFAULT_BENCH_PROXIES    name=http://host:port,… proxies to compare (first: wufault)
//	WUFAULT_BENCH_CONTROL    control API of the external wufault (faults are set through it)
//	WUFAULT_BENCH_PROXY_PID  its process id (resident memory)
//	WUFAULT_BENCH_BYTES      download size (default 64 MiB)
//	WUFAULT_BENCH_TUNNELS    idle tunnels to open (default 1000)
//	WUFAULT_BENCH_IDLE_TARGET host:port that accepts and holds connections (default: in-process)
//	WUFAULT_BENCH_CONNS      concurrent connections of the precision runs (default 200)
//
// Everything talks to 127.0.0.1 only; every loop is bounded by b.N.

func envInt(name string, def int64) int64 {
	if v, err := strconv.ParseInt(os.Getenv(name), 10, 64); err == nil && v > 0 {
		return v
	}
	return def
}

type benchProxy struct {
	name    string
	url     *url.URL
	control string // control API base URL ("" when faults are set in-process)
	world   *World // in-process world, or nil
}

func benchProxies(b *testing.B) []benchProxy {
	b.Helper()
	var out []benchProxy
	if env := os.Getenv("WUFAULT_BENCH_PROXIES"); env != "" {
		for _, item := range strings.Split(env, ",") {
			name, raw, ok := strings.Cut(item, "=")
			u, err := url.Parse(raw)
			if !ok || err != nil {
				b.Fatalf("WUFAULT_BENCH_PROXIES: bad item %q", item)
			}
			out = append(out, benchProxy{name: name, url: u})
		}
		out[0].control = os.Getenv("WUFAULT_BENCH_CONTROL")
		return out
	}
	w := proxyWorld(b, Options{})
	return []benchProxy{{name: "wufault", url: &url.URL{Scheme: "http", Host: w.Addrs().Proxy}, world: w}}
}

// setFaults activates specs on the benchmarked wufault, in-process or
// through its control API.
func (p benchProxy) setFaults(b *testing.B, name string, specs []faults.Spec, js string) {
	b.Helper()
	if p.world != nil {
		p.world.Activate(name, 1, specs)
		return
	}
	if p.control == "" {
		b.Skip("no control API for the external wufault (WUFAULT_BENCH_CONTROL)")
	}
	req, _ := http.NewRequest(http.MethodPut, p.control+"/scenario", strings.NewReader(js))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("PUT /scenario: %d %s", resp.StatusCode, body)
	}
}

var benchChunk = bytes.Repeat([]byte("wufault-benchmark-payload-0123456789abcdef\n"), (1<<20)/43+1)[:1<<20]

// benchOrigins serves /bytes/N (N bytes with a Content-Length, written in
// 1 MiB slices) and /small, /stall, /latency (100 bytes), over HTTP and
// HTTPS.
func benchOrigins(b *testing.B) (plain, secure *httptest.Server) {
	b.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("/bytes/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.ParseInt(r.PathValue("n"), 10, 64)
		w.Header().Set("Content-Length", strconv.FormatInt(n, 10))
		w.Header().Set("Content-Type", "application/octet-stream")
		for n > 0 {
			k := min(n, int64(len(benchChunk)))
			if _, err := w.Write(benchChunk[:k]); err != nil {
				return
			}
			n -= k
		}
	})
	small := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = w.Write(benchChunk[:100])
	}
	mux.HandleFunc("/small", small)
	mux.HandleFunc("/stall", small)
	mux.HandleFunc("/latency", small)
	plain = httptest.NewServer(mux)
	secure = httptest.NewTLSServer(mux)
	secure.Config.ErrorLog = nil
	b.Cleanup(plain.Close)
	b.Cleanup(secure.Close)
	return plain, secure
}

// benchClient goes through proxy (nil: direct). Certificates are not
// checked: mitmproxy re-signs them, and a handshake is not what is measured.
func benchClient(proxy *url.URL, keepAlive bool) *http.Client {
	tr := &http.Transport{
		DisableCompression:  true,
		DisableKeepAlives:   !keepAlive,
		MaxIdleConnsPerHost: 1024,
		TLSClientConfig:     &tls.Config{InsecureSkipVerify: true},
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
		WriteBufferSize:     64 << 10,
		ReadBufferSize:      64 << 10,
	}
	if proxy != nil {
		tr.Proxy = http.ProxyURL(proxy)
	}
	return &http.Client{Transport: tr, Timeout: 10 * time.Minute}
}

// onlyWriter hides io.Discard's ReadFrom so CopyBuffer uses our buffer.
type onlyWriter struct{ io.Writer }

// BenchmarkDownload measures throughput of one large download: direct,
// then through each proxy in plain HTTP and in an HTTPS CONNECT tunnel.
func BenchmarkDownload(b *testing.B) {
	size := envInt("WUFAULT_BENCH_BYTES", 64<<20)
	plain, secure := benchOrigins(b)
	proxies := benchProxies(b)
	run := func(b *testing.B, c *http.Client, u string, pid string) {
		defer c.Transport.(*http.Transport).CloseIdleConnections()
		buf := make([]byte, 256<<10)
		b.SetBytes(size)
		cpu0, own0 := cpuTime(pid), cpuTime("self")
		b.ResetTimer()
		defer func() {
			b.StopTimer()
			gib := float64(size) * float64(b.N) / (1 << 30)
			if pid != "" {
				b.ReportMetric(float64((cpuTime(pid)-cpu0).Milliseconds())/gib, "proxy-cpu-ms/GiB")
			}
			b.ReportMetric(float64((cpuTime("self")-own0).Milliseconds())/gib, "self-cpu-ms/GiB")
		}()
		for range b.N {
			resp, err := c.Get(u)
			if err != nil {
				b.Fatal(err)
			}
			n, err := io.CopyBuffer(onlyWriter{io.Discard}, resp.Body, buf)
			resp.Body.Close()
			if err != nil || n != size {
				b.Fatalf("got %d of %d bytes: %v", n, size, err)
			}
		}
	}
	path := fmt.Sprintf("/bytes/%d", size)
	pids := map[string]string{}
	for _, item := range strings.Split(os.Getenv("WUFAULT_BENCH_PIDS"), ",") {
		if name, pid, ok := strings.Cut(item, "="); ok {
			pids[name] = pid
		}
	}
	b.Run("direct/http", func(b *testing.B) { run(b, benchClient(nil, true), plain.URL+path, "") })
	b.Run("direct/https", func(b *testing.B) { run(b, benchClient(nil, true), secure.URL+path, "") })
	for _, p := range proxies {
		b.Run(p.name+"/plain-http", func(b *testing.B) { run(b, benchClient(p.url, true), plain.URL+path, pids[p.name]) })
		b.Run(p.name+"/tunnel-https", func(b *testing.B) { run(b, benchClient(p.url, true), secure.URL+path, pids[p.name]) })
	}
}

// idleFaults are 20 rules that match nothing the benchmark sends, over
// every layer the proxy consults.
func idleFaults() ([]faults.Spec, string) {
	var specs []faults.Spec
	var js []string
	for n := range 5 {
		host := fmt.Sprintf("nomatch-%d.test", n)
		specs = append(specs,
			spec("tcp.reset", &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 10}}, faults.Match{Host: host}, faults.When{}),
			spec("tcp.latency", &faults.TCPLatency{Latency: profile.Duration(time.Second)}, faults.Match{Host: host}, faults.When{}),
			spec("http.status", &faults.HTTPStatus{Status: 503}, faults.Match{Host: host, Path: "/x/*"}, faults.When{}),
			spec("proxy.deny_connect", &faults.ProxyDenyConnect{}, faults.Match{Host: host}, faults.When{}),
		)
		js = append(js,
			fmt.Sprintf(`{"kind":"tcp.reset","at":"body","after_bytes":10,"match":{"host":%q}}`, host),
			fmt.Sprintf(`{"kind":"tcp.latency","latency":"1s","match":{"host":%q}}`, host),
			fmt.Sprintf(`{"kind":"http.status","status":503,"match":{"host":%q,"path":"/x/*"}}`, host),
			fmt.Sprintf(`{"kind":"proxy.deny_connect","match":{"host":%q}}`, host))
	}
	return specs, `{"name":"bench-idle-faults","faults":[` + strings.Join(js, ",") + `]}`
}

// BenchmarkSmallRequests measures small plain-HTTP requests per second
// through wufault on keep-alive connections, without faults and with 20
// rules that do not match. The two alternate in one-second rounds, in ABBA
// order (WUFAULT_BENCH_RPS_ROUNDS pairs, default 10) after a warm-up, so a
// drift in the machine's load hits both alike; b.N is not used (run it
// -benchtime 1x).
func BenchmarkSmallRequests(b *testing.B) {
	plain, _ := benchOrigins(b)
	p := benchProxies(b)[0]
	specs, js := idleFaults()
	rounds := int(envInt("WUFAULT_BENCH_RPS_ROUNDS", 10))
	c := benchClient(p.url, true)
	defer c.Transport.(*http.Transport).CloseIdleConnections()
	const workers = 16
	measure := func(d time.Duration) int64 {
		var total atomic.Int64
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		for range workers {
			wg.Go(func() {
				buf := make([]byte, 512)
				for time.Now().Before(deadline) {
					resp, err := c.Get(plain.URL + "/small")
					if err != nil {
						b.Error(err)
						return
					}
					n, _ := io.CopyBuffer(onlyWriter{io.Discard}, resp.Body, buf)
					resp.Body.Close()
					if n != 100 {
						b.Errorf("%d bytes", n)
						return
					}
					total.Add(1)
				}
			})
		}
		wg.Wait()
		return total.Load()
	}
	p.setFaults(b, "none", nil, `{"name":"bench-none"}`)
	measure(500 * time.Millisecond) // warm-up: connections, pools
	var none, idle int64
	b.ResetTimer()
	for r := range rounds {
		// ABBA order, so a drift in the machine's load cancels out.
		for k := range 2 {
			if (r+k)%2 == 0 {
				p.setFaults(b, "none", nil, `{"name":"bench-none"}`)
				none += measure(time.Second)
			} else {
				p.setFaults(b, "idle", specs, js)
				idle += measure(time.Second)
			}
		}
	}
	b.StopTimer()
	p.setFaults(b, "none", nil, `{"name":"bench-none"}`)
	b.ReportMetric(float64(none)/float64(rounds), "no-faults-req/s")
	b.ReportMetric(float64(idle)/float64(rounds), "idle-faults-req/s")
	b.ReportMetric((1-float64(idle)/float64(none))*100, "idle-cost-%")
}

// precision measures how exactly a timed fault acts under load: conns
// keep-alive connections are opened and warmed first, then each round
// sends one request on every connection at once. The error of a request is
// its time to the response headers minus nominal; the median of a round
// without the fault is reported beside it (what the machine adds anyway).
func precision(b *testing.B, p benchProxy, path string, nominal time.Duration, specs []faults.Spec, js string) []time.Duration {
	plain, _ := benchOrigins(b)
	conns := int(envInt("WUFAULT_BENCH_CONNS", 200))
	c := benchClient(p.url, true)
	defer c.Transport.(*http.Transport).CloseIdleConnections()
	round := func() []time.Duration {
		out := make([]time.Duration, conns)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for n := range conns {
			wg.Go(func() {
				<-start
				t0 := time.Now()
				resp, err := c.Get(plain.URL + path)
				if err != nil {
					b.Error(err)
					return
				}
				out[n] = time.Since(t0)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			})
		}
		close(start)
		wg.Wait()
		slices.Sort(out)
		return out
	}
	p.setFaults(b, "none", nil, `{"name":"bench-none"}`)
	round() // opens and warms the connections
	base := round()[conns/2]
	p.setFaults(b, "precision", specs, js)
	defer p.setFaults(b, "none", nil, `{"name":"bench-none"}`)
	var errs []time.Duration
	b.ResetTimer()
	for range b.N {
		for _, d := range round() {
			errs = append(errs, d-nominal)
		}
	}
	b.StopTimer()
	slices.Sort(errs)
	b.ReportMetric(float64(base.Microseconds())/1000, "baseline-p50-ms")
	return errs
}

func reportErrors(b *testing.B, errs []time.Duration) {
	if len(errs) == 0 {
		return
	}
	q := func(f float64) float64 { return float64(errs[int(f*float64(len(errs)-1))].Microseconds()) / 1000 }
	b.ReportMetric(q(0.5), "p50-err-ms")
	b.ReportMetric(q(0.99), "p99-err-ms")
	b.ReportMetric(q(0), "min-err-ms")
}

// BenchmarkStallPrecision: a 500 ms stall before the headers, on 200
// concurrent connections; the error is how much later than 500 ms (plus
// the unfaulted median) the headers arrive.
func BenchmarkStallPrecision(b *testing.B) {
	p := benchProxies(b)[0]
	errs := precision(b, p, "/stall", 500*time.Millisecond,
		[]faults.Spec{spec("tcp.stall", &faults.TCPStall{PhaseBound: faults.PhaseBound{At: profile.PhaseHeaders}, Duration: profile.Duration(500 * time.Millisecond)}, faults.Match{Path: "/stall"}, faults.When{})},
		`{"name":"bench-stall","faults":[{"kind":"tcp.stall","at":"headers","duration":"500ms","match":{"path":"/stall"}}]}`)
	reportErrors(b, errs)
}

// BenchmarkLatencyPrecision: 100 ms of latency on the answer, on 200
// concurrent connections.
func BenchmarkLatencyPrecision(b *testing.B) {
	p := benchProxies(b)[0]
	errs := precision(b, p, "/latency", 100*time.Millisecond,
		[]faults.Spec{spec("tcp.latency", &faults.TCPLatency{Latency: profile.Duration(100 * time.Millisecond)}, faults.Match{Path: "/latency"}, faults.When{})},
		`{"name":"bench-latency","faults":[{"kind":"tcp.latency","latency":"100ms","match":{"path":"/latency"}}]}`)
	reportErrors(b, errs)
}

// cpuTime is the user+system CPU time a process has used ("self" for
// this one); 0 when unknown. Children (mitmproxy's, tinyproxy's workers)
// are counted once they are reaped, so the script reads the whole group.
func cpuTime(pid string) time.Duration {
	if pid == "" {
		return 0
	}
	var total time.Duration
	for _, p := range strings.Split(pid, "+") {
		b, err := os.ReadFile("/proc/" + p + "/stat")
		if err != nil {
			continue
		}
		// Fields after the command (which may hold spaces) start at ") ".
		_, rest, ok := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * time.Second / clockTicks
	}
	return total
}

// clockTicks is USER_HZ, 100 on every Linux this runs on.
const clockTicks = 100

// rssKB reads a process's resident set size.
func rssKB(pid string) int64 {
	b, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return n
		}
	}
	return -1
}

// BenchmarkIdleTunnels opens WUFAULT_BENCH_TUNNELS CONNECT tunnels and
// leaves them idle, then reports the proxy's resident memory (the external
// process when WUFAULT_BENCH_PROXY_PID is set, else this whole process,
// client and origin included).
func BenchmarkIdleTunnels(b *testing.B) {
	n := int(envInt("WUFAULT_BENCH_TUNNELS", 1000))
	p := benchProxies(b)[0]
	target := os.Getenv("WUFAULT_BENCH_IDLE_TARGET")
	if target == "" {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		var held []net.Conn
		var mu sync.Mutex
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				mu.Lock()
				held = append(held, c)
				mu.Unlock()
			}
		}()
		b.Cleanup(func() {
			l.Close()
			mu.Lock()
			for _, c := range held {
				c.Close()
			}
			mu.Unlock()
		})
		target = l.Addr().String()
	}
	pid := os.Getenv("WUFAULT_BENCH_PROXY_PID")
	if pid == "" {
		pid = strconv.Itoa(os.Getpid())
	}
	for range b.N {
		before := rssKB(pid)
		conns := make([]net.Conn, n)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		var wg sync.WaitGroup
		sem := make(chan struct{}, 64)
		var failed sync.Once
		for i := range n {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				var d net.Dialer
				c, err := d.DialContext(ctx, "tcp", p.url.Host)
				if err == nil {
					_ = c.SetDeadline(time.Now().Add(time.Minute))
					fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", target, target)
					var resp *http.Response
					resp, err = http.ReadResponse(bufio.NewReader(c), &http.Request{Method: http.MethodConnect})
					if err == nil && resp.StatusCode != 200 {
						err = fmt.Errorf("CONNECT: %s", resp.Status)
					}
					_ = c.SetDeadline(time.Time{})
				}
				if err != nil {
					failed.Do(func() { b.Errorf("tunnel %d: %v", i, err) })
					if c != nil {
						c.Close()
					}
					return
				}
				conns[i] = c
			})
		}
		wg.Wait()
		cancel()
		time.Sleep(time.Second) // let the proxy settle (goroutines parked, buffers back in the pool)
		after := rssKB(pid)
		open := 0
		for _, c := range conns {
			if c != nil {
				open++
				c.Close()
			}
		}
		b.ReportMetric(float64(open), "tunnels")
		b.ReportMetric(float64(after)/1024, "rss-MB")
		b.ReportMetric(float64(after-before)/float64(max(open, 1)), "KB/tunnel")
	}
}

// BenchmarkRuleSelection is what an active scenario costs a plain request
// whose rules do not match: the three selections ServeHTTP makes, over 20
// idle rules.
func BenchmarkRuleSelection(b *testing.B) {
	specs, _ := idleFaults()
	set := faults.NewSet(specs, 1, nil)
	t := faults.Target{Host: "127.0.0.1:41234", Path: "/small", Method: http.MethodGet, Class: profile.ClassOf("", "/small")}
	b.ReportAllocs()
	for b.Loop() {
		if len(set.SelectFunc("tcp", t, momentPlain.keep))+len(set.Select("http", t))+len(set.Select("proxy", t)) != 0 {
			b.Fatal("an idle rule matched")
		}
	}
}
