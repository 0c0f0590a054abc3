package simulate

import (
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestCADomains(t *testing.T) {
	got, err := CADomains("*.corp.example", "WSUS.Corp.Example.", "update.microsoft.com")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"corp.example", "update.microsoft.com", "windowsupdate.com", "delivery.mp.microsoft.com", "lab"} {
		if !slices.Contains(got, want) {
			t.Errorf("CADomains = %v, want %q in it", got, want)
		}
	}
	for _, covered := range []string{"wsus.corp.example"} {
		if slices.Contains(got, covered) {
			t.Errorf("CADomains = %v: %q is covered by its parent and must be dropped", got, covered)
		}
	}
	for _, bad := range []string{"wsus*.corp.example", "10.0.0.1", "", "a/b"} {
		if _, err := CADomains(bad); err == nil {
			t.Errorf("CADomains(%q) succeeded, want an error", bad)
		}
	}
}

func TestOpenCAFilesAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	domains, _ := CADomains()
	ca, created, err := OpenCA(dir, domains)
	if err != nil || !created {
		t.Fatalf("OpenCA = %v, created %v", err, created)
	}
	c := ca.Certificate()
	if k, ok := c.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve.Params().Name != "P-256" {
		t.Errorf("CA key %T, want ECDSA P-256", c.PublicKey)
	}
	if !c.IsCA || !c.PermittedDNSDomainsCritical || len(c.ExcludedIPRanges) != 2 || !slices.Equal(c.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("CA: IsCA %v, constraints critical %v, excluded IPs %v, EKU %v", c.IsCA, c.PermittedDNSDomainsCritical, c.ExcludedIPRanges, c.ExtKeyUsage)
	}
	if !slices.Equal(c.PermittedDNSDomains, domains) {
		t.Errorf("permitted %v, want %v", c.PermittedDNSDomains, domains)
	}
	if runtime.GOOS != "windows" {
		for path, want := range map[string]fs.FileMode{dir: 0o700, ca.KeyPath(): 0o600, filepath.Join(dir, CACertFile): 0o644} {
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := st.Mode().Perm(); got != want {
				t.Errorf("%s: mode %#o, want %#o", path, got, want)
			}
		}
	}
	again, created, err := OpenCA(dir, []string{"other.example"})
	if err != nil || created || !again.Certificate().Equal(c) {
		t.Fatalf("reopen: err %v, created %v, same %v", err, created, again.Certificate().Equal(c))
	}
	if m := again.Missing([]string{"other.example", "lab"}); !slices.Equal(m, []string{"other.example"}) {
		t.Errorf("Missing = %v, want [other.example]", m)
	}
	// The public file is rewritten when missing.
	os.Remove(filepath.Join(dir, CACertFile))
	if _, err := LoadCA(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, CACertFile)); err != nil {
		t.Errorf("certificate file not rewritten: %v", err)
	}
	if runtime.GOOS != "windows" {
		if err := os.Chmod(ca.KeyPath(), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadCA(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("LoadCA of a key file readable by others: %v, want a refusal that says how to fix it", err)
		}
	}
	if err := RemoveCA(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("after RemoveCA: LoadCA err = %v, want fs.ErrNotExist", err)
	}
}

func TestOpenCAConcurrentCreatorsAgree(t *testing.T) {
	dir := t.TempDir()
	domains, _ := CADomains()
	var wg sync.WaitGroup
	certs := make([]*x509.Certificate, 4)
	for n := range certs {
		wg.Go(func() {
			ca, _, err := OpenCA(dir, domains)
			if err != nil {
				t.Errorf("OpenCA: %v", err)
				return
			}
			certs[n] = ca.Certificate()
		})
	}
	wg.Wait()
	for _, c := range certs[1:] {
		if c == nil || certs[0] == nil || !c.Equal(certs[0]) {
			t.Fatal("concurrent OpenCA calls returned different CAs")
		}
	}
}

func TestLoadCARejectsGarbage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, CAKeyFile), []byte("not pem"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadCA(dir); err == nil || errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadCA(garbage) = %v, want a parse error", err)
	}
}

// TestNameConstraintsRejectOtherNames signs leaves the issuer would refuse
// (a name outside the constraints, an IP address) with the intermediate's
// key directly: a client trusting the lab CA still rejects them.
func TestNameConstraintsRejectOtherNames(t *testing.T) {
	domains, _ := CADomains()
	ca, err := NewCA(domains)
	if err != nil {
		t.Fatal(err)
	}
	is, err := newIssuer(ca, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca.Certificate())
	inters := x509.NewCertPool()
	inters.AddCert(is.inter)
	now := time.Now()
	for _, tc := range []struct {
		name  string
		tmpl  x509.Certificate
		check string
	}{
		{"outside the constraints", x509.Certificate{DNSNames: []string{"www.example.com"}}, "www.example.com"},
		{"lookalike suffix", x509.Certificate{DNSNames: []string{"evilupdate.microsoft.com"}}, "evilupdate.microsoft.com"},
		{"ip address", x509.Certificate{IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}}, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			serial, _ := randomSerial()
			tmpl := tc.tmpl
			tmpl.SerialNumber, tmpl.Subject = serial, pkix.Name{CommonName: tc.check}
			tmpl.NotBefore, tmpl.NotAfter = now.Add(-time.Hour), now.Add(time.Hour)
			tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
			leaf, err := createCert(&tmpl, is.inter, &is.leafKey.PublicKey, is.interKey)
			if err != nil {
				t.Fatal(err)
			}
			_, err = leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, DNSName: tc.check})
			var ci x509.CertificateInvalidError
			if !errors.As(err, &ci) || ci.Reason != x509.CANotAuthorizedForThisName {
				t.Fatalf("Verify = %v, want CertificateInvalidError CANotAuthorizedForThisName", err)
			}
		})
	}
	// And the issuer refuses to mint them in the first place.
	if _, err := is.leaf("www.example.com", ""); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("leaf(www.example.com) = %v, want ErrNotPermitted", err)
	}
	// A permitted name verifies.
	good, err := is.leaf("fe3.delivery.mp.microsoft.com", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := good.Leaf.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inters, DNSName: "fe3.delivery.mp.microsoft.com"}); err != nil {
		t.Errorf("good leaf: %v", err)
	}
}

func TestLeafCache(t *testing.T) {
	domains, _ := CADomains()
	ca, err := NewCA(domains)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	clock := func() time.Time { return now }
	is, err := newIssuer(ca, "", clock)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := is.leaf("wsus.lab", "")
	b, _ := is.leaf("wsus.lab", "")
	c, _ := is.leaf("wsus.lab", "expired")
	if a != b || a == c {
		t.Errorf("cache: same host+profile must share, different profiles must not")
	}
	now = now.Add(leafRefresh + time.Minute)
	if d, _ := is.leaf("wsus.lab", ""); d == a {
		t.Error("a leaf older than leafRefresh was served again")
	}
	is.maxLeaves = 20
	for n := range is.maxLeaves + 10 {
		if _, err := is.leaf(serialHost(n), ""); err != nil {
			t.Fatal(err)
		}
	}
	if len(is.leaves) > is.maxLeaves {
		t.Errorf("cache holds %d leaves, want at most %d", len(is.leaves), is.maxLeaves)
	}
}

func serialHost(n int) string { return fmt.Sprintf("h%d.lab", n) }
