package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

func TestLogsCommand(t *testing.T) {
	dir := t.TempDir()
	journal := filepath.Join(dir, "journal.jsonl")
	// The world's journal: a dns.nxdomain firing 1 s before the Agent's
	// final line (the log is read as UTC).
	if err := os.WriteFile(journal, []byte(`{"seq":1,"time":"2020-05-08T10:00:14Z","event":"fault","fault":"dns.nxdomain","rule":1,"phase":"resolve","host":"fe3.delivery.mp.microsoft.com"}`+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errs, status := runCmd(t, "logs", "--tz", "UTC", "--journal", journal, "--window", "5s", "../../client/observe/testdata/etw-utf16le.log")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	for _, want := range []string{
		"etw-utf16le.log: etw, utf-16le, 17 lines",
		"0x8024402C  WU_E_PT_WINHTTP_NAME_NOT_RESOLVED  ../../client/observe/testdata/etw-utf16le.log:15  [final]",
		"fault: dns.nxdomain (rule 1, phase resolve, fe3.delivery.mp.microsoft.com) fired 1.002s before this line",
		"final: 0x8024402C (WU_E_PT_WINHTTP_NAME_NOT_RESOLVED)",
		"proxy lists: (null)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, status = runCmd(t, "logs", "--json", "--tz", "UTC", "../../client/observe/testdata/legacy.log")
	var got logsOutput
	if status != 0 || json.Unmarshal([]byte(out), &got) != nil || len(got.Files) != 1 || len(got.Files[0].Entries) != 12 {
		t.Errorf("--json: status %d, %d files:\n%s", status, len(got.Files), out)
	}
	_, errs, status = runCmd(t, "logs", filepath.Join(dir, "missing.log"))
	if status != 1 || !strings.Contains(errs, "missing.log") {
		t.Errorf("missing file: status %d, %q", status, errs)
	}
	_, _, status = runCmd(t, "logs", "--tz", "Mars/Olympus", "../../client/observe/testdata/legacy.log")
	if status != 1 {
		t.Errorf("bad --tz: status %d", status)
	}
}

func TestAnalyzeCommand(t *testing.T) {
	out, errs, status := runCmd(t, "analyze", "../../client/observe/testdata/pcap/tls-alert.pcap")
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	for _, want := range []string{"tls.alert", "fatal alert protocol_version (70) from the server", "⇒ 0x80072F8F (WININET_E_DECODING_FAILED)  confidence medium  (section 4 #11"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, status = runCmd(t, "analyze", "--json", "../../client/observe/testdata/pcap/tcp-refused.pcap")
	if status != 0 || !strings.Contains(out, `"signature": "tcp.refused"`) || !strings.Contains(out, `"code": "0x80072EFD"`) {
		t.Errorf("--json: status %d:\n%s", status, out)
	}
	_, errs, status = runCmd(t, "analyze", "../../client/observe/testdata/legacy.log")
	if status != 1 || !strings.Contains(errs, "not a pcap or pcapng file") {
		t.Errorf("not a capture: status %d, %q", status, errs)
	}
}

// TestServePcap runs `wufault serve --pcap` with a catalog DNS fault,
// asks the world's DNS, and analyses the recording: the world's own
// traffic, captured where the platform allows.
func TestServePcap(t *testing.T) {
	dir := t.TempDir()
	ready, pcap := filepath.Join(dir, "ready.json"), filepath.Join(dir, "world.pcap")
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb syncBuf
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--scenario", "dns-nxdomain-scan", "--proxy", "127.0.0.1:0", "--dns", "127.0.0.1:0",
			"--upstream-http", "", "--upstream-https", "", "--control", "", "--state-dir", dir,
			"--ready-file", ready, "--pcap", pcap}, &out, &errb)
	}()
	var addrs struct {
		DNS string `json:"dns"`
	}
	for i := 0; ; i++ {
		b, err := os.ReadFile(ready)
		if err == nil && json.Unmarshal(b, &addrs) == nil {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v: %s", err, errb.String())
		default:
		}
		if i > 200 {
			cancel()
			t.Fatalf("no ready file: %s", errb.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
	if strings.Contains(errb.String(), "cannot record") {
		cancel()
		<-done
		t.Skipf("serve says it cannot capture here: %s", errb.String())
	}
	m := new(dns.Msg)
	m.SetQuestion("wsus.lab.", dns.TypeA)
	if r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, addrs.DNS); err != nil || r.Rcode != dns.RcodeNameError {
		t.Errorf("world DNS: %v %v", r, err)
	}
	time.Sleep(200 * time.Millisecond) // let the capture drain its socket
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "pcap ") {
		t.Errorf("serve did not announce the recording:\n%s", out.String())
	}
	_, port, _ := strings.Cut(addrs.DNS, ":")
	res, errs, status := runCmd(t, "analyze", "--dns-port", port, pcap)
	if status != 0 || !strings.Contains(res, "dns.nxdomain") || !strings.Contains(res, "0x8024402C") {
		t.Errorf("analyze: status %d %s\n%s", status, errs, res)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
