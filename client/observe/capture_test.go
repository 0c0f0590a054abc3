//go:build linux

package observe_test

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
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/internal/testnet"
	"github.com/wufault/wufault/internal/worldtest"
)

var update = flag.Bool("update", false, "rewrite testdata/pcap/*.pcap from live captures")

// syncBuffer is a bytes.Buffer safe for the capture goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Len()
}

func (s *syncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// capture runs fn while capturing the given loopback ports and returns
// the pcap. It skips the test when the process may not capture.
func capture(t *testing.T, ports []int, fn func()) []byte {
	t.Helper()
	var buf syncBuffer
	stop, err := observe.Capture(context.Background(), "lo", ports, &buf)
	if errors.Is(err, observe.ErrCapturePermission) {
		t.Skipf("live capture on lo needs root or CAP_NET_RAW: %v", err)
	}
	if err != nil {
		t.Fatalf("Capture: %v", err)
	}
	fn()
	// Let the capture goroutine drain the socket: wait until the file
	// stops growing (bounded).
	last, stable := -1, 0
	for i := 0; i < 100 && stable < 3; i++ {
		time.Sleep(30 * time.Millisecond)
		if n := buf.Len(); n == last {
			stable++
		} else {
			last, stable = n, 0
		}
	}
	if err := stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	return buf.Bytes()
}

func analyze(t *testing.T, name string, pcap []byte, o observe.AnalyzeOptions) *observe.Analysis {
	t.Helper()
	if *update {
		if err := os.WriteFile(filepath.Join("testdata", "pcap", name+".pcap"), pcap, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	an, err := observe.Analyze(bytes.NewReader(pcap), name, o)
	if err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	return an
}

func listen(t *testing.T) (net.Listener, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, ln.Addr().(*net.TCPAddr).Port
}

// readRequest reads one HTTP request head from c.
func readRequest(c net.Conn) (*http.Request, error) {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err == nil {
		io.Copy(io.Discard, req.Body)
	}
	return req, err
}

func httpClient(timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
}

const body4k = 4096

func TestAnalyzeLiveFaults(t *testing.T) {
	t.Run("tcp-reset-mid-body", func(t *testing.T) {
		ln, port := listen(t)
		head := fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n", body4k)
		testnet.Serve(t, ln, func(c net.Conn) {
			if _, err := readRequest(c); err != nil {
				return
			}
			f := &faults.TCPReset{PhaseBound: faults.PhaseBound{AfterBytes: int64(len(head) + 512)}}
			fc := f.WrapConn(c, func(string) {})
			fc.Write([]byte(head))
			fc.Write(bytes.Repeat([]byte("x"), body4k))
		})
		pcap := capture(t, []int{port}, func() {
			_, err := io.ReadAll(must(httpClient(5 * time.Second).Get(fmt.Sprintf("http://127.0.0.1:%d/Content/B6/A2E8C22844A4E6926F9C841B0D5AEEC8400811B6.cab", port))).Body)
			if err == nil {
				t.Error("client read the whole body")
			}
		})
		an := analyze(t, "tcp-reset-mid-body", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigTCPReset, 0x80072EFE, func(f observe.Finding) error {
			if f.Who != "server" || f.Phase != "body" || f.Bytes != int64(len(head)+512) || f.Class != profile.ClassDownload {
				return fmt.Errorf("who %q phase %q bytes %d class %q, want server body %d download", f.Who, f.Phase, f.Bytes, f.Class, len(head)+512)
			}
			return nil
		})
	})

	t.Run("tcp-fin-mid-body", func(t *testing.T) {
		ln, port := listen(t)
		head := "HTTP/1.1 200 OK\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: 4096\r\n\r\n"
		testnet.Serve(t, ln, func(c net.Conn) {
			if _, err := readRequest(c); err != nil {
				return
			}
			fc := (&faults.TCPClose{PhaseBound: faults.PhaseBound{AfterBytes: int64(len(head) + 100)}}).WrapConn(c, func(string) {})
			fc.Write([]byte(head))
			fc.Write(bytes.Repeat([]byte("<"), body4k))
		})
		pcap := capture(t, []int{port}, func() {
			resp, err := httpClient(5*time.Second).Post(fmt.Sprintf("http://127.0.0.1:%d/ClientWebService/Client.asmx", port), "text/xml", strings.NewReader("<soap:Envelope/>"))
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Error("client read the whole body")
			}
		})
		an := analyze(t, "tcp-fin-mid-body", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigTCPFINMidBody, 0x80072EFE, func(f observe.Finding) error {
			if f.Who != "server" || f.Phase != "body" || f.Class != profile.ClassScan || !strings.Contains(f.Detail, "100 of 4096") {
				return fmt.Errorf("who %q phase %q class %q detail %q", f.Who, f.Phase, f.Class, f.Detail)
			}
			return nil
		})
	})

	t.Run("tcp-refused", func(t *testing.T) {
		ln, port := listen(t)
		ln.Close()
		pcap := capture(t, []int{port}, func() {
			if c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 2*time.Second); err == nil {
				c.Close()
				t.Error("connected to a closed port")
			}
		})
		an := analyze(t, "tcp-refused", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigTCPRefused, 0x80072EFD, func(f observe.Finding) error {
			if f.Who != "server" || f.Phase != "connect" || f.Prediction.Confidence != profile.High {
				return fmt.Errorf("who %q phase %q", f.Who, f.Phase)
			}
			return nil
		})
	})

	t.Run("dns-nxdomain-world", func(t *testing.T) {
		// A real world (simulate) with the dns.nxdomain fault for the
		// Windows Update hosts.
		w := worldtest.Start(t, worldtest.DNS(), worldtest.Faults("- {kind: dns.nxdomain, match: {host: '*.update.microsoft.com'}}"))
		addr := w.DNSAddr()
		_, ps, _ := net.SplitHostPort(addr)
		var port int
		fmt.Sscan(ps, &port)
		pcap := capture(t, []int{port}, func() {
			m := new(dns.Msg)
			m.SetQuestion("fe2.update.microsoft.com.", dns.TypeA)
			r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addr)
			if err != nil || r.Rcode != dns.RcodeNameError {
				t.Errorf("exchange: %v, %v", r, err)
			}
		})
		an := analyze(t, "dns-nxdomain", pcap, observe.AnalyzeOptions{DNSPorts: []int{port}})
		expect(t, an, observe.SigDNSNXDomain, 0x8024402C, func(f observe.Finding) error {
			if f.Host != "fe2.update.microsoft.com" || f.Phase != "resolve" || f.Class != profile.ClassScan || f.Prediction.Confidence != profile.High {
				return fmt.Errorf("host %q phase %q class %q", f.Host, f.Phase, f.Class)
			}
			return nil
		})
	})

	t.Run("tls-alert", func(t *testing.T) {
		ln, port := listen(t)
		fault := &faults.TLSAlert{Alert: "protocol_version"}
		cfg := &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) { return fault.ConfigForClient(h, nil) }}
		testnet.Serve(t, ln, func(c net.Conn) {
			tls.Server(c, cfg).Handshake()
		})
		pcap := capture(t, []int{port}, func() {
			c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: "fe3.delivery.mp.microsoft.com"})
			if err == nil {
				c.Close()
				t.Error("handshake succeeded")
			}
		})
		an := analyze(t, "tls-alert", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigTLSAlert, 0x80072F8F, func(f observe.Finding) error {
			if f.Who != "server" || !strings.Contains(f.Detail, "protocol_version (70)") || f.Host != "fe3.delivery.mp.microsoft.com" || f.Class != profile.ClassScan {
				return fmt.Errorf("who %q detail %q host %q", f.Who, f.Detail, f.Host)
			}
			return nil
		})
		if st := an.Flows[0].TLS.Stage; st != "ClientHello" {
			t.Errorf("stage %q, want ClientHello", st)
		}
		for _, f := range an.Findings {
			if f.Signature == observe.SigTCPReset || f.Signature == observe.SigTLSReset {
				t.Errorf("an alert is not also a reset: %+v", f)
			}
		}
	})

	t.Run("tls-reset-after-hello", func(t *testing.T) {
		ln, port := listen(t)
		testnet.Serve(t, ln, func(c net.Conn) {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			b := make([]byte, 5)
			io.ReadFull(c, b) // the ClientHello's record header
			time.Sleep(20 * time.Millisecond)
			(&faults.TCPReset{}).WrapConn(c, func(string) {})
		})
		pcap := capture(t, []int{port}, func() {
			c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: "sls.update.microsoft.com"})
			if err == nil {
				c.Close()
				t.Error("handshake succeeded")
			}
		})
		an := analyze(t, "tls-reset", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigTLSReset, 0x80072EFE, func(f observe.Finding) error {
			if f.Who != "server" || f.Phase != "handshake" || f.Class != profile.ClassRedirector {
				return fmt.Errorf("who %q phase %q class %q", f.Who, f.Phase, f.Class)
			}
			return nil
		})
	})

	t.Run("tls-untrusted-cert", func(t *testing.T) {
		ln, port := listen(t)
		cert := selfSigned(t, "fe3.delivery.mp.microsoft.com")
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12}
		testnet.Serve(t, ln, func(c net.Conn) {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			tls.Server(c, cfg).Handshake()
		})
		pcap := capture(t, []int{port}, func() {
			c, err := tls.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port), &tls.Config{ServerName: "fe3.delivery.mp.microsoft.com"})
			if err == nil {
				c.Close()
				t.Error("handshake succeeded with an untrusted certificate")
			}
		})
		an := analyze(t, "tls-untrusted", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigTLSClientAlert, 0x80072F8F, func(f observe.Finding) error {
			if f.Who != "client" || !strings.Contains(f.Detail, "bad_certificate") && !strings.Contains(f.Detail, "unknown_ca") {
				return fmt.Errorf("who %q detail %q", f.Who, f.Detail)
			}
			return nil
		})
		if st := an.Flows[0].TLS.Stage; st != "ServerHelloDone" {
			t.Errorf("stage %q, want ServerHelloDone", st)
		}
	})

	t.Run("proxy-407", func(t *testing.T) {
		ln, port := listen(t)
		fault := &faults.ProxyAuth{Schemes: []string{"basic"}, Users: []profile.Credential{{User: "lab", Password: "secret"}}}
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fault.ServeProxy(w, r, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
		})}
		go srv.Serve(ln)
		t.Cleanup(func() { srv.Close() })
		pu, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port))
		pcap := capture(t, []int{port}, func() {
			cl := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{Proxy: http.ProxyURL(pu), DisableKeepAlives: true}}
			resp, err := cl.Post("http://wsus.lab.test:8530/ClientWebService/Client.asmx", "text/xml", strings.NewReader("<soap:Envelope/>"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 407 {
				t.Errorf("status %d", resp.StatusCode)
			}
		})
		an := analyze(t, "proxy-407", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigProxyAuth, 0x8024401B, func(f observe.Finding) error {
			if f.Status != 407 || f.Phase != "proxy" || f.Host != "wsus.lab.test:8530" || f.Class != profile.ClassScan || !strings.Contains(f.Detail, "Basic") {
				return fmt.Errorf("status %d phase %q host %q class %q detail %q", f.Status, f.Phase, f.Host, f.Class, f.Detail)
			}
			return nil
		})
	})

	t.Run("http-503-and-malformed", func(t *testing.T) {
		ln, port := listen(t)
		n := 0
		var mu sync.Mutex
		testnet.Serve(t, ln, func(c net.Conn) {
			if _, err := readRequest(c); err != nil {
				return
			}
			mu.Lock()
			n++
			k := n
			mu.Unlock()
			if k == 1 {
				c.Write([]byte("HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/html\r\nContent-Length: 5\r\nConnection: close\r\n\r\nbusy\n"))
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n\r\n"))
		})
		pcap := capture(t, []int{port}, func() {
			for i := 0; i < 2; i++ {
				resp, err := httpClient(5 * time.Second).Get(fmt.Sprintf("http://127.0.0.1:%d/selfupdate/wuident.cab", port))
				if err == nil {
					resp.Body.Close()
				}
			}
		})
		an := analyze(t, "http-503-malformed", pcap, observe.AnalyzeOptions{})
		expect(t, an, observe.SigHTTPStatus, 0x80244022, func(f observe.Finding) error {
			if f.Status != 503 || f.Class != profile.ClassSelfUpdate {
				return fmt.Errorf("status %d class %q", f.Status, f.Class)
			}
			return nil
		})
		expect(t, an, observe.SigHTTPMalformed, 0x80072F78, func(f observe.Finding) error {
			if !strings.Contains(f.Detail, "SSH-2.0") {
				return fmt.Errorf("detail %q", f.Detail)
			}
			return nil
		})
	})

	t.Run("tcp-stall-after-headers", func(t *testing.T) {
		ln, port := listen(t)
		head := "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 1000\r\n\r\n"
		testnet.Serve(t, ln, func(c net.Conn) {
			if _, err := readRequest(c); err != nil {
				return
			}
			fc := (&faults.TCPStall{PhaseBound: faults.PhaseBound{AfterBytes: int64(len(head))}, Duration: profile.Duration(1500 * time.Millisecond)}).WrapConn(c, func(string) {})
			fc.Write([]byte(head + strings.Repeat("x", 1000)))
		})
		pcap := capture(t, []int{port}, func() {
			resp, err := httpClient(600 * time.Millisecond).Get(fmt.Sprintf("http://127.0.0.1:%d/ClientWebService/Client.asmx", port))
			if err == nil {
				_, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if err == nil {
				t.Error("no timeout")
			}
		})
		an := analyze(t, "tcp-stall", pcap, observe.AnalyzeOptions{StallThreshold: 300 * time.Millisecond})
		expect(t, an, observe.SigStall, 0x80072EE2, func(f observe.Finding) error {
			if f.Phase != "body" || f.Bytes != int64(len(head)) || len(f.Prediction.Alt) == 0 || f.Prediction.Alt[0].Code != 0x8024401C {
				return fmt.Errorf("phase %q bytes %d alt %+v", f.Phase, f.Bytes, f.Prediction.Alt)
			}
			if !strings.Contains(f.Detail, "client gave up") {
				return fmt.Errorf("detail %q does not say the client gave up", f.Detail)
			}
			return nil
		})
	})
}

func must(r *http.Response, err error) *http.Response {
	if err != nil {
		panic(err)
	}
	return r
}

func selfSigned(t *testing.T, host string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
