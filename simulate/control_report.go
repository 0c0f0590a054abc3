package simulate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// POST /reports records what a real client observed (wufault-agent's
// probes and scans, or any tool that speaks the same JSON) as "report"
// events of the active scenario, so a matrix can put observed codes beside
// predicted ones. The body is one report object or an array of them:
//
//	{"agent": "wufault-agent/1", "host": "WIN10-LAB", "kind": "probe" | "scan" | "log",
//	 "time": "2024-05-10T09:12:13Z", "url": "http://…", "class": "scan", "stage": "send",
//	 "code": "0x80072EE7", "wua": "0x8024402C", "win32": 12007, "status": 0,
//	 "duration_ms": 12, "detail": "…"}
//
// code is required and read with codes.Parse (any spelling); the answer is
// 202 with the journal sequence numbers, or 400 naming every problem.

// maxReportBody bounds a POST /reports body; maxReports the reports in it.
const (
	maxReportBody = 1 << 20
	maxReports    = 1000
	maxReportText = 2048
)

// ClientReport is one observation as the control API accepts it.
type ClientReport struct {
	Agent      string    `json:"agent"`
	Host       string    `json:"host"`
	Kind       string    `json:"kind"`
	Time       time.Time `json:"time"`
	URL        string    `json:"url"`
	Class      string    `json:"class"`
	Stage      string    `json:"stage"`
	Code       string    `json:"code"`
	WUA        string    `json:"wua"`
	Win32      uint32    `json:"win32"`
	Status     int       `json:"status"`
	DurationMS int64     `json:"duration_ms"`
	Detail     string    `json:"detail"`
}

// reportKinds are the kinds of observation a report may carry.
var reportKinds = map[string]bool{"probe": true, "scan": true, "log": true}

// event validates r and turns it into a journal event; it returns the
// problems instead when r is not acceptable.
func (r ClientReport) event(scenario, client string) (Event, []string) {
	var probs []string
	code, err := codes.Parse(r.Code)
	if err != nil {
		probs = append(probs, "code: "+err.Error())
	}
	var wua codes.Code
	if r.WUA != "" {
		if wua, err = codes.Parse(r.WUA); err != nil {
			probs = append(probs, "wua: "+err.Error())
		}
	}
	if !reportKinds[r.Kind] {
		probs = append(probs, fmt.Sprintf("kind: %q is not probe, scan or log", r.Kind))
	}
	for name, v := range map[string]string{"agent": r.Agent, "host": r.Host, "url": r.URL, "stage": r.Stage, "detail": r.Detail} {
		if len(v) > maxReportText {
			probs = append(probs, fmt.Sprintf("%s: longer than %d bytes", name, maxReportText))
		}
	}
	if r.Class != "" && !profile.Class(r.Class).Valid() {
		probs = append(probs, fmt.Sprintf("class: %q is not scan, selfupdate, redirector or download", r.Class))
	}
	if r.Status < 0 || r.Status > 999 || r.DurationMS < 0 {
		probs = append(probs, "status and duration_ms must be small non-negative numbers")
	}
	if len(probs) > 0 {
		return Event{}, probs
	}
	e := Event{Kind: EventReport, Scenario: scenario, Service: "control", Client: client, Class: profile.Class(r.Class),
		Status: r.Status, Duration: time.Duration(r.DurationMS) * time.Millisecond, Code: code.Hex()}
	if u, err := url.Parse(r.URL); err == nil && r.URL != "" {
		e.Host, e.Path = u.Host, u.Path
	}
	parts := []string{r.Kind}
	if r.Host != "" {
		parts = append(parts, "from "+r.Host)
	}
	if r.Agent != "" {
		parts = append(parts, "("+r.Agent+")")
	}
	if r.Stage != "" {
		parts = append(parts, "stage "+r.Stage)
	}
	if r.Win32 != 0 {
		parts = append(parts, fmt.Sprintf("win32 %d", r.Win32))
	}
	if r.WUA != "" && wua != code {
		parts = append(parts, "wua "+wua.Hex())
	}
	if !r.Time.IsZero() {
		parts = append(parts, "at "+r.Time.UTC().Format(time.RFC3339Nano))
	}
	if r.Detail != "" {
		parts = append(parts, "- "+r.Detail)
	}
	e.Detail = strings.Join(parts, " ")
	return e, nil
}

// postReports journals the reports in the body.
func (c *controlService) postReports(rw http.ResponseWriter, r *http.Request) {
	b, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxReportBody))
	if err != nil {
		writeJSON(rw, http.StatusRequestEntityTooLarge, apiError{Error: "reports body: " + err.Error()})
		return
	}
	var reports []ClientReport
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '{' {
		var one ClientReport
		err = json.Unmarshal(b, &one)
		reports = []ClientReport{one}
	} else {
		err = json.Unmarshal(b, &reports)
	}
	switch {
	case err != nil:
		writeJSON(rw, http.StatusBadRequest, apiError{Error: "reports: want a JSON object or array: " + err.Error()})
		return
	case len(reports) == 0:
		writeJSON(rw, http.StatusBadRequest, apiError{Error: "reports: empty"})
		return
	case len(reports) > maxReports:
		writeJSON(rw, http.StatusRequestEntityTooLarge, apiError{Error: fmt.Sprintf("reports: more than %d in one request", maxReports)})
		return
	}
	scenario := c.w.activeForAddr(r.RemoteAddr).Name
	events := make([]Event, 0, len(reports))
	var probs []string
	for i, rep := range reports {
		e, p := rep.event(scenario, r.RemoteAddr)
		for _, s := range p {
			probs = append(probs, fmt.Sprintf("reports[%d]: %s", i, s))
		}
		events = append(events, e)
	}
	if len(probs) > 0 {
		writeJSON(rw, http.StatusBadRequest, apiError{Error: "invalid reports", Problems: probs})
		return
	}
	seqs := make([]uint64, len(events))
	for i, e := range events {
		seqs[i] = c.w.journal.Add(e).Seq
	}
	writeJSON(rw, http.StatusAccepted, map[string]any{"accepted": len(events), "scenario": scenario, "seq": seqs})
}
