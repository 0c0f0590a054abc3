package observe

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func addFiles(f *testing.F, pattern string) {
	files, _ := filepath.Glob(pattern)
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzParseLog: any bytes give a result (never nil, never a panic), and
// every entry it keeps has a code or a structured field.
func FuzzParseLog(f *testing.F) {
	addFiles(f, "testdata/*.log")
	addFiles(f, "testdata/*.xml")
	f.Add([]byte("2010-11-23 11:03:45:106 800 634 Misc WARNING: hr = 80072ee2\n"))
	f.Add([]byte{0xFF, 0xFE, 'A', 0, '\n'})
	f.Fuzz(func(t *testing.T, b []byte) {
		res, _ := ParseLog(bytes.NewReader(b), "fuzz", LogOptions{MaxLineBytes: 4096, Location: time.UTC})
		if res == nil {
			t.Fatal("nil result")
		}
		for _, e := range res.Entries {
			if len(e.Codes) == 0 && !e.hasFields() {
				t.Fatalf("entry without code or field: %+v", e)
			}
		}
		if _, err := json.Marshal(res); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

// FuzzAnalyze: any bytes give an analysis (never nil, never a panic) that
// marshals to JSON.
func FuzzAnalyze(f *testing.F) {
	addFiles(f, "testdata/pcap/*.pcap")
	f.Fuzz(func(t *testing.T, b []byte) {
		an, _ := Analyze(bytes.NewReader(b), "fuzz", AnalyzeOptions{DNSPorts: []int{1053}, StallThreshold: 100 * time.Millisecond, MaxPackets: 2000})
		if an == nil {
			t.Fatal("nil analysis")
		}
		if _, err := json.Marshal(an); err != nil {
			t.Fatalf("marshal: %v", err)
		}
	})
}

// FuzzReadJournal: journals cut anywhere or garbled give the complete
// events and warnings, never a panic.
func FuzzReadJournal(f *testing.F) {
	f.Add([]byte(`{"seq":1,"time":"2024-05-10T09:12:13Z","event":"fault","fault":"dns.nxdomain","rule":1}` + "\n" + `{"seq":2,"ti`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, _, _ := ReadJournal(bytes.NewReader(b))
		for _, e := range ev {
			if e.Kind == "" {
				t.Fatalf("event without a kind: %+v", e)
			}
		}
	})
}
