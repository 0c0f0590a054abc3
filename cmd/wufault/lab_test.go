package main

import (
	"encoding/json"
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

// run's exit status: 1 when a fix misses its expected outcome (0 with
// --no-fixes, which skips them), 1 for a scenario that does not load or
// does not exist; --json keeps the status and prints no diff.
func TestRunExitCodes(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "wrong-fix.yaml")
	os.WriteFile(f, []byte(`name: wrong-fix
faults:
  - kind: http.status
    match: {class: scan, path: "/ClientWebService/*"}
    status: 503
expect: {code: 0x80244022}
fixes:
  - {fix: sfc-dism, outcome: fixes}
`), 0o600)
	out, _, status := runCmd(t, "--state-dir", dir, "run", f)
	if status != 1 || !strings.Contains(out, "- fix sfc-dism: expected fixes\n+ fix sfc-dism: got no-effect") {
		t.Errorf("fix mismatch: status %d, want 1 and the diff\n%s", status, out)
	}
	if out, errs, status := runCmd(t, "--state-dir", dir, "run", "--no-fixes", f); status != 0 || strings.Contains(out, "sfc-dism") {
		t.Errorf("--no-fixes: status %d, want 0 without the fix\n%s%s", status, out, errs)
	}
	out, _, status = runCmd(t, "--state-dir", dir, "run", "--json", f)
	var r struct {
		Pass  bool `json:"pass"`
		Fixes []struct {
			Got  string `json:"got"`
			Pass bool   `json:"pass"`
		} `json:"fixes"`
	}
	if status != 1 || json.Unmarshal([]byte(out), &r) != nil || !r.Pass || len(r.Fixes) != 1 || r.Fixes[0].Pass || r.Fixes[0].Got != "no-effect" {
		t.Errorf("--json: status %d, want 1 and the JSON result alone\n%s", status, out)
	}
	broken := filepath.Join(dir, "broken.yaml")
	os.WriteFile(broken, []byte("name: broken\nexpect: {code: 0x80244022, clas: scan}\n"), 0o600)
	if _, errs, status := runCmd(t, "run", broken); status != 1 || !strings.Contains(errs, `broken.yaml:2: expect: unknown key "clas"`) {
		t.Errorf("broken file: status %d, stderr %q", status, errs)
	}
	if _, errs, status := runCmd(t, "run", "dns-nxdomain-sacn"); status != 1 || !strings.Contains(errs, `did you mean "dns-nxdomain-scan"`) {
		t.Errorf("unknown scenario: status %d, stderr %q", status, errs)
	}
}

func TestMatrixJUnitAndVerify(t *testing.T) {
	dir := t.TempDir()
	report := filepath.Join(dir, "wufault.xml")
	out, errs, status := runCmd(t, "--state-dir", dir, "matrix", "--format", "junit", "--out", report, "healthy-lab", "http-status-404-scan")
	if status != 0 || !strings.Contains(out, "2 passed, 0 failed") {
		t.Fatalf("status %d\n%s%s", status, out, errs)
	}
	if strings.Contains(errs, "\033[") {
		t.Errorf("progress bar drawn on a non-terminal stderr: %q", errs)
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
{"seq":2,"time":
`), 0o600)
	out, errs, status := runCmd(t, "--state-dir", dir, "matrix", "--observed", journal, "http-status-404-scan")
	if status != 0 || !strings.Contains(out, "REAL CLIENTS") || !strings.Contains(out, "0x80244019  0x80244019  0x80244019") {
		t.Errorf("status %d\n%s%s", status, out, errs)
	}
	if !strings.Contains(errs, "warning: "+journal+": journal line 2: ") {
		t.Errorf("the cut line is not reported: %q", errs)
	}
	if _, errs, status := runCmd(t, "--state-dir", dir, "matrix", "--observed", filepath.Join(dir, "missing.jsonl"), "healthy-lab"); status == 0 || !strings.Contains(errs, "missing.jsonl") {
		t.Errorf("missing journal: status %d, stderr %q", status, errs)
	}
}
