package verify

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/scenarios"
)

func sampleReport() *Report {
	rep := &Report{Started: time.Unix(0, 0).UTC(), Duration: 1500 * time.Millisecond, Results: []Result{
		{Scenario: "b-reset", Faults: []string{"tcp.reset@body"}, Class: "scan", Expected: codes.MustParse("0x80072EFE"), Observed: codes.MustParse("0x80072EFE"), Confidence: "medium-high", Source: "[L-WINHTTPERR] 12030", Pass: true,
			Fixes: []FixResult{{Fix: "retry-later", Expected: scenarios.OutcomeNoEffect, Got: scenarios.OutcomeNoEffect, After: codes.MustParse("0x80072EFE"), Pass: true}}},
		{Scenario: "a-nxdomain", Faults: []string{"dns.nxdomain"}, Class: "selfupdate", Expected: codes.MustParse("0x8024402C"), Observed: codes.MustParse("0x80072EE7"), Confidence: "high", Source: "[L-402C]", Pass: false},
		{Scenario: "c-fix", Faults: []string{"dns.nxdomain"}, Class: "selfupdate", Expected: codes.MustParse("0x8024402C"), Observed: codes.MustParse("0x8024402C"), Pass: true,
			Fixes: []FixResult{{Fix: "restart-wu-services", With: []string{"reset-winhttp-proxy"}, Expected: scenarios.OutcomeFixes, Got: scenarios.OutcomeNoEffect, After: codes.MustParse("0x8024402C")}}},
		{Scenario: "d-error", Error: "start world: boom"},
	}}
	rep.Summarize()
	return rep
}

func TestSummarize(t *testing.T) {
	rep := sampleReport()
	if rep.Passed != 1 || rep.Failed != 3 || rep.Results[0].Scenario != "a-nxdomain" {
		t.Fatalf("passed %d failed %d first %s", rep.Passed, rep.Failed, rep.Results[0].Scenario)
	}
	if SummaryLine(rep) != "1 passed, 3 failed" {
		t.Errorf("summary %q", SummaryLine(rep))
	}
}

func TestRenderTable(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, sampleReport(), "table"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, w := range []string{
		"a-nxdomain", "dns.nxdomain", "0x8024402C", "0x80072EE7", "FAIL",
		"a-nxdomain: expected 0x8024402C (WU_E_PT_WINHTTP_NAME_NOT_RESOLVED), observed 0x80072EE7 (WININET_E_NAME_NOT_RESOLVED)",
		"c-fix: fix reset-winhttp-proxy + restart-wu-services: expected fixes, got no-effect",
		"d-error: start world: boom", "\n1 passed, 3 failed in 1.5s\n",
	} {
		if !strings.Contains(out, w) {
			t.Errorf("table lacks %q:\n%s", w, out)
		}
	}
	// Passing rows and fixes add no explanation line; without reports there
	// is no real-client column.
	for _, w := range []string{"b-reset: ", "fix retry-later", "REAL CLIENTS"} {
		if strings.Contains(out, w) {
			t.Errorf("table has %q:\n%s", w, out)
		}
	}
}

func TestRenderJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, sampleReport(), "junit"); err != nil {
		t.Fatal(err)
	}
	var s junitSuite
	if err := xml.Unmarshal(b.Bytes(), &s); err != nil {
		t.Fatalf("junit is not XML: %v\n%s", err, b.String())
	}
	if s.Tests != 4 || s.Failures != 2 || s.Errors != 1 || s.Cases[0].Failure == nil || s.Cases[3].Error == nil || s.Cases[1].Failure != nil {
		t.Errorf("suite %+v", s)
	}
	if f := s.Cases[2].Failure; f == nil || f.Message != "fix reset-winhttp-proxy + restart-wu-services: expected fixes, got no-effect (code after 0x8024402C (WU_E_PT_WINHTTP_NAME_NOT_RESOLVED))" {
		t.Errorf("c-fix failure %+v", f)
	}
	if c := s.Cases[1]; c.Classname != "wufault.tcp.reset" || !strings.Contains(c.SystemOut, "observed: 0x80072EFE") {
		t.Errorf("b-reset case %+v", c)
	}
}

func TestRenderHTMLIsSelfContained(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, sampleReport(), "html"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, bad := range []string{`src="http`, "url(http", "<script src", "<link", "@import"} {
		if strings.Contains(out, bad) {
			t.Errorf("html references %q: not self-contained", bad)
		}
	}
	for _, w := range []string{"<th>dns.nxdomain</th>", `<a href="` + codes.SourceLink("L-WINHTTPERR") + `">[L-WINHTTPERR]</a> 12030`, "0x80072EE7", "WININET_E_NAME_NOT_RESOLVED", "mismatch", "1 passed, 3 failed"} {
		if !strings.Contains(out, w) {
			t.Errorf("html lacks %q", w)
		}
	}
}

func TestRenderJSONAndMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := Render(&b, sampleReport(), "json"); err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b.Bytes(), &back); err != nil || len(back.Results) != 4 || back.Results[0].Observed != codes.MustParse("0x80072EE7") {
		t.Fatalf("json round trip: %v %+v", err, back)
	}
	b.Reset()
	if err := Render(&b, sampleReport(), "markdown"); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, w := range []string{
		"| b-reset | `tcp.reset@body` | scan | 0x80072EFE `WININET_E_CONNECTION_ABORTED` | 0x80072EFE `WININET_E_CONNECTION_ABORTED` | - |",
		"| c-fix | reset-winhttp-proxy + restart-wu-services | fixes | no-effect | 0x8024402C `WU_E_PT_WINHTTP_NAME_NOT_RESOLVED` |",
		"| d-error |", "| ERROR |", "\n1 passed, 3 failed\n",
	} {
		if !strings.Contains(md, w) {
			t.Errorf("markdown lacks %q:\n%s", w, md)
		}
	}
	b.Reset()
	if err := Render(&b, sampleReport(), "md"); err != nil || b.String() != md {
		t.Errorf("md is not markdown: %v\n%s", err, b.String())
	}
	if err := Render(&b, sampleReport(), "pdf"); err == nil {
		t.Error("unknown format accepted")
	}
}

func TestAttachReports(t *testing.T) {
	rep := sampleReport()
	n := AttachReports(rep, []observe.JournalEvent{
		{Kind: "report", Scenario: "b-reset", Code: "0x80072EFE"},
		{Kind: "report", Scenario: "b-reset", Code: "-2147012866"},
		{Kind: "report", Scenario: "a-nxdomain", Code: "8024402C"},
		{Kind: "fault", Scenario: "a-nxdomain", Code: "0x80072EE7"},
		{Kind: "report", Scenario: "unknown", Code: "0x80072EE7"},
		{Kind: "report", Scenario: "a-nxdomain", Code: "garbage"},
	})
	if n != 3 {
		t.Errorf("matched %d reports, want 3", n)
	}
	if got := rep.Results[1].Reported; len(got) != 1 || got[0] != codes.MustParse("0x80072EFE") {
		t.Errorf("b-reset reported %v", got)
	}
	var b bytes.Buffer
	if err := Render(&b, rep, "table"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "REAL CLIENTS") || !strings.Contains(b.String(), "0x8024402C  0x80072EE7  0x8024402C") {
		t.Errorf("table:\n%s", b.String())
	}
}
