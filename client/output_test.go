package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/simulate/wsus"
)

func TestResultOutput(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	lw.Activate("502", 1, loadFaults(t, "- {kind: http.status, status: 502, match: {path: /ClientWebService/*}}"))
	m := newMachine(t, profile.Profile{Timeouts: patient()}, lw.Env())
	r := run(t, m)
	var b strings.Builder
	if err := r.WriteJSON(&b); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Code   string `json:"code"`
		Class  string `json:"class"`
		Failed struct {
			Call, Phase, Error, Confidence, Source, Rule string
			Status                                       int
			Code                                         string
			Duration                                     string
		} `json:"failed"`
		Observations []map[string]any `json:"observations"`
	}
	if err := json.Unmarshal([]byte(b.String()), &got); err != nil {
		t.Fatalf("json: %v\n%s", err, b.String())
	}
	f := got.Failed
	if got.Code != "0x80244021" || got.Class != "scan" || f.Call != "GetConfig" || f.Status != 502 || f.Phase != "headers" ||
		f.Rule != "http-502" || f.Confidence != "high" || f.Source == "" || f.Error == "" || f.Duration == "" {
		t.Errorf("json result %+v", got)
	}
	if len(got.Observations) != 2 || got.Observations[0]["code"] != "0x00000000" {
		t.Errorf("observations %v", got.Observations)
	}
	b.Reset()
	if err := r.WriteText(&b); err != nil || !strings.Contains(b.String(), "result: 0x80244021 (WU_E_PT_HTTP_STATUS_BAD_GATEWAY)") {
		t.Errorf("text: %v\n%s", err, b.String())
	}
}

func TestRunCancelled(t *testing.T) {
	lw := startWorld(t, wsus.Options{Seed: 1})
	lw.Activate("stall", 1, loadFaults(t, "- {kind: tcp.stall, at: headers}"))
	m := newMachine(t, profile.Profile{Timeouts: patient()}, lw.Env())
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := m.Run(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Run = %v, want the context's error", err)
	}
	_ = profile.ClassScan
}
