package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// runCmd runs the command line in-process and returns its output and status.
func runCmd(t *testing.T, args ...string) (stdout, stderr string, status int) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	status = 0
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			status = ee.code
		} else {
			status = 2
		}
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), status
}

// TestDecodeSeed004 decodes every code of seed 004 and checks the name.
func TestDecodeSeed004(t *testing.T) {
	f, err := os.Open("../../codes/testdata/seed004_codes.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var args []string
	want := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		args = append(args, fields[0])
		want[strings.ToUpper(strings.TrimPrefix(strings.ToLower(fields[0]), "0x"))] = fields[1]
	}
	if len(args) < 70 {
		t.Fatalf("only %d seed codes read", len(args))
	}
	out, errs, status := runCmd(t, append([]string{"decode", "--json"}, args...)...)
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	var got []decodedCode
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(args) {
		t.Fatalf("decoded %d of %d codes", len(got), len(args))
	}
	for _, d := range got {
		if w := want[strings.TrimPrefix(d.Code, "0x")]; d.Name != w || d.Description == "" || !d.Known {
			t.Errorf("%s: name %q, want %q (description %q)", d.Code, d.Name, w, d.Description)
		}
	}
}

func TestDecodeText(t *testing.T) {
	out, _, status := runCmd(t, "decode", "-2147012889", "[80072EFE]")
	if status != 0 {
		t.Fatalf("status %d", status)
	}
	for _, w := range []string{"0x80072EE7  WININET_E_NAME_NOT_RESOLVED", "0x80072EFE  WININET_E_CONNECTION_ABORTED", "decimal   -2147012866", "Win32 error 12030",
		"[L-WINHTTPERR] https://github.com/wufault/wufault/blob/main/docs/sources.md#l-winhttperr"} {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestDecodeUnknownExits1(t *testing.T) {
	for _, arg := range []string{"bogus", "0x80071234", "0x"} {
		_, errs, status := runCmd(t, "decode", "0x80072EFE", arg)
		if status != 1 || errs == "" {
			t.Errorf("decode %s: status %d, stderr %q; want 1 and a message", arg, status, errs)
		}
	}
}

func TestScenariosShowBrokenFile(t *testing.T) {
	_, errs, status := runCmd(t, "scenarios", "show", "../../scenarios/testdata/broken.yaml")
	if status != 1 {
		t.Fatalf("status %d", status)
	}
	if !strings.Contains(errs, "16 problem(s)") || !strings.Contains(errs, "broken.yaml:12: faults[0] (tcp.reset): unknown key \"after_byte\"") {
		t.Errorf("stderr:\n%s", errs)
	}
}

func TestScenariosListAndShow(t *testing.T) {
	out, _, status := runCmd(t, "scenarios", "list")
	if status != 0 || !strings.Contains(out, "connection-aborted-scan") {
		t.Fatalf("list: %d\n%s", status, out)
	}
	out, _, status = runCmd(t, "scenarios", "show", "connection-aborted-scan")
	if status != 0 || !strings.Contains(out, "kind: tcp.reset") || !strings.Contains(out, "after_bytes: 512") {
		t.Fatalf("show: %d\n%s", status, out)
	}
}

func TestFaultsList(t *testing.T) {
	out, _, status := runCmd(t, "faults", "list", "--json")
	var rows []struct{ Kind, Layer, Summary string }
	if status != 0 || json.Unmarshal([]byte(out), &rows) != nil || len(rows) < 30 {
		t.Fatalf("faults list: %d %q", status, out)
	}
}

func TestConfigFileUnknownKey(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wufault.yaml")
	os.WriteFile(cfg, []byte("log-level: info\nproxxy: 127.0.0.1:1\n"), 0o600)
	_, errs, status := runCmd(t, "--config", cfg, "faults", "list")
	if status == 0 || !strings.Contains(errs, "wufault.yaml:2: unknown key \"proxxy\"") {
		t.Errorf("status %d, stderr %q", status, errs)
	}
}

func TestConfigLayers(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wufault.yaml")
	os.WriteFile(cfg, []byte("log-level: bogus\n"), 0o600)
	// The file's value is used when nothing overrides it…
	if _, errs, status := runCmd(t, "--config", cfg, "faults", "list"); status == 0 || !strings.Contains(errs, "log-level") {
		t.Errorf("file value not used: %d %q", status, errs)
	}
	// …the environment overrides the file…
	t.Setenv("WUFAULT_LOG_LEVEL", "debug")
	if _, errs, status := runCmd(t, "--config", cfg, "faults", "list"); status != 0 {
		t.Errorf("env did not override the file: %d %q", status, errs)
	}
	// …and a flag overrides the environment.
	t.Setenv("WUFAULT_LOG_LEVEL", "bogus")
	if _, errs, status := runCmd(t, "--config", cfg, "--log-level", "info", "faults", "list"); status != 0 {
		t.Errorf("flag did not override env: %d %q", status, errs)
	}
}

func TestScenariosFixes(t *testing.T) {
	out, _, status := runCmd(t, "scenarios", "fixes", "flush-dns", "reset-winhttp-proxy", "install-root-certs", "raise-timeouts", "reset-wu-components")
	for _, w := range []string{"flush-dns: Flush the DNS client cache", "    ipconfig /flushdns", "    netsh winhttp reset proxy", "  in the lab: clears the client DNS cache",
		// The corrected fixes cite their sources.
		"  source: Microsoft, Configure Trusted Roots", "  source: seed 000 (Internet Settings ReceiveTimeOut/SendTimeOut are WinINet's values); [L-TIMEOUTS]",
		"  source: seed 000; Microsoft KB971058"} {
		if status != 0 || !strings.Contains(out, w) {
			t.Errorf("status %d, output lacks %q:\n%s", status, w, out)
		}
	}
	if _, errs, status := runCmd(t, "scenarios", "fixes", "flush-dsn"); status != 1 || !strings.Contains(errs, `no fix "flush-dsn"`) {
		t.Errorf("unknown fix: %d %q", status, errs)
	}
}
