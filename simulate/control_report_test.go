package simulate_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/client/winagent"
	"github.com/wufault/wufault/internal/worldtest"
	"github.com/wufault/wufault/simulate"
)

// TestControlReports posts what wufault-agent sends (winagent.PostReports)
// to a real world's control API and finds the reports in its journal, with
// the active scenario.
func TestControlReports(t *testing.T) {
	w := worldtest.Start(t, worldtest.Control("tok"), worldtest.Scenario("dns-nxdomain-scan"))
	base := w.ControlURL()

	p := winagent.ProbeResult{URL: "http://fe3.delivery.mp.microsoft.com/ClientWebService/client.asmx", Class: "scan", Stage: "send", Win32: 12007, Duration: 20 * time.Millisecond}
	winagent.Interpret(&p)
	reports := []winagent.Report{
		winagent.ProbeReport("WIN10-LAB", p, time.Now()),
		winagent.ScanReport("WIN10-LAB", winagent.InterpretScan("search", 0x8024402C, 0, 0, nil), time.Now()),
	}
	if err := winagent.PostReports(context.Background(), nil, base, "tok", reports); err != nil {
		t.Fatal(err)
	}
	evs := w.Journal().Events(0, func(e simulate.Event) bool { return e.Kind == simulate.EventReport })
	if len(evs) != 2 {
		t.Fatalf("%d report events: %+v", len(evs), evs)
	}
	e := evs[0]
	if e.Code != "0x80072EE7" || e.Scenario != "dns-nxdomain-scan" || e.Host != "fe3.delivery.mp.microsoft.com" || e.Path != "/ClientWebService/client.asmx" ||
		e.Class != profile.ClassScan || !strings.Contains(e.Detail, "win32 12007") || !strings.Contains(e.Detail, "wua 0x8024402C") || !strings.Contains(e.Detail, "WIN10-LAB") {
		t.Errorf("probe event %+v", e)
	}
	if evs[1].Code != "0x8024402C" || !strings.Contains(evs[1].Detail, "scan") {
		t.Errorf("scan event %+v", evs[1])
	}

	post := func(token, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, base+"/reports", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// One object, any code spelling.
	if st, b := post("tok", `{"kind":"log","code":"-2145107941","host":"vm2"}`); st != http.StatusAccepted || !strings.Contains(b, `"accepted": 1`) {
		t.Errorf("single object: %d %s", st, b)
	}
	if evs := w.Journal().Events(0, func(e simulate.Event) bool { return e.Kind == simulate.EventReport }); evs[len(evs)-1].Code != "0x8024401B" {
		t.Errorf("signed decimal not canonicalised: %+v", evs[len(evs)-1])
	}
	for _, c := range []struct {
		name, token, body, want string
		status                  int
	}{
		{"bad code", "tok", `[{"kind":"probe","code":"0xZZ"}]`, "reports[0]: code:", 400},
		{"bad kind and class", "tok", `[{"kind":"guess","code":"0x80072EFE","class":"nope"}]`, "is not probe, scan or log", 400},
		{"not json", "tok", `hello`, "want a JSON object or array", 400},
		{"empty", "tok", `[]`, "empty", 400},
		{"too long", "tok", `[{"kind":"probe","code":"0x80072EFE","detail":"` + strings.Repeat("x", 3000) + `"}]`, "longer than", 400},
		{"too big", "tok", `[` + strings.Repeat(`{"kind":"probe","code":"0x80072EFE"},`, 40000) + `{}]`, "", 413},
		{"no token", "", `[{"kind":"probe","code":"0x80072EFE"}]`, "bearer", 401},
	} {
		st, b := post(c.token, c.body)
		if st != c.status || !strings.Contains(b, c.want) {
			t.Errorf("%s: %d %s; want %d containing %q", c.name, st, b, c.status, c.want)
		}
	}
	var n int
	for _, e := range w.Journal().Events(0, nil) {
		if e.Kind == simulate.EventReport {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d report events after the rejected posts, want 3 (nothing partial)", n)
	}
}
