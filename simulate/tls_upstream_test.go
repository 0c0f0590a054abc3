package simulate

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
)

// TestUpstreamHTTPS runs the upstream's HTTPS port alone, as a lab pointed
// at the emulator directly (WUServer https://wsus.lab:8531) uses it: the
// lab CA is created in the state directory, the emulator answers over TLS,
// and the tls.* faults act without a proxy.
func TestUpstreamHTTPS(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	w, err := New(context.Background(), Options{UpstreamHTTPS: "127.0.0.1:0", StateDir: state, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
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
	since := lastSeq(w)
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
