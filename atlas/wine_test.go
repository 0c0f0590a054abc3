package atlas

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/internal/wine"
)

// TestJudgeWine: the verdicts from outcomes, including each known
// deviation and a real disagreement.
func TestJudgeWine(t *testing.T) {
	failed := func(winhttp, status int, phase string) Cell {
		return Cell{Status: StatusFailed, WinHTTP: winhttp, HTTPStatus: status, Phase: phase}
	}
	cases := []struct {
		name    string
		c       Cell
		w       WineCell
		verdict string
		dev     string
	}{
		{"same error", failed(12029, 0, "connect"), WineCell{Win32: 12029, Stage: "send"}, WineAgree, ""},
		{"same status", failed(0, 503, "headers"), WineCell{Status: 503, Stage: "done"}, WineAgree, ""},
		{"both error-free", Cell{Status: StatusPassed}, WineCell{Status: 200, Stage: "done"}, WineAgree, ""},
		{"soap fault above WinHTTP", failed(0, 200, ""), WineCell{Status: 200, Stage: "done"}, WineAgree, ""},
		{"reset as 10054", failed(12030, 0, "body"), WineCell{Win32: 10054, Stage: "read"}, WineDeviation, "reset as 10054"},
		{"reset before the response", failed(12030, 0, "headers"), WineCell{Win32: 12152, Stage: "receive"}, WineDeviation, "reset before the response as 12152"},
		{"handshake", failed(12030, 0, "handshake"), WineCell{Win32: 12157, Stage: "send"}, WineDeviation, "handshake failure as 12157"},
		{"certificate", failed(12175, 0, "handshake"), WineCell{Win32: 12157, Stage: "send"}, WineDeviation, "handshake failure as 12157"},
		{"tls 1.3 only", Cell{Status: StatusPassed}, WineCell{Win32: 12157, Stage: "send"}, WineDisagree, ""},
		{"short body", failed(12030, 0, "body"), WineCell{Status: 200, Bytes: 512, ContentLength: 4096, Stage: "done"}, WineDeviation, "short body without an error"},
		{"timeout as 10060", failed(12002, 0, "headers"), WineCell{Win32: 10060, Stage: "receive"}, WineDeviation, "timeout as 10060"},
		{"receive timeout ignored", failed(12002, 0, "body"), WineCell{TimedOut: true}, WineDeviation, "receive timeout ignored"},
		// Not explained by any known deviation: shown as a disagreement.
		{"other error", failed(12029, 0, "connect"), WineCell{Win32: 12007, Stage: "send"}, WineDisagree, ""},
		{"other status", failed(0, 503, "headers"), WineCell{Status: 200, Stage: "done"}, WineDisagree, ""},
		{"wine fails where the emulated client passed", Cell{Status: StatusPassed}, WineCell{Win32: 12030, Stage: "read"}, WineDisagree, ""},
		{"12157 outside a handshake", failed(12030, 0, "body"), WineCell{Win32: 12157, Stage: "read"}, WineDisagree, ""},
		{"emulated failed earlier above WinHTTP", Cell{Status: StatusElsewhere, Code: 0x8024502D}, WineCell{Win32: 12157, Stage: "send"}, WineUncompared, ""},
		{"emulated failed earlier on the same host", Cell{Status: StatusElsewhere, WinHTTP: 12029}, WineCell{Win32: 12029, Stage: "send"}, WineAgree, ""},
		{"no answer without a timeout", failed(0, 503, "headers"), WineCell{TimedOut: true}, WineDisagree, ""},
	}
	for _, tc := range cases {
		w := tc.w
		judgeWine(tc.c, &w)
		if w.Verdict != tc.verdict || w.Deviation != tc.dev {
			t.Errorf("%s: verdict %q deviation %q, want %q %q", tc.name, w.Verdict, w.Deviation, tc.verdict, tc.dev)
		}
	}
}

// TestAtlasWine runs a small slice of the atlas with --wine: the agent's
// WinHTTP probe under a real Wine, through each cell's world and proxy
// while the cell's fault is active. Wine's column must come from what
// Wine's WinHTTP returned (the fault fired for its request, the code is
// HRESULT_FROM_WIN32 of its error), an agreement must show as one, and a
// known Wine deviation must be marked as such in every format.
func TestAtlasWine(t *testing.T) {
	if testing.Short() {
		t.Skip("boots a Wine prefix (~30-60 s); skipped with -short")
	}
	if _, err := wine.Find(); err != nil {
		t.Skipf("atlas --wine: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	// Three cells: a status (Wine agrees), a reset before any response
	// byte (Wine: 12152, a known deviation from Windows' 12030) and a
	// reset in the TLS handshake (Wine: 12157).
	f := Filters{Kinds: []string{"http.status", "tcp.reset"}, Variants: []string{"status=503", "at=proxy", "at=handshake"},
		Classes: []string{"scan"}, Generations: []string{"modern"}}
	if n := len(Plan(f)); n != 3 {
		t.Fatalf("the slice has %d cells, want 3", n)
	}
	a, err := Run(ctx, Options{Filters: f, StateDir: t.TempDir(), Parallel: 2, Wine: &WineOptions{Dir: t.TempDir()}})
	if err != nil {
		if errors.Is(err, wine.ErrMissing) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	if !a.Wine {
		t.Error("the atlas does not say Wine ran")
	}
	byVariant := map[string]Cell{}
	for _, c := range a.Cells {
		byVariant[c.Variant] = c
		w := c.Wine
		if w == nil {
			t.Fatalf("%s: no Wine result", c.ID)
		}
		t.Logf("%s: emulated %s winhttp %d status %d phase %s; Wine %s at %s (%s) fired %d in %s; %s", c.ID, c.Code.Hex(), c.WinHTTP, c.HTTPStatus, c.Phase,
			w.Outcome(), w.Stage, w.Mark(), w.Fired, w.Duration, w.Note)
		if w.Verdict == WineError || w.Verdict == WineNotRun {
			t.Errorf("%s: Wine %s: %s", c.ID, w.Verdict, w.Note)
			continue
		}
		if w.Fired == 0 {
			t.Errorf("%s: the fault never fired for Wine's request (it did not go through the cell's world)", c.ID)
		}
		if !strings.HasPrefix(w.URL, "https://wsus.lab:") || w.Role != "scan" {
			t.Errorf("%s: Wine requested %s as %s, want the scan service of the cell's world", c.ID, w.URL, w.Role)
		}
		if w.Win32 != 0 && w.Code != codes.FromWin32(w.Win32) {
			t.Errorf("%s: code %s is not HRESULT_FROM_WIN32(%d)", c.ID, w.Code, w.Win32)
		}
	}
	if w := byVariant["status=503"].Wine; w == nil || w.Status != 503 || w.Verdict != WineAgree {
		t.Errorf("status=503: Wine %+v, want HTTP 503 and agree", w)
	}
	deviations := 0
	for _, v := range []string{"at=proxy", "at=handshake"} {
		c := byVariant[v]
		if c.WinHTTP != 12030 {
			t.Errorf("%s: the emulated client reports %d, want 12030 (a reset)", v, c.WinHTTP)
		}
		w := c.Wine
		if w == nil || w.Win32 == 0 || w.Win32 == 12030 {
			t.Errorf("%s: Wine %+v, want an error other than Windows' 12030", v, w)
			continue
		}
		if w.Verdict != WineDeviation {
			t.Errorf("%s: Wine's %d is %q, want a known deviation", v, w.Win32, w.Verdict)
			continue
		}
		deviations++
		// Every format marks it.
		for _, format := range Formats {
			var b bytes.Buffer
			if err := Render(&b, a, format); err != nil {
				t.Fatal(err)
			}
			want := "wine deviation: " + w.Deviation
			if format == "json" {
				want = `"deviation": "` + w.Deviation + `"`
			}
			if !strings.Contains(b.String(), want) {
				t.Errorf("%s: the %s format lacks %q", v, format, want)
			}
		}
	}
	if deviations == 0 {
		t.Error("no known Wine deviation was marked")
	}
	if !strings.Contains(a.SummaryLine(), "Wine's WinHTTP:") {
		t.Errorf("summary %q does not count Wine's verdicts", a.SummaryLine())
	}
}
