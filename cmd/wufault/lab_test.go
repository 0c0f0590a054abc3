package main

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunScenario(t *testing.T) {
	out, errs, status := runCmd(t, "--state-dir", t.TempDir(), "run", "dns-nxdomain-transient")
	if status != 0 {
		t.Fatalf("status %d\n%s\n%s", status, out, errs)
	}
	for _, w := range []string{"observed  0x8024402C (WU_E_PT_WINHTTP_NAME_NOT_RESOLVED)  ok", "flush-dns            fixes      0x00000000  ok", "12007"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

// A scenario whose expectation is wrong exits 1 and shows the diff.
func TestRunMismatchExits1(t *testing.T) {
	f := filepath.Join(t.TempDir(), "wrong.yaml")
	os.WriteFile(f, []byte(`name: wrong-expectation
faults:
  - kind: http.status
    match: {class: scan, path: "/ClientWebService/*"}
    status: 503
expect: {code: 0x80244021}
`), 0o600)
	out, _, status := runCmd(t, "--state-dir", t.TempDir(), "run", f)
	if status != 1 {
		t.Fatalf("status %d, want 1\n%s", status, out)
	}
	if !strings.Contains(out, "- expected 0x80244021 (WU_E_PT_HTTP_STATUS_BAD_GATEWAY)") || !strings.Contains(out, "+ observed 0x80244022 (WU_E_PT_HTTP_STATUS_SERVICE_UNAVAIL) (class scan)") {
		t.Errorf("no diff:\n%s", out)
	}
}

func TestMatrixJUnitAndVerify(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "wufault.xml")
	out, errs, status := runCmd(t, "--state-dir", dir, "matrix", "--format", "junit", "--out", report, "healthy-lab", "http-status-404-scan")
	if status != 0 || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("status %d\n%s%s", status, out, errs)
	}
	b, err := os.ReadFile(report)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests int `xml:"tests,attr"`
		Cases []struct {
			Name string `xml:"name,attr"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(b, &suite); err != nil || suite.Tests != 2 || suite.Cases[0].Name != "healthy-lab" {
		t.Errorf("junit %v %+v", err, suite)
	}
	out, _, status = runCmd(t, "--state-dir", dir, "verify", "proxy-refused")
	if status != 0 || !strings.Contains(out, "reset-winhttp-proxy + restart-wu-services") || !strings.Contains(out, "3 fix checks, 0 mismatches") {
		t.Errorf("verify: %d\n%s", status, out)
	}
	if _, errs, status := runCmd(t, "verify"); status != 1 || !strings.Contains(errs, "--all") {
		t.Errorf("verify without scenarios: %d %q", status, errs)
	}
}

func TestMatrixObserved(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	os.WriteFile(journal, []byte(`{"seq":1,"time":"2026-11-21T10:00:00Z","event":"report","scenario":"http-status-404-scan","code":"0x80244019"}
`), 0o600)
	out, errs, status := runCmd(t, "--state-dir", dir, "matrix", "--observed", journal, "http-status-404-scan")
	if status != 0 || !strings.Contains(out, "REAL CLIENTS") || !strings.Contains(out, "0x80244019  0x80244019  0x80244019") {
		t.Errorf("status %d\n%s%s", status, out, errs)
	}
}
