package simulate

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
)

// mitmWorld starts a world with the proxy and an upstream stand-in for the
// lab zone's HTTPS port (a TLS server with its own, non-lab certificate),
// and returns a client through the proxy that trusts the lab CA.
func mitmWorld(t *testing.T) (*World, *httptest.Server, func(cfg *tls.Config) *http.Client) {
	t.Helper()
	w := proxyWorld(t, Options{Logger: testLogger(t)})
	up := httptest.NewTLSServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { io.WriteString(rw, "origin") }))
	t.Cleanup(up.Close)
	w.mu.Lock()
	w.services["upstream-https"] = stubService{addr: up.Listener.Addr().String()}
	w.mu.Unlock()
	ca, err := w.LabCA()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	pu := &url.URL{Scheme: "http", Host: w.Addrs().Proxy}
	newClient := func(cfg *tls.Config) *http.Client {
		if cfg == nil {
			cfg = &tls.Config{RootCAs: roots}
		}
		tr := &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: cfg, DisableKeepAlives: true}
		t.Cleanup(tr.CloseIdleConnections)
		return &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	return w, up, newClient
}

func TestMITMThroughProxy(t *testing.T) {
	w, up, newClient := mitmWorld(t)
	const u = "https://wsus.lab/ClientWebService/client.asmx"
	match := faults.Match{Host: "wsus.lab"}

	t.Run("expired certificate", func(t *testing.T) {
		activate(t, w, faults.Spec{Kind: "tls.cert", Match: match, Fault: &faults.TLSCert{Profile: "expired"}})
		_, err := newClient(nil).Get(u)
		var e x509.CertificateInvalidError
		if !errors.As(err, &e) || e.Reason != x509.Expired {
			t.Fatalf("err = %v, want CertificateInvalidError Expired", err)
		}
	})
	t.Run("reset after the client hello", func(t *testing.T) {
		activate(t, w, faults.Spec{Kind: "tls.reset", Match: match, Fault: &faults.TLSReset{}})
		since := w.journal.lastSeq()
		_, err := newClient(nil).Get(u)
		if !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("err = %v, want ECONNRESET", err)
		}
		waitEvent(t, w, since, func(e Event) bool {
			return e.Kind == EventFault && e.Fault == "tls.reset" && e.Service == "proxy" && e.Conn != 0 && e.Host == "wsus.lab"
		})
	})
	t.Run("alert", func(t *testing.T) {
		activate(t, w, faults.Spec{Kind: "tls.alert", Match: match, Fault: &faults.TLSAlert{Alert: "handshake_failure"}})
		_, err := newClient(nil).Get(u)
		if !remoteAlert("tls: handshake failure")(err) {
			t.Fatalf("err = %v, want remote error: tls: handshake failure", err)
		}
	})
	t.Run("http fault inside the intercepted tunnel", func(t *testing.T) {
		activate(t, w, faults.Spec{Kind: "http.status", Match: faults.Match{Host: "wsus.lab", Path: "/ClientWebService/*"}, Fault: &faults.HTTPStatus{Status: 503}})
		since := w.journal.lastSeq()
		resp, err := newClient(nil).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusServiceUnavailable || resp.TLS == nil {
			t.Fatalf("status %d, TLS %v; want 503 over TLS", resp.StatusCode, resp.TLS != nil)
		}
		leaf := resp.TLS.PeerCertificates[0]
		if leaf.DNSNames[0] != "wsus.lab" || leaf.Issuer.CommonName != "wufault lab intermediate CA" {
			t.Errorf("leaf %v issued by %v", leaf.DNSNames, leaf.Issuer)
		}
		e := waitEvent(t, w, since, func(e Event) bool { return e.Kind == EventHandshake && e.Service == "proxy" })
		if e.Host != "wsus.lab" || !strings.HasPrefix(e.Detail, "TLS 1.3") {
			t.Errorf("handshake event %+v", e)
		}
	})
	t.Run("no rule for the host: opaque tunnel", func(t *testing.T) {
		activate(t, w, faults.Spec{Kind: "tls.reset", Match: faults.Match{Host: "other.lab"}, Fault: &faults.TLSReset{}})
		resp, err := newClient(&tls.Config{InsecureSkipVerify: true}).Get(u)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "origin" || !resp.TLS.PeerCertificates[0].Equal(up.Certificate()) {
			t.Errorf("body %q, certificate %v: want the origin's own", b, resp.TLS.PeerCertificates[0].Subject)
		}
	})
}

func TestMITMRefusesNamesOutsideTheConstraints(t *testing.T) {
	w := proxyWorld(t, Options{Logger: testLogger(t)})
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	since := w.journal.lastSeq()
	if c, ok := w.interceptTLS(a, "www.example.com:443"); ok || c != nil {
		t.Fatalf("InterceptTLS(www.example.com) = %v, %v; want an opaque tunnel", c, ok)
	}
	waitEvent(t, w, since, func(e Event) bool {
		return e.Kind == EventError && e.Host == "www.example.com" && strings.Contains(e.Detail, "name constraints")
	})
	if _, ok := w.interceptTLS(a, "Fe3.Delivery.MP.Microsoft.com:443"); !ok {
		t.Error("InterceptTLS refused a lab-zone name")
	}
}
