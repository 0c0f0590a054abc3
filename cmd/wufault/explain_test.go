package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestExplainPublishedLogs explains real published WindowsUpdate.log
// excerpts (testdata/explain/*.log, verbatim; each .source names where it
// was published) against an atlas the test runs, and requires a plausible
// fault, a reproducing scenario and the lab's fixes where the catalog has
// them.
func TestExplainPublishedLogs(t *testing.T) {
	dir := t.TempDir()
	at := filepath.Join(dir, "atlas.json")
	if _, errs, status := runCmd(t, "--state-dir", dir, "atlas", "--kind", "http.status,tcp.stall,tcp.refuse,proxy.auth,dns.answer",
		"--class", "selfupdate,scan,download", "--format", "json", "--out", at); status != 0 {
		t.Fatalf("atlas: status %d: %s", status, errs)
	}
	logs, _ := filepath.Glob("testdata/explain/*.log")
	if len(logs) < 4 {
		t.Fatalf("%d published logs in testdata/explain", len(logs))
	}
	for _, l := range logs {
		if _, err := os.Stat(strings.TrimSuffix(l, ".log") + ".source"); err != nil {
			t.Errorf("%s has no .source file naming where it was published", l)
		}
	}
	out, errs, status := runCmd(t, append([]string{"explain", "--json", "--atlas", at}, logs...)...)
	if status != 0 {
		t.Fatalf("explain: status %d: %s", status, errs)
	}
	var got []struct {
		File     string
		Failures []struct {
			Code       string
			Class      string
			Generation string
			HTTPStatus int `json:"http_status"`
			Candidates []struct {
				Cell struct {
					Kind, Variant, Class, Generation, Stack, Rule, Confidence string
				}
				Scenario  string
				Fixes     []string
				Generated string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	want := map[string]struct {
		code, class, gen string
		kinds            []string // one of the top three candidates is of these kinds
		fix              string   // a fix the catalog scenario of some candidate carries
	}{
		"cloudbase-53-80072ee2-selfupdate-timeout.log": {"0x80072EE2", "selfupdate", "legacy", []string{"tcp.stall"}, "reset-winhttp-proxy + restart-wu-services"},
		"gg-2006-80244019-bits-404.log":                {"0x80244019", "download", "legacy", []string{"http.status"}, ""},
		"ktc-2014-8024401b-proxy-407.log":              {"0x8024401B", "scan", "legacy", []string{"proxy.auth", "http.status"}, "provide-proxy-credentials"},
		"ms-blog-80072efd-winhttp-proxy-null.log":      {"0x80072EFD", "selfupdate", "legacy", []string{"tcp.refuse", "dns.answer"}, ""},
	}
	for _, lf := range got {
		w, ok := want[filepath.Base(lf.File)]
		if !ok {
			continue
		}
		found := false
		for _, f := range lf.Failures {
			if f.Code != w.code {
				continue
			}
			found = true
			if f.Class != w.class || f.Generation != w.gen {
				t.Errorf("%s %s: class %q generation %q, want %s %s", lf.File, f.Code, f.Class, f.Generation, w.class, w.gen)
			}
			if len(f.Candidates) == 0 {
				t.Errorf("%s %s: no candidate fault", lf.File, f.Code)
				continue
			}
			plausible, fixed := false, w.fix == ""
			for i, c := range f.Candidates {
				if i < 3 && strings.Contains(strings.Join(w.kinds, " "), c.Cell.Kind) {
					plausible = true
				}
				if c.Scenario == "" && c.Generated == "" {
					t.Errorf("%s: candidate %s %s without a reproducing scenario", lf.File, c.Cell.Kind, c.Cell.Variant)
				}
				if c.Cell.Rule == "" || c.Cell.Confidence == "" {
					t.Errorf("%s: candidate without rule or confidence: %+v", lf.File, c.Cell)
				}
				for _, fx := range c.Fixes {
					fixed = fixed || fx == w.fix
				}
			}
			if !plausible {
				t.Errorf("%s %s: no %v among the top candidates: %+v", lf.File, f.Code, w.kinds, f.Candidates)
			}
			if !fixed {
				t.Errorf("%s %s: no candidate's scenario carries the fix %s", lf.File, f.Code, w.fix)
			}
		}
		if !found {
			t.Errorf("%s: %s not among the failures %+v", lf.File, w.code, lf.Failures)
		}
	}
	if len(got) != len(logs) {
		t.Errorf("%d logs explained, %d given", len(got), len(logs))
	}
}
