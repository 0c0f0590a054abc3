package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
)

func TestPrintSetup(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--print-setup", "--lab-proxy", "192.0.2.10:8080", "--ca", "lab-ca.cer"}, &out, &errb); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`netsh winhttp set proxy proxy-server="192.0.2.10:8080" bypass-list="<local>"`,
		"certutil -addstore Root lab-ca.cer",
		"net stop wuauserv",
		"rem   netsh winhttp reset proxy",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	var ue usageError
	if err := run(context.Background(), []string{"--print-setup"}, io.Discard, io.Discard); !errors.As(err, &ue) {
		t.Errorf("--print-setup without --lab-proxy: %v", err)
	}
	if err := run(context.Background(), []string{"--proxy", "a:1", "--direct"}, io.Discard, io.Discard); !errors.As(err, &ue) {
		t.Errorf("--proxy with --direct: %v", err)
	}
	if err := run(context.Background(), []string{"stray"}, io.Discard, io.Discard); !errors.As(err, &ue) {
		t.Errorf("stray argument: %v", err)
	}
}

// Off Windows the probe and scan report that they need Windows; the rest
// (output, reporting) still works.
func TestRunOffWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("probes the network for real on Windows")
	}
	var posted []map[string]any
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewDecoder(r.Body).Decode(&posted)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	var out, errb bytes.Buffer
	err := run(context.Background(), []string{"--json", "--url", "http://127.0.0.1:1/x", "--scan", "--report", srv.URL}, &out, &errb)
	if err != nil {
		t.Fatalf("%v: %s", err, errb.String())
	}
	var got output
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || len(got.Probes) != 1 || got.Scan == nil {
		t.Fatalf("output %v: %s", err, out.String())
	}
	if !strings.Contains(got.Probes[0].Note, "needs Windows") || !strings.Contains(got.Scan.Note, "needs Windows") {
		t.Errorf("notes: %q %q", got.Probes[0].Note, got.Scan.Note)
	}
	if len(posted) != 2 || posted[0]["kind"] != "probe" || posted[1]["kind"] != "scan" {
		t.Errorf("posted %v", posted)
	}
}

func TestVersionFlag(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"--version"}, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "wufault-agent ") || !strings.Contains(out.String(), " go1.") {
		t.Errorf("--version printed %q", out.String())
	}
}
