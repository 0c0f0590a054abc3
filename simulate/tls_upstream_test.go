package simulate

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wufault/wufault/faults"
)

// TestUpstreamHTTPS runs the upstream's HTTPS port alone, as a lab pointed
// at the emulator directly (WUServer https://wsus.lab:8531) uses it: the
// lab CA is created in the state directory, the emulator answers over TLS,
// and the tls.* faults act without a proxy.
func TestUpstreamHTTPS(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	w := testWorld(t, Options{UpstreamHTTPS: "127.0.0.1:0", StateDir: state, Logger: testLogger(t)})
	if runtime.GOOS != "windows" {
		st, err := os.Stat(filepath.Join(state, CAKeyFile))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v, mode %v; want 0600", err, st.Mode().Perm())
		}
	}
	ca, err := LoadCA(state)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	addr := w.Addrs().UpstreamHTTPS
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "wsus.lab"}, DisableKeepAlives: true}}
	t.Cleanup(c.CloseIdleConnections)

	resp, err := c.Get("https://" + addr + "/ClientWebService/wusserverversion.xml")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Server") != "Microsoft-IIS/10.0" {
		t.Fatalf("emulator over TLS: %s, Server %q", resp.Status, resp.Header.Get("Server"))
	}
	resp, err = c.Get("https://" + addr + PKIPath + "/lab-ca.cer")
	if err != nil {
		t.Fatal(err)
	}
	der, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(der, ca.DER()) {
		t.Error("the lab CA served under PKIPath differs from the state directory's")
	}

	activate(t, w, faults.Spec{Kind: "tls.cert", Fault: &faults.TLSCert{Profile: "expired"}})
	_, err = c.Get("https://" + addr + "/ClientWebService/wusserverversion.xml")
	var e x509.CertificateInvalidError
	if !errors.As(err, &e) || e.Reason != x509.Expired {
		t.Fatalf("expired profile: %v", err)
	}
	activate(t, w, faults.Spec{Kind: "tls.reset", Fault: &faults.TLSReset{}, When: faults.When{First: 1}})
	since := w.journal.lastSeq()
	if _, err = c.Get("https://" + addr + "/"); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("tls.reset: %v", err)
	}
	waitEvent(t, w, since, func(e Event) bool {
		return e.Kind == EventConnClose && e.Service == "upstream-https" && e.Conn != 0
	})
	if _, err = c.Get("https://" + addr + "/ClientWebService/wusserverversion.xml"); err != nil {
		t.Fatalf("after first: 1: %v", err)
	}
}

// TestUpstreamHTTPSLifecycle checks that Close ends everything the HTTPS
// port started: an idle keep-alive connection, a client stuck in the
// middle of its handshake, the accept loop.
func TestUpstreamHTTPSLifecycle(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	w, err := New(context.Background(), Options{UpstreamHTTPS: "127.0.0.1:0", Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	addr := w.Addrs().UpstreamHTTPS
	ca, _ := w.LabCA()
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, ServerName: "wsus.lab"}}
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get("https://" + addr + "/ClientWebService/wusserverversion.xml")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	stuck, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	if _, err := stuck.Write(clientHello(t, "wsus.lab")[:20]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond) // let the handshake start
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	tr.CloseIdleConnections()
	_ = stuck.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.Copy(io.Discard, stuck); err != nil {
		t.Errorf("stuck client: %v, want EOF at Close", err)
	}
}
