package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out, errs, status := runCmd(t, args...)
		if status != 0 || !strings.HasPrefix(out, "wufault ") || !strings.Contains(out, " go1.") {
			t.Errorf("%v: status %d, out %q, err %q", args, status, out, errs)
		}
	}
	out, _, status := runCmd(t, "version", "--json")
	var v struct{ Program, Version, Go string }
	if status != 0 || json.Unmarshal([]byte(out), &v) != nil || v.Program != "wufault" || v.Version == "" || v.Go == "" {
		t.Errorf("version --json: %d %q", status, out)
	}
}

// A typo'd subcommand under a group fails with a suggestion, as one at the
// top does; the bare group still shows its help.
func TestUnknownSubcommand(t *testing.T) {
	for args, want := range map[string]string{
		"scenarios lst": `did you mean "list"`,
		"ca exprt":      `did you mean "export"`,
		"faults lsit":   `did you mean "list"`,
	} {
		_, errs, status := runCmd(t, strings.Fields(args)...)
		if status == 0 || !strings.Contains(errs, `unknown command "`) || !strings.Contains(errs, want) {
			t.Errorf("%s: status %d, stderr %q", args, status, errs)
		}
	}
	if out, _, status := runCmd(t, "scenarios"); status != 0 || !strings.Contains(out, "Available Commands") {
		t.Errorf("bare group: %d %q", status, out)
	}
}

// decode reads the root's flags among its codes.
func TestDecodeWithConfig(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "x.yaml")
	os.WriteFile(cfg, []byte("log-level: info\n"), 0o600)
	for _, args := range [][]string{{"decode", "12030", "--config", cfg}, {"decode", "--config=" + cfg, "12030"}} {
		out, errs, status := runCmd(t, args...)
		if status != 0 || !strings.Contains(out, "WININET_E_CONNECTION_ABORTED") {
			t.Errorf("%v: status %d\n%s%s", args, status, out, errs)
		}
	}
	// The file is read: a bad value in it is an error.
	os.WriteFile(cfg, []byte("log-level: bogus\n"), 0o600)
	if _, errs, status := runCmd(t, "decode", "12030", "--config", cfg); status == 0 || !strings.Contains(errs, "log-level") {
		t.Errorf("config not read: %d %q", status, errs)
	}
}

// run --json and the JUnit report carry the time the run took (whatever
// the verdict: a loaded machine may time the session out).
func TestRunDuration(t *testing.T) {
	dir := t.TempDir()
	out, errs, status := runCmd(t, "--state-dir", dir, "run", "--json", "--no-fixes", "healthy-lab")
	var r struct {
		DurationNS int64 `json:"duration_ns"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.DurationNS <= 0 {
		t.Errorf("run --json: status %d, duration_ns %d (%v)\n%s%s", status, r.DurationNS, err, out, errs)
	}
	report := filepath.Join(dir, "wufault.xml")
	if _, errs, status := runCmd(t, "--state-dir", dir, "matrix", "--format", "junit", "--out", report, "healthy-lab"); status > 1 {
		t.Fatalf("matrix: %d %s", status, errs)
	}
	b, _ := os.ReadFile(report)
	var suite struct {
		Cases []struct {
			Time string `xml:"time,attr"`
		} `xml:"testcase"`
	}
	if err := xml.Unmarshal(b, &suite); err != nil || len(suite.Cases) != 1 {
		t.Fatalf("junit %v\n%s", err, b)
	}
	if s, err := strconv.ParseFloat(suite.Cases[0].Time, 64); err != nil || s <= 0 {
		t.Errorf("testcase time=%q", suite.Cases[0].Time)
	}
}

func TestJSONOutputs(t *testing.T) {
	out, _, status := runCmd(t, "scenarios", "list", "--json")
	var scs []struct {
		Name   string   `json:"name"`
		Codes  []string `json:"codes"`
		Faults []string `json:"faults"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &scs) != nil || len(scs) < 20 {
		t.Fatalf("scenarios list --json: %d %q", status, out)
	}
	dir := t.TempDir()
	out, _, status = runCmd(t, "--state-dir", dir, "ca", "init", "--json")
	var ca struct {
		State     string   `json:"state"`
		SHA256    string   `json:"sha256"`
		Permitted []string `json:"permitted"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &ca) != nil || ca.State != "created" || len(ca.SHA256) != 64 || len(ca.Permitted) == 0 {
		t.Errorf("ca init --json: %d %q", status, out)
	}
	out, _, status = runCmd(t, "--state-dir", dir, "verify", "--json", "proxy-refused")
	var v struct {
		Checks []struct {
			Scenario string `json:"scenario"`
			Fix      string `json:"fix"`
			Got      string `json:"got"`
			Pass     bool   `json:"pass"`
		} `json:"checks"`
		Mismatches int `json:"mismatches"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &v) != nil || len(v.Checks) != 3 || v.Mismatches != 0 || v.Checks[0].Scenario != "proxy-refused" || v.Checks[0].Got == "" {
		t.Errorf("verify --json: %d %q", status, out)
	}
}

// scenarios list --json names, per scenario, the codes it reproduces and
// the final code it expects: QA labs find the 0x80072EE7 and 0x8024502D
// scenarios there (issue 15's done-when; the golden test runs them).
func TestScenariosListJSONCodes(t *testing.T) {
	out, _, status := runCmd(t, "scenarios", "list", "--json")
	var scs []struct {
		Name   string   `json:"name"`
		Codes  []string `json:"codes"`
		Expect string   `json:"expect"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &scs) != nil {
		t.Fatalf("scenarios list --json: %d %q", status, out)
	}
	for _, code := range []string{"0x80072EE7", "0x8024502D", "0x8024402F", "0x80244010", "0x80190193"} {
		var names []string
		for _, sc := range scs {
			if slices.Contains(sc.Codes, code) && (sc.Expect == code || code == "0x80190193") {
				names = append(names, sc.Name)
			}
		}
		if len(names) == 0 {
			t.Errorf("no scenario lists and expects %s", code)
		}
	}
}

// The generated part of the catalog names codes common in real logs.
func TestDecodeGeneratedNames(t *testing.T) {
	out, errs, status := runCmd(t, "decode", "--json", "0x80070057", "0x800706D9", "0x800736B3", "E_INVALIDARG")
	var got []decodedCode
	if status != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got) != 4 {
		t.Fatalf("status %d %s\n%s", status, errs, out)
	}
	for n, want := range []string{"E_INVALIDARG", "EPT_S_NOT_REGISTERED", "ERROR_SXS_ASSEMBLY_NOT_FOUND", "E_INVALIDARG"} {
		if got[n].Name != want || !got[n].Known {
			t.Errorf("%s: name %q, want %q", got[n].Input, got[n].Name, want)
		}
	}
	if got[0].Win32 != 87 || !strings.Contains(got[0].Description, "ERROR_INVALID_PARAMETER") {
		t.Errorf("0x80070057: %+v", got[0])
	}
	// Hand-written meanings stay for the network codes.
	out, _, _ = runCmd(t, "decode", "0x80072EFE")
	if !strings.Contains(out, "WININET_E_CONNECTION_ABORTED") || !strings.Contains(out, "RST or FIN") {
		t.Errorf("hand-written entry lost:\n%s", out)
	}
}
