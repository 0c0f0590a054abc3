package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

type config struct {
	wufault    string
	duration   time.Duration
	clients    int
	swapEvery  time.Duration
	think      time.Duration
	margin     int
	releaseMax time.Duration
	rssGrowth  int64
	rssMax     int64
	workDir    string
}

func main() {
	var c config
	var growthMB, maxMB int64
	flag.StringVar(&c.wufault, "wufault", "", "the wufault binary to run (required)")
	flag.DurationVar(&c.duration, "duration", 10*time.Minute, "how long the load runs (at most 1h)")
	flag.IntVar(&c.clients, "clients", 1000, "concurrent clients: 4 in 10 plain HTTP, 3 CONNECT, 3 DNS (at most 5000)")
	flag.DurationVar(&c.swapEvery, "swap-every", 500*time.Millisecond, "time between scenario swaps")
	flag.DurationVar(&c.think, "think", 10*time.Millisecond, "mean pause of a client between two requests")
	flag.IntVar(&c.margin, "leak-margin", 40, "goroutines and descriptors the world may keep above its baseline after the load")
	flag.DurationVar(&c.releaseMax, "release-wait", 60*time.Second, "how long after the load the world has to come back to its baseline")
	flag.Int64Var(&growthMB, "rss-growth", 64, "MiB the world's RSS may be above its baseline after the load")
	flag.Int64Var(&maxMB, "rss-max", 1024, "MiB the world's RSS may reach under load")
	flag.StringVar(&c.workDir, "dir", "", "directory for the world's state, ready file and log (default: a temporary one, removed)")
	flag.Parse()
	c.rssGrowth, c.rssMax = growthMB<<20, maxMB<<20
	if c.wufault == "" || c.duration <= 0 || c.duration > time.Hour || c.clients < 10 || c.clients > 5000 || c.swapEvery <= 0 {
		fmt.Fprintln(os.Stderr, "soak: want -wufault PATH, 0 < -duration <= 1h, 10 <= -clients <= 5000, -swap-every > 0")
		os.Exit(2)
	}
	ok, err := run(c)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// blobBase is what /blob/<n> serves the first n bytes of.
var blobBase = func() []byte {
	b := make([]byte, 64<<10)
	r := mrand.New(mrand.NewPCG(19, 1))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

// originMux is what both origins serve.
func originMux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/blob/{n}", func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.PathValue("n"))
		if err != nil || n < 0 || n > len(blobBase) {
			http.Error(w, "bad size", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(n))
		_, _ = w.Write(blobBase[:n])
	})
	mux.HandleFunc("/fault/{x}", func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	mux.HandleFunc("POST /echo", func(w http.ResponseWriter, r *http.Request) {
		// Read whole before answering: net/http's server does not read a
		// request body on once the answer has begun (no full duplex).
		b, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_, _ = w.Write(b)
	})
	return mux
}

// startOrigin serves originMux on addr, over TLS when cert is set.
func startOrigin(addr string, cert *tls.Certificate) (string, func(), error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: originMux(), ReadHeaderTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: nil, TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	if cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*cert}})
	}
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// selfSigned is a certificate for ip, and a pool that trusts it.
func selfSigned(ip string) (*tls.Certificate, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "soak origin"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(48 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP(ip)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool, nil
}

// addrs is the world's ready file.
type addrs struct {
	Proxy   string `json:"proxy"`
	DNS     string `json:"dns"`
	Control string `json:"control"`
}

// sample is one scrape of the world's /metrics.
type sample struct {
	at                  time.Time
	goroutines, fds     int
	rss                 int64
	upstreamErrs, cErrs float64
}

// scrape reads the figures the soak watches from /metrics, on a
// connection of its own that it closes (so a scrape does not count
// itself twice).
func scrape(control string) (sample, error) {
	c := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Get("http://" + control + "/metrics")
	if err != nil {
		return sample{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return sample{}, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	s := sample{at: time.Now(), goroutines: -1, fds: -1, rss: -1}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, val, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
		if err != nil {
			continue
		}
		metric, _, _ := strings.Cut(name, "{")
		switch metric {
		case "go_goroutines":
			s.goroutines = int(v)
		case "process_open_fds":
			s.fds = int(v)
		case "process_resident_memory_bytes":
			s.rss = int64(v)
		case "wufault_upstream_errors_total":
			s.upstreamErrs += v
		case "wufault_client_errors_total":
			s.cErrs += v
		}
	}
	if err := sc.Err(); err != nil {
		return sample{}, err
	}
	if s.goroutines < 0 || s.fds < 0 || s.rss < 0 {
		return sample{}, errors.New("/metrics lacks go_goroutines, process_open_fds or process_resident_memory_bytes")
	}
	return s, nil
}

// tally counts what the clients saw.
type tally struct {
	plain, connect, dnsq atomic.Int64 // answers as expected
	http503, nxdomain    atomic.Int64 // of which the scenario's faults
	dnsRetries           atomic.Int64 // UDP queries sent again after 2 s without an answer
	swaps                atomic.Int64
	errs                 atomic.Int64

	mu      sync.Mutex
	samples map[string]int // error text (numbers cut) → count
}

func (t *tally) fail(format string, args ...any) {
	t.errs.Add(1)
	msg := fmt.Sprintf(format, args...)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.samples) < 50 {
		t.samples[msg]++
	}
}

// The scenarios the swapper cycles through. The clients accept their
// faults on the one path or name each targets, and nowhere else.
const (
	scenario503 = `name: soak-503
faults:
  - kind: http.status
    match: {host: 127.0.0.1, path: "/fault/*"}
    status: 503
`
	scenarioNX = `name: soak-nx
faults:
  - kind: dns.nxdomain
    match: {host: nx.soak.lab}
`
	scenarioBoth = `name: soak-both
faults:
  - kind: http.status
    match: {host: 127.0.0.1, path: "/fault/*"}
    status: 503
  - kind: dns.nxdomain
    match: {host: nx.soak.lab}
`
)

// swap is one step of the swapper's cycle.
func swap(c *http.Client, control string, step int) error {
	var req *http.Request
	var err error
	switch step % 5 {
	case 0:
		req, err = http.NewRequest(http.MethodPut, "http://"+control+"/scenario", strings.NewReader(scenario503))
	case 1:
		req, err = http.NewRequest(http.MethodPut, "http://"+control+"/scenario", strings.NewReader(scenarioNX))
	case 2:
		req, err = http.NewRequest(http.MethodDelete, "http://"+control+"/scenario", nil)
	case 3:
		req, err = http.NewRequest(http.MethodPut, "http://"+control+"/scenario", strings.NewReader(scenarioBoth))
	default:
		req, err = http.NewRequest(http.MethodPut, "http://"+control+"/scenario?name=healthy-lab", nil)
	}
	if err != nil {
		return err
	}
	if req.Body != nil {
		req.Header.Set("Content-Type", "application/yaml")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s %s", req.Method, req.URL.RequestURI(), resp.Status, bytes.TrimSpace(b))
	}
	return nil
}

// pause is a client's think time: uniform in [0, 2*mean).
func pause(r *mrand.Rand, mean time.Duration) {
	if mean > 0 {
		time.Sleep(time.Duration(r.Int64N(int64(2 * mean))))
	}
}

// httpClient is one client's own connections, through the proxy.
func httpClient(proxy string, roots *x509.CertPool) (*http.Client, *http.Transport) {
	tr := &http.Transport{
		Proxy:               http.ProxyURL(&url.URL{Scheme: "http", Host: proxy}),
		TLSClientConfig:     &tls.Config{RootCAs: roots},
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
		TLSNextProto:        map[string]func(string, *tls.Conn) http.RoundTripper{},
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}, tr
}

// get fetches url and checks the answer: the blob's bytes, or for /fault/
// "ok" or the scenario's 503.
func get(c *http.Client, u string, want []byte, fault bool) (is503 bool, err error) {
	resp, err := c.Get(u)
	if err != nil {
		return false, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return false, fmt.Errorf("GET %s: %s, body: %w", u, resp.Status, err)
	}
	switch {
	case fault && resp.StatusCode == http.StatusServiceUnavailable:
		return true, nil
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("GET %s: %s", u, resp.Status)
	case !bytes.Equal(b, want):
		return false, fmt.Errorf("GET %s: %d bytes, not the %d expected", u, len(b), len(want))
	}
	return false, nil
}

func plainClient(ctx context.Context, cfg config, a addrs, origin string, t *tally, r *mrand.Rand) {
	c, tr := httpClient(a.Proxy, nil)
	defer tr.CloseIdleConnections()
	for n := 1; ctx.Err() == nil; n++ {
		switch k := r.IntN(10); {
		case k < 6:
			size := r.IntN(len(blobBase)) + 1
			if _, err := get(c, fmt.Sprintf("http://%s/blob/%d", origin, size), blobBase[:size], false); err != nil {
				t.fail("plain: %v", err)
				continue
			}
		case k < 8:
			is503, err := get(c, fmt.Sprintf("http://%s/fault/%d", origin, r.IntN(100)), []byte("ok"), true)
			if err != nil {
				t.fail("plain: %v", err)
				continue
			}
			if is503 {
				t.http503.Add(1)
			}
		default:
			body := blobBase[:r.IntN(4096)+1]
			resp, err := c.Post("http://"+origin+"/echo", "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				t.fail("plain: %v", err)
				continue
			}
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK || !bytes.Equal(b, body) {
				t.fail("plain: POST /echo: %s, %d of %d bytes back, %v", resp.Status, len(b), len(body), err)
				continue
			}
		}
		t.plain.Add(1)
		if n%100 == 0 {
			tr.CloseIdleConnections() // a new connection now and then
		}
		pause(r, cfg.think)
	}
}

func connectClient(ctx context.Context, cfg config, a addrs, origin string, roots *x509.CertPool, t *tally, r *mrand.Rand) {
	c, tr := httpClient(a.Proxy, roots)
	defer tr.CloseIdleConnections()
	for n := 1; ctx.Err() == nil; n++ {
		size := r.IntN(len(blobBase)) + 1
		if _, err := get(c, fmt.Sprintf("https://%s/blob/%d", origin, size), blobBase[:size], false); err != nil {
			t.fail("connect: %v", err)
			continue
		}
		t.connect.Add(1)
		if n%50 == 0 {
			tr.CloseIdleConnections() // a new tunnel now and then
		}
		pause(r, cfg.think)
	}
}

// dnsClient asks the world's DNS server for ok.soak.lab (a lab-zone name:
// an address, always) and nx.soak.lab (an address, or NXDOMAIN while a
// scenario says so), over a UDP socket of its own, as a stub resolver
// does: a query without an answer after 2 s is sent again, three times in
// all.
func dnsClient(ctx context.Context, cfg config, a addrs, t *tally, r *mrand.Rand) {
	dc := &dns.Client{Net: "udp", Timeout: 2 * time.Second}
	var conn *dns.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	for n := 1; ctx.Err() == nil; n++ {
		if conn == nil {
			var err error
			if conn, err = dc.Dial(a.DNS); err != nil {
				t.fail("dns: dial: %v", err)
				time.Sleep(time.Second)
				continue
			}
		}
		name := "ok.soak.lab."
		if r.IntN(2) == 0 {
			name = "nx.soak.lab."
		}
		q := new(dns.Msg)
		q.SetQuestion(name, dns.TypeA)
		var ans *dns.Msg
		var err error
		for try := 0; try < 3; try++ {
			if try > 0 {
				t.dnsRetries.Add(1)
			}
			q.Id = dns.Id()
			if ans, _, err = dc.ExchangeWithConn(q, conn); err == nil {
				break
			}
			var ne net.Error
			if !errors.As(err, &ne) || !ne.Timeout() {
				break
			}
		}
		switch {
		case err != nil:
			t.fail("dns: %s: %v", name, err)
			conn.Close()
			conn = nil
			continue
		case ans.Rcode == dns.RcodeNameError && name == "nx.soak.lab.":
			t.nxdomain.Add(1)
		case ans.Rcode != dns.RcodeSuccess || len(ans.Answer) == 0:
			t.fail("dns: %s: %s with %d answers", name, dns.RcodeToString[ans.Rcode], len(ans.Answer))
			continue
		}
		t.dnsq.Add(1)
		if n%200 == 0 {
			conn.Close() // a new socket now and then
			conn = nil
		}
		pause(r, cfg.think)
	}
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

func run(cfg config) (bool, error) {
	dir := cfg.workDir
	if dir == "" {
		d, err := os.MkdirTemp("", "wufault-soak-")
		if err != nil {
			return false, err
		}
		defer os.RemoveAll(d)
		dir = d
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	cert, roots, err := selfSigned("127.0.0.2")
	if err != nil {
		return false, err
	}
	plainAddr, stopPlain, err := startOrigin("127.0.0.1:0", nil)
	if err != nil {
		return false, err
	}
	defer stopPlain()
	tlsAddr, stopTLS, err := startOrigin("127.0.0.2:0", cert)
	if err != nil {
		return false, fmt.Errorf("an origin on 127.0.0.2: %w", err)
	}
	defer stopTLS()

	// The world.
	ready := filepath.Join(dir, "ready.json")
	logf, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		return false, err
	}
	defer logf.Close()
	cmd := exec.Command(cfg.wufault, "--state-dir", filepath.Join(dir, "state"), "serve",
		"--proxy", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--upstream-http", "127.0.0.1:0",
		"--upstream-https", "127.0.0.1:0", "--control", "127.0.0.1:0", "--ready-file", ready, "--quiet",
		"--allow-upstream", "127.0.0.1/32", "--allow-upstream", "127.0.0.2/32")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return false, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			_ = cmd.Process.Kill()
			<-exited
		}
	}()
	var a addrs
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if b, err := os.ReadFile(ready); err == nil && json.Unmarshal(b, &a) == nil && a.Control != "" {
			break
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("wufault serve wrote no ready file within 30s (log: %s)", logf.Name())
		}
	}
	fmt.Printf("soak: %d clients for %v, swaps every %v; world pid %d (proxy %s, dns %s, control %s)\n",
		cfg.clients, cfg.duration, cfg.swapEvery, cmd.Process.Pid, a.Proxy, a.DNS, a.Control)
	fmt.Printf("soak: machine: %d CPUs, %s; load average %s\n", runtime.NumCPU(), cpuModel(), loadavg())

	time.Sleep(2 * time.Second)
	base, err := scrape(a.Control)
	if err != nil {
		return false, err
	}
	loadStart := loadavg()

	// The load.
	var t tally
	t.samples = map[string]int{}
	ctx, cancel := context.WithTimeout(context.Background(), cfg.duration)
	defer cancel()
	var wg sync.WaitGroup
	var kinds [3]int // plain, CONNECT, DNS
	for i := range cfg.clients {
		r := mrand.New(mrand.NewPCG(uint64(i), 19))
		switch i % 10 {
		case 0, 1, 2, 3:
			kinds[0]++
			wg.Go(func() { plainClient(ctx, cfg, a, plainAddr, &t, r) })
		case 4, 5, 6:
			kinds[1]++
			wg.Go(func() { connectClient(ctx, cfg, a, tlsAddr, roots, &t, r) })
		default:
			kinds[2]++
			wg.Go(func() { dnsClient(ctx, cfg, a, &t, r) })
		}
	}
	var aux sync.WaitGroup
	aux.Go(func() {
		c := &http.Client{Timeout: 30 * time.Second}
		tick := time.NewTicker(cfg.swapEvery)
		defer tick.Stop()
		for step := 0; ; step++ {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			if err := swap(c, a.Control, step); err != nil {
				t.fail("swap: %v", err)
				continue
			}
			t.swaps.Add(1)
		}
	})
	var peak sample
	var peakLoad float64
	var scrapeErrs atomic.Int64
	aux.Go(func() {
		tick := time.NewTicker(5 * time.Second)
		defer tick.Stop()
		start := time.Now()
		last := start
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			s, err := scrape(a.Control)
			if err != nil {
				scrapeErrs.Add(1)
				t.fail("metrics: %v", err)
				continue
			}
			peak.goroutines = max(peak.goroutines, s.goroutines)
			peak.fds = max(peak.fds, s.fds)
			if s.rss > peak.rss {
				peak.rss = s.rss
			}
			if la, err := strconv.ParseFloat(strings.Fields(loadavg() + " ?")[0], 64); err == nil {
				peakLoad = max(peakLoad, la)
			}
			if time.Since(last) >= 30*time.Second {
				last = time.Now()
				fmt.Printf("soak: %4.0fs  requests %d  errors %d  swaps %d  goroutines %d  fds %d  rss %s  load %s\n",
					time.Since(start).Seconds(), t.plain.Load()+t.connect.Load()+t.dnsq.Load(), t.errs.Load(),
					t.swaps.Load(), s.goroutines, s.fds, mib(s.rss), loadavg())
			}
		}
	})
	loadT0 := time.Now()
	wg.Wait()
	aux.Wait()
	loadTook := time.Since(loadT0)
	loadEnd := loadavg()

	// After the load: back to the baseline?
	after := time.Now()
	var end sample
	back := false
	for !back && time.Since(after) < cfg.releaseMax {
		time.Sleep(time.Second)
		if end, err = scrape(a.Control); err != nil {
			return false, err
		}
		back = end.goroutines <= base.goroutines+cfg.margin && end.fds <= base.fds+cfg.margin
	}
	backAfter := time.Since(after)
	if back {
		// RSS settles after the world's release; the figures a moment on.
		time.Sleep(5 * time.Second)
		if end, err = scrape(a.Control); err != nil {
			return false, err
		}
	}

	// The world stops cleanly on SIGTERM.
	_ = cmd.Process.Signal(syscall.SIGTERM)
	var exitErr error
	select {
	case exitErr = <-exited:
		stopped = true
	case <-time.After(10 * time.Second):
		exitErr = errors.New("still running 10s after SIGTERM")
	}

	// The figures.
	requests := t.plain.Load() + t.connect.Load() + t.dnsq.Load()
	fmt.Printf("\n| figure | value |\n|---|---|\n")
	row := func(k, f string, args ...any) { fmt.Printf("| %s | %s |\n", k, fmt.Sprintf(f, args...)) }
	row("machine", "%d CPUs, %s", runtime.NumCPU(), cpuModel())
	row("load average (1, 5, 15 min)", "start %s; peak 1-min %.2f; end %s", loadStart, peakLoad, loadEnd)
	row("clients", "%d (plain HTTP %d, CONNECT %d, DNS %d), think time %v mean", cfg.clients, kinds[0], kinds[1], kinds[2], cfg.think)
	row("load", "%v", loadTook.Round(time.Second))
	row("requests answered as expected", "%d (plain HTTP %d, CONNECT %d, DNS %d): %.0f/s", requests,
		t.plain.Load(), t.connect.Load(), t.dnsq.Load(), float64(requests)/loadTook.Seconds())
	row("faults seen", "%d HTTP 503 on /fault/, %d NXDOMAIN for nx.soak.lab", t.http503.Load(), t.nxdomain.Load())
	row("DNS queries sent again (2 s without an answer)", "%d", t.dnsRetries.Load())
	row("scenario swaps", "%d", t.swaps.Load())
	row("unexpected errors", "%d", t.errs.Load())
	row("world's upstream / client errors (metrics)", "%.0f / %.0f", end.upstreamErrs, end.cErrs)
	row("goroutines", "baseline %d, peak %d, after %d", base.goroutines, peak.goroutines, end.goroutines)
	row("open fds", "baseline %d, peak %d, after %d", base.fds, peak.fds, end.fds)
	row("RSS", "baseline %s, peak %s, after %s", mib(base.rss), mib(peak.rss), mib(end.rss))
	row("back to baseline", "%v after the load (margin %d)", backAfter.Round(100*time.Millisecond), cfg.margin)
	row("SIGTERM", "%v", func() string {
		if exitErr != nil {
			return exitErr.Error()
		}
		return "exit 0"
	}())
	fmt.Println()

	var failures []string
	if n := t.errs.Load(); n > 0 {
		failures = append(failures, fmt.Sprintf("%d unexpected errors", n))
		keys := make([]string, 0, len(t.samples))
		for k := range t.samples {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Printf("soak: error (%d×): %s\n", t.samples[k], k)
		}
	}
	if end.upstreamErrs > 0 {
		failures = append(failures, fmt.Sprintf("the world counted %.0f upstream errors (its origins are healthy)", end.upstreamErrs))
	}
	if requests == 0 || t.http503.Load() == 0 || t.nxdomain.Load() == 0 {
		failures = append(failures, "a scenario's fault never showed (503s, NXDOMAINs): the swaps did not apply")
	}
	if !back {
		failures = append(failures, fmt.Sprintf("not back to baseline %v after the load: goroutines %d (baseline %d), fds %d (baseline %d), margin %d",
			cfg.releaseMax, end.goroutines, base.goroutines, end.fds, base.fds, cfg.margin))
	}
	if end.rss > base.rss+cfg.rssGrowth {
		failures = append(failures, fmt.Sprintf("RSS after the load %s, more than %s above the baseline %s", mib(end.rss), mib(cfg.rssGrowth), mib(base.rss)))
	}
	if peak.rss > cfg.rssMax {
		failures = append(failures, fmt.Sprintf("RSS under load reached %s, past %s", mib(peak.rss), mib(cfg.rssMax)))
	}
	if exitErr != nil {
		failures = append(failures, "wufault serve on SIGTERM: "+exitErr.Error())
	}
	for _, f := range failures {
		fmt.Println("soak: FAIL:", f)
	}
	if len(failures) > 0 {
		if cfg.workDir != "" {
			fmt.Println("soak: the world's log:", logf.Name())
		} else {
			fmt.Println("soak: run again with -dir DIR to keep the world's log")
		}
		return false, nil
	}
	fmt.Println("soak: PASS")
	return true, nil
}
