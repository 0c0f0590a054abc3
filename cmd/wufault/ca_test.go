package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestCAInitAndExport(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	out, errs, status := runCmd(t, "--state-dir", state, "ca", "init", "--intercept", "*.corp.example")
	if status != 0 || !strings.Contains(out, "lab CA (created)") || !strings.Contains(out, "corp.example") || !strings.Contains(out, "certutil -addstore Root lab-ca.cer") {
		t.Fatalf("ca init: status %d\n%s%s", status, out, errs)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(filepath.Join(state, "lab-ca-key.pem"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("key file: %v %v", err, st)
		}
	}
	out, _, status = runCmd(t, "--state-dir", state, "ca", "init")
	if status != 0 || !strings.Contains(out, "lab CA (existing)") {
		t.Fatalf("second ca init: %d\n%s", status, out)
	}
	_, errs, _ = runCmd(t, "--state-dir", state, "ca", "init", "--intercept", "wsus.other.example")
	if !strings.Contains(errs, "does not permit wsus.other.example") {
		t.Errorf("a name the CA lacks is not reported: %s", errs)
	}

	// PEM on standard output, with the import hint on standard error.
	pemOut, errs, status := runCmd(t, "--state-dir", state, "ca", "export")
	blk, _ := pem.Decode([]byte(pemOut))
	if status != 0 || blk == nil || blk.Type != "CERTIFICATE" || !strings.Contains(errs, "certutil -addstore Root") {
		t.Fatalf("ca export: %d\n%s%s", status, pemOut, errs)
	}
	if strings.Contains(pemOut, "PRIVATE") {
		t.Fatal("ca export printed the private key")
	}
	cer := filepath.Join(t.TempDir(), "lab-ca.cer")
	out, _, status = runCmd(t, "--state-dir", state, "ca", "export", "--der", "--out", cer)
	if status != 0 || !strings.Contains(out, "certutil -addstore Root lab-ca.cer") {
		t.Fatalf("ca export --der: %d\n%s", status, out)
	}
	der, err := os.ReadFile(cer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil || !bytes.Equal(der, blk.Bytes) || !c.IsCA || !c.PermittedDNSDomainsCritical {
		t.Fatalf("exported DER: %v", err)
	}

	out, _, status = runCmd(t, "--state-dir", state, "ca", "init", "--force")
	if status != 0 || !strings.Contains(out, "lab CA (created)") {
		t.Fatalf("ca init --force: %d\n%s", status, out)
	}
	if _, errs, status := runCmd(t, "--state-dir", state, "ca", "init", "--intercept", "a*b.example"); status == 0 || !strings.Contains(errs, "a*b.example") {
		t.Errorf("a pattern that cannot be a constraint: status %d, %s", status, errs)
	}
}
