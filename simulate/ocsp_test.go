package simulate

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"golang.org/x/crypto/ocsp"
)

// pkiServer serves an issuer's revocation data on a loopback port; the
// issuer's certificates point at it.
func pkiServer(t testing.TB) (*issuer, *httptest.Server) {
	t.Helper()
	domains, _ := CADomains()
	ca, err := NewCA(domains)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	is, err := newIssuer(ca, srv.URL+PKIPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux.Handle(PKIPath+"/", is)
	return is, srv
}

func get(t testing.TB, u string) []byte {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	return b
}

func askOCSP(t testing.TB, srv *httptest.Server, leaf, issuer *x509.Certificate, viaGet bool) *ocsp.Response {
	t.Helper()
	req, err := ocsp.CreateRequest(leaf, issuer, &ocsp.RequestOptions{Hash: crypto.SHA256})
	if err != nil {
		t.Fatal(err)
	}
	var resp *http.Response
	if viaGet {
		resp, err = http.Get(srv.URL + PKIPath + "/ocsp/" + url.PathEscape(base64.StdEncoding.EncodeToString(req)))
	} else {
		resp, err = http.Post(srv.URL+PKIPath+"/ocsp", "application/ocsp-request", bytes.NewReader(req))
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if ct := resp.Header.Get("Content-Type"); ct != "application/ocsp-response" {
		t.Errorf("Content-Type %q", ct)
	}
	r, err := ocsp.ParseResponseForCert(b, leaf, issuer)
	if err != nil {
		t.Fatalf("OCSP response: %v", err)
	}
	return r
}

func TestOCSPResponderAndCRL(t *testing.T) {
	is, srv := pkiServer(t)
	good, err := is.leaf("wsus.lab", "")
	if err != nil {
		t.Fatal(err)
	}
	revoked, err := is.leaf("wsus.lab", "revoked")
	if err != nil {
		t.Fatal(err)
	}
	if revoked.Leaf.OCSPServer[0] != srv.URL+PKIPath+"/ocsp" || revoked.Leaf.CRLDistributionPoints[0] != srv.URL+PKIPath+"/intermediate.crl" {
		t.Errorf("leaf URLs: OCSP %v, CRL %v", revoked.Leaf.OCSPServer, revoked.Leaf.CRLDistributionPoints)
	}
	if len(revoked.Leaf.IssuingCertificateURL) != 0 {
		t.Errorf("leaf carries caIssuers %v: a client could fetch a missing intermediate", revoked.Leaf.IssuingCertificateURL)
	}
	for _, viaGet := range []bool{false, true} {
		if r := askOCSP(t, srv, revoked.Leaf, is.inter, viaGet); r.Status != ocsp.Revoked || r.RevokedAt.IsZero() {
			t.Errorf("revoked leaf (GET %v): status %d, revoked at %v", viaGet, r.Status, r.RevokedAt)
		}
		if r := askOCSP(t, srv, good.Leaf, is.inter, viaGet); r.Status != ocsp.Good {
			t.Errorf("good leaf (GET %v): status %d", viaGet, r.Status)
		}
	}
	stranger := *good.Leaf
	stranger.SerialNumber = big.NewInt(42)
	if r := askOCSP(t, srv, &stranger, is.inter, false); r.Status != ocsp.Unknown {
		t.Errorf("unknown serial: status %d, want unknown", r.Status)
	}
	if r := askOCSP(t, srv, is.inter, is.ca.cert, false); r.Status != ocsp.Good {
		t.Errorf("intermediate: status %d, want good", r.Status)
	}
	// Garbage gets an OCSP "malformed" answer, not a crash.
	resp, err := http.Post(srv.URL+PKIPath+"/ocsp", "application/ocsp-request", bytes.NewReader([]byte("garbage")))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(b, ocsp.MalformedRequestErrorResponse) {
		t.Errorf("garbage request: answer %x", b)
	}

	crl, err := x509.ParseRevocationList(get(t, srv.URL+PKIPath+"/intermediate.crl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := crl.CheckSignatureFrom(is.inter); err != nil {
		t.Errorf("intermediate CRL signature: %v", err)
	}
	if len(crl.RevokedCertificateEntries) != 1 || crl.RevokedCertificateEntries[0].SerialNumber.Cmp(revoked.Leaf.SerialNumber) != 0 {
		t.Errorf("intermediate CRL lists %v, want the revoked leaf", crl.RevokedCertificateEntries)
	}
	root, err := x509.ParseRevocationList(get(t, srv.URL+PKIPath+"/root.crl"))
	if err != nil {
		t.Fatal(err)
	}
	if err := root.CheckSignatureFrom(is.ca.cert); err != nil || len(root.RevokedCertificateEntries) != 0 {
		t.Errorf("root CRL: signature %v, entries %d", err, len(root.RevokedCertificateEntries))
	}
	// A second revocation reissues the CRL with a higher number.
	if _, err := is.leaf("other.lab", "revoked"); err != nil {
		t.Fatal(err)
	}
	crl2, err := x509.ParseRevocationList(get(t, srv.URL+PKIPath+"/intermediate.crl"))
	if err != nil {
		t.Fatal(err)
	}
	if len(crl2.RevokedCertificateEntries) != 2 || crl2.Number.Cmp(crl.Number) <= 0 {
		t.Errorf("after a second revocation: %d entries, number %v (was %v)", len(crl2.RevokedCertificateEntries), crl2.Number, crl.Number)
	}
	if der := get(t, srv.URL+PKIPath+"/lab-ca.cer"); !bytes.Equal(der, is.ca.DER()) {
		t.Error("lab-ca.cer is not the CA certificate")
	}
	if resp, err := http.Get(srv.URL + PKIPath + "/nope"); err != nil || resp.StatusCode != http.StatusNotFound {
		t.Errorf("unknown path: %v %v", resp, err)
	}
}
