package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/simulate/wsus"
)

// revocationLab is a WSUS emulator over TLS whose certificate names a CRL
// served on loopback, both reached through hosts-file entries.
type revocationLab struct {
	srv     *httptest.Server
	crl     *httptest.Server
	roots   *x509.CertPool
	mu      sync.Mutex
	revoked bool
	ca      *x509.Certificate
	caKey   *ecdsa.PrivateKey
	leaf    *x509.Certificate
}

func newRevocationLab(t *testing.T) *revocationLab {
	t.Helper()
	rl := &revocationLab{roots: x509.NewCertPool()}
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	caT := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "revocation test CA"}, NotBefore: time.Now().Add(-time.Hour),
		NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, caT, caT, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	rl.ca, _ = x509.ParseCertificate(der)
	rl.caKey = caKey
	rl.roots.AddCert(rl.ca)
	rl.crl = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rl.mu.Lock()
		var entries []x509.RevocationListEntry
		if rl.revoked {
			entries = append(entries, x509.RevocationListEntry{SerialNumber: rl.leaf.SerialNumber, RevocationTime: time.Now()})
		}
		rl.mu.Unlock()
		b, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Minute),
			NextUpdate: time.Now().Add(time.Hour), RevokedCertificateEntries: entries}, rl.ca, rl.caKey)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Type", "application/pkix-crl")
		_, _ = w.Write(b)
	}))
	t.Cleanup(rl.crl.Close)
	_, crlPort, _ := net.SplitHostPort(rl.crl.Listener.Addr().String())
	leafKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leafT := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "wsus.lab"}, DNSNames: []string{"wsus.lab"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, CRLDistributionPoints: []string{"http://crl.wufault.test:" + crlPort + "/ca.crl"}}
	der, err = x509.CreateCertificate(rand.Reader, leafT, rl.ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	rl.leaf, _ = x509.ParseCertificate(der)
	s, err := wsus.New(wsus.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	rl.srv = httptest.NewUnstartedServer(s)
	rl.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: leafKey}}}
	rl.srv.StartTLS()
	t.Cleanup(rl.srv.Close)
	return rl
}

func (rl *revocationLab) machine(t *testing.T, check bool) *client.Machine {
	_, port, _ := net.SplitHostPort(rl.srv.Listener.Addr().String())
	p := profile.Profile{Server: ptr("https://wsus.lab:" + port), Proxy: ptr(""), DNS: []string{"127.0.0.1:9"}, CheckRevocation: ptr(check),
		Hosts: []profile.HostEntry{{Host: "wsus.lab", Address: "127.0.0.1"}, {Host: "crl.wufault.test", Address: "127.0.0.1"}}, Timeouts: patient()}
	return newMachine(t, p, client.Env{Roots: rl.roots, Logger: testLogger(t)})
}

// Rows 15 and 16: a revoked certificate and an unreachable CRL both end in
// 0x80072F8F, each with its own rule.
func TestRevocation(t *testing.T) {
	rl := newRevocationLab(t)
	wantCode(t, run(t, rl.machine(t, true)), "0x00000000")

	rl.mu.Lock()
	rl.revoked = true
	rl.mu.Unlock()
	r := run(t, rl.machine(t, true))
	wantCode(t, r, "0x80072F8F")
	if r.Failed.Rule != "cert-revoked > winhttp-raw" || r.Failed.Phase != profile.PhaseHandshake {
		t.Errorf("revoked: %+v", r.Failed)
	}
	wantCode(t, run(t, rl.machine(t, false)), "0x00000000") // no revocation checking

	rl.crl.Close()
	r = run(t, rl.machine(t, true))
	wantCode(t, r, "0x80072F8F")
	if r.Failed.Rule != "revocation-offline > winhttp-raw" {
		t.Errorf("offline: %+v", r.Failed)
	}
}

// The client offers Schannel's default groups in Schannel's order
// [L-CURVES], as a server sees them in the ClientHello.
func TestClientOffersSchannelCurves(t *testing.T) {
	s, err := wsus.New(wsus.Options{Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		hellos [][]tls.CurveID
	)
	srv := httptest.NewUnstartedServer(s)
	srv.TLS = &tls.Config{GetConfigForClient: func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		mu.Lock()
		hellos = append(hellos, h.SupportedCurves)
		mu.Unlock()
		return nil, nil
	}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	p := profile.Profile{Server: ptr("https://example.com:" + port), Proxy: ptr(""), DNS: []string{"127.0.0.1:9"},
		Hosts: []profile.HostEntry{{Host: "example.com", Address: "127.0.0.1"}}, Timeouts: patient()}
	wantCode(t, run(t, newMachine(t, p, client.Env{Roots: roots, Logger: testLogger(t)})), "0x00000000")
	mu.Lock()
	defer mu.Unlock()
	if len(hellos) == 0 {
		t.Fatal("no ClientHello reached the server")
	}
	want := []tls.CurveID{tls.X25519, tls.CurveP256, tls.CurveP384}
	for _, got := range hellos {
		if !slices.Equal(got, want) {
			t.Fatalf("ClientHello groups %v, want %v", got, want)
		}
	}
}
