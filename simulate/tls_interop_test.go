package simulate

import (
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/faults"
)

// openssl returns the openssl binary or skips the test.
func openssl(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not found: install it (apt-get install -y openssl) to run the TLS interop tests")
	}
	return p
}

// runOpenSSL runs openssl with args and no input, bounded in time, and
// returns its combined output and exit error.
func runOpenSSL(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func writePEM(t *testing.T, path string, ders ...[]byte) string {
	t.Helper()
	var b []byte
	for _, d := range ders {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

var verifyErrorRE = regexp.MustCompile(`verify error:num=(\d+)`)

// TestCertProfilesOpenSSL connects with openssl s_client, trusting the lab
// CA, and asserts OpenSSL's verify code per profile. -auth_level 2 fixes
// the security level (112 bits, as Debian's default configuration) so the
// result does not depend on the system's openssl.cnf.
func TestCertProfilesOpenSSL(t *testing.T) {
	bin := openssl(t)
	w, addr, _ := tlsEndpoint(t, Options{}, nil)
	ca, _ := w.LabCA()
	roots := writePEM(t, filepath.Join(t.TempDir(), "root.pem"), ca.DER())
	const host = "fe3.delivery.mp.microsoft.com"
	for _, tc := range []struct {
		profile   string
		code      int // trusting the lab CA; 0: verified
		untrusted int // trusting nothing
	}{
		{"", 0, 20},
		{"expired", 10, 20},              // X509_V_ERR_CERT_HAS_EXPIRED
		{"not-yet-valid", 9, 20},         // X509_V_ERR_CERT_NOT_YET_VALID
		{"wrong-host", 62, 20},           // X509_V_ERR_HOSTNAME_MISMATCH
		{"self-signed", 18, 18},          // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
		{"untrusted-ca", 19, 19},         // X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
		{"revoked", 0, 20},               // s_client does not check revocation (see TestRevokedOpenSSL)
		{"missing-intermediate", 20, 20}, // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
		{"sha1", 68, 20},                 // X509_V_ERR_CA_MD_TOO_WEAK
		{"rsa1024", 66, 66},              // X509_V_ERR_EE_KEY_TOO_SMALL (checked before the chain)
		{"no-serverauth", 26, 20},        // X509_V_ERR_INVALID_PURPOSE
	} {
		t.Run(orGood(tc.profile), func(t *testing.T) {
			var specs []faults.Spec
			if tc.profile != "" {
				specs = append(specs, certSpec(tc.profile))
			}
			activate(t, w, specs...)
			for _, trust := range []struct {
				args []string
				code int
			}{{[]string{"-CAfile", roots}, tc.code}, {[]string{"-no-CAfile"}, tc.untrusted}} {
				args := append([]string{"s_client", "-connect", addr, "-servername", host, "-no-CApath", "-no-CAstore",
					"-verify_return_error", "-verify_hostname", host, "-auth_level", "2"}, trust.args...)
				out, err := runOpenSSL(t, bin, args...)
				code := 0
				if m := verifyErrorRE.FindStringSubmatch(out); m != nil {
					code, _ = strconv.Atoi(m[1])
				}
				if code != trust.code || (trust.code == 0) != (err == nil) {
					t.Fatalf("%v: verify code %d (exit %v), want %d\n%s", trust.args, code, err, trust.code, out)
				}
				if trust.code == 0 && !strings.Contains(out, "Verify return code: 0 (ok)") {
					t.Fatalf("no successful verification in\n%s", out)
				}
			}
		})
	}
}

// TestRevokedOpenSSL asks the lab's OCSP responder about a revoked leaf
// with openssl ocsp, checks it against the CRL with openssl verify
// -crl_check (the URLs are those the leaf carries), and reads the stapled
// answer with s_client -status.
func TestRevokedOpenSSL(t *testing.T) {
	bin := openssl(t)
	is, _ := pkiServer(t)
	dir := t.TempDir()
	revoked, err := is.leaf("wsus.lab", "revoked")
	if err != nil {
		t.Fatal(err)
	}
	good, err := is.leaf("wsus.lab", "")
	if err != nil {
		t.Fatal(err)
	}
	root := writePEM(t, filepath.Join(dir, "root.pem"), is.ca.DER())
	inter := writePEM(t, filepath.Join(dir, "inter.pem"), is.inter.Raw)
	for _, tc := range []struct {
		name, status string
		leaf         []byte
	}{{"revoked", "revoked", revoked.Leaf.Raw}, {"good", "good", good.Leaf.Raw}} {
		t.Run(tc.name, func(t *testing.T) {
			leaf := writePEM(t, filepath.Join(dir, tc.name+".pem"), tc.leaf)
			url := is.base + "/ocsp"
			out, err := runOpenSSL(t, bin, "ocsp", "-issuer", inter, "-cert", leaf, "-url", url, "-CAfile", root, "-no_nonce")
			if err != nil || !strings.Contains(out, "Response verify OK") || !strings.Contains(out, tc.name+".pem: "+tc.status) {
				t.Fatalf("openssl ocsp: %v\n%s", err, out)
			}
			t.Logf("openssl ocsp: %s", strings.TrimSpace(out))
			crlDER := get(t, is.base+"/intermediate.crl")
			crl := filepath.Join(dir, "inter.crl.pem")
			if err := os.WriteFile(crl, pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: crlDER}), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err = runOpenSSL(t, bin, "verify", "-crl_check", "-CAfile", root, "-untrusted", inter, "-CRLfile", crl, leaf)
			if tc.status == "revoked" {
				// X509_V_ERR_CERT_REVOKED
				if err == nil || !strings.Contains(out, "error 23 at 0 depth lookup: certificate revoked") {
					t.Fatalf("openssl verify -crl_check: %v\n%s", err, out)
				}
			} else if err != nil || !strings.Contains(out, ": OK") {
				t.Fatalf("openssl verify -crl_check: %v\n%s", err, out)
			}
		})
	}
	// The staple, as s_client -status prints it.
	w, addr, _ := tlsEndpoint(t, Options{}, nil)
	activate(t, w, certSpec("revoked"))
	out, _ := runOpenSSL(t, bin, "s_client", "-connect", addr, "-servername", "wsus.lab", "-status", "-no-CAfile", "-no-CApath", "-no-CAstore")
	if !strings.Contains(out, "OCSP Response Status: successful") || !strings.Contains(out, "Cert Status: revoked") {
		t.Fatalf("s_client -status: no revoked staple in\n%s", out)
	}
}

// TestHandshakeFaultsOpenSSL runs openssl s_client against the handshake
// faults: what OpenSSL reports for each.
func TestHandshakeFaultsOpenSSL(t *testing.T) {
	bin := openssl(t)
	w, addr, _ := tlsEndpoint(t, Options{}, nil)
	for _, tc := range []struct {
		name string
		spec faults.Spec
		args []string
		want string
	}{
		{"tls.reset", faults.Spec{Kind: "tls.reset", Fault: &faults.TLSReset{}}, nil, "errno=104"}, // ECONNRESET
		{"tls.alert", faults.Spec{Kind: "tls.alert", Fault: &faults.TLSAlert{Alert: "handshake_failure"}}, nil, "SSL alert number 40"},
		{"tls.alert unknown_ca", faults.Spec{Kind: "tls.alert", Fault: &faults.TLSAlert{Alert: "unknown_ca"}}, nil, "SSL alert number 48"},
		{"tls.version", faults.Spec{Kind: "tls.version", Fault: &faults.TLSVersion{Min: "1.3"}}, []string{"-tls1_2"}, "SSL alert number 70"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			activate(t, w, tc.spec)
			args := append([]string{"s_client", "-connect", addr, "-servername", "wsus.lab", "-no-CAfile", "-no-CApath", "-no-CAstore"}, tc.args...)
			out, err := runOpenSSL(t, bin, args...)
			if err == nil || !strings.Contains(out, tc.want) {
				t.Fatalf("exit %v, want failure with %q in\n%s", err, tc.want, out)
			}
		})
	}
}
