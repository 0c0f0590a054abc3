package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/wufault/wufault/scenarios"
)

func TestFaultsShow(t *testing.T) {
	out, errs, status := runCmd(t, "faults", "show", "tcp.reset")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	for _, w := range []string{`(?m)^after_bytes\s+integer\s+0\s+-\s+AfterBytes is`, `(?m)^at\s+phase\s+headers\s+connect, proxy, handshake, request, headers, body\s`, `(?m)^direction\s+string\s+down\s+down, up\s`, "example: the catalog scenario connection-aborted-scan", "kind: tcp.reset"} {
		if !regexp.MustCompile(w).MatchString(out) {
			t.Errorf("faults show tcp.reset lacks %q:\n%s", w, out)
		}
	}
	out, _, status = runCmd(t, "faults", "show", "--json", "proxy.auth")
	var r struct {
		Params []struct {
			Name    string   `json:"name"`
			Allowed []string `json:"allowed"`
		} `json:"params"`
		Example string `json:"example"`
	}
	if status != 0 || json.Unmarshal([]byte(out), &r) != nil || len(r.Params) < 4 || r.Example == "" {
		t.Errorf("show --json: %d %s", status, out)
	}
	if _, errs, status := runCmd(t, "faults", "show", "tcp.rest"); status != 1 || !strings.Contains(errs, `did you mean "tcp.reset"`) {
		t.Errorf("unknown kind: %d %q", status, errs)
	}
	out, _, _ = runCmd(t, "faults", "list")
	if !strings.Contains(out, "PARAMETERS") || !regexp.MustCompile(`tcp\.reset\s+at, after_bytes, direction\s`).MatchString(out) {
		t.Errorf("faults list shows no parameters:\n%s", out)
	}
}

// docs/faults.md is the registry's table: regenerate it with
// go run ./cmd/wufault faults list --markdown > docs/faults.md.
func TestFaultsDocUpToDate(t *testing.T) {
	want, _, status := runCmd(t, "faults", "list", "--markdown")
	if status != 0 {
		t.Fatal(status)
	}
	got, err := os.ReadFile("../../docs/faults.md")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Error("docs/faults.md is stale: go run ./cmd/wufault faults list --markdown > docs/faults.md")
	}
}

// Every YAML example in the README and docs loads: scenarios through the
// strict scenario loader (a fragment without a name gets one), the
// configuration example through the config loader.
func TestDocYAMLExamples(t *testing.T) {
	files, _ := filepath.Glob("../../docs/*.md")
	files = append(files, "../../README.md")
	block := regexp.MustCompile("(?s)(<!-- config example -->\\s*)?```yaml\n(.*?)```")
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range block.FindAllSubmatchIndex(b, -1) {
			n++
			text := string(b[m[4]:m[5]])
			line := 1 + strings.Count(string(b[:m[4]]), "\n")
			where := fmt.Sprintf("%s:%d", filepath.Base(f), line)
			if m[2] >= 0 {
				tmp := filepath.Join(t.TempDir(), "config.yaml")
				os.WriteFile(tmp, []byte(text), 0o600)
				if _, errs, status := runCmd(t, "--config", tmp, "faults", "list"); status != 0 {
					t.Errorf("%s: config example does not load: %s", where, errs)
				}
				continue
			}
			if !regexp.MustCompile(`(?m)^name:`).MatchString(text) {
				text = "name: doc-example\n" + text
			}
			if _, err := scenarios.Load(strings.NewReader(text), where); err != nil {
				t.Errorf("%s: %v", where, err)
			}
		}
	}
	if n < 3 {
		t.Errorf("only %d YAML examples found", n)
	}
}
