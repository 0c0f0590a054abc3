package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/wufault/wufault/simulate"
)

// served is one `wufault serve` running in-process.
type served struct {
	addrs     simulate.Addrs
	out, errb *syncBuf
	stop      func() error // cancels serve and returns its error
}

// startServe runs `wufault serve args...` with a ready file and waits
// until every listener accepts.
func startServe(t *testing.T, args ...string) *served {
	t.Helper()
	ready := filepath.Join(t.TempDir(), "ready.json")
	ctx, cancel := context.WithCancel(context.Background())
	s := &served{out: &syncBuf{}, errb: &syncBuf{}}
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"serve", "--ready-file", ready}, args...), s.out, s.errb)
	}()
	var once bool
	var err error
	s.stop = func() error {
		if !once {
			once = true
			cancel()
			err = <-done
		}
		return err
	}
	t.Cleanup(func() { _ = s.stop() })
	for i := 0; ; i++ {
		b, rerr := os.ReadFile(ready)
		if rerr == nil && json.Unmarshal(b, &s.addrs) == nil {
			return s
		}
		select {
		case err := <-done:
			t.Fatalf("serve ended: %v: %s", err, s.errb.String())
		default:
		}
		if i > 400 {
			t.Fatalf("no ready file: %s", s.errb.String())
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// waitOutput waits until serve's output matches re.
func (s *served) waitOutput(t *testing.T, re *regexp.Regexp) {
	t.Helper()
	for i := 0; i < 200; i++ {
		if re.MatchString(s.out.String()) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("serve output lacks %s:\n%s", re, s.out.String())
}

func queryA(t *testing.T, server, name string) int {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 2 * time.Second}).Exchange(m, server)
	if err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
	return r.Rcode
}

// TestServeTerminal checks what serve prints at the default level: the
// first-run lab CA with its certutil line, one line per fault firing
// (client, scenario, kind, host, phase) and per scenario change; and that
// --quiet prints none of them.
func TestServeTerminal(t *testing.T) {
	state := t.TempDir()
	s := startServe(t, "--scenario", "dns-nxdomain-scan", "--state-dir", state,
		"--proxy", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--upstream-http", "127.0.0.1:0",
		"--upstream-https", "", "--control", "127.0.0.1:0")
	if rc := queryA(t, s.addrs.DNS, "wsus.lab"); rc != dns.RcodeNameError {
		t.Fatalf("rcode %s, want NXDOMAIN", dns.RcodeToString[rc])
	}
	s.waitOutput(t, regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d fault    dns\.nxdomain client=127\.0\.0\.1 scenario=dns-nxdomain-scan host=wsus\.lab phase=resolve\b`))
	req, _ := http.NewRequest(http.MethodPut, "http://"+s.addrs.Control+"/scenario?name=http-status-503-scan", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("PUT /scenario: %s", resp.Status)
	}
	s.waitOutput(t, regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d scenario http-status-503-scan client=default  1 faults`))
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	out := s.out.String()
	if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d lab CA .*created the lab CA "wufault lab CA [0-9a-f]+" \(thumbprint [0-9A-F]{40}, .*certutil -addstore Root lab-ca.cer`).MatchString(out) {
		t.Errorf("no lab CA line on the first run:\n%s", out)
	}
	if n := strings.Count(out, " fault "); n != 1 {
		t.Errorf("%d fault lines for one firing:\n%s", n, out)
	}

	// The second run finds the CA; --quiet silences the event lines.
	q := startServe(t, "--quiet", "--scenario", "dns-nxdomain-scan", "--state-dir", state,
		"--proxy", "127.0.0.1:0", "--dns", "127.0.0.1:0", "--upstream-http", "", "--upstream-https", "", "--control", "")
	if rc := queryA(t, q.addrs.DNS, "wsus.lab"); rc != dns.RcodeNameError {
		t.Fatalf("rcode %s, want NXDOMAIN", dns.RcodeToString[rc])
	}
	time.Sleep(100 * time.Millisecond)
	if err := q.stop(); err != nil {
		t.Fatal(err)
	}
	if out := q.out.String(); strings.Contains(out, "fault ") || strings.Contains(out, "lab CA") || !strings.Contains(out, "dns ") {
		t.Errorf("--quiet output:\n%s", out)
	}
}

// TestCtlCommands drives a running serve with `wufault ctl`: use a
// catalog scenario, follow the journal while a query fires it, list the
// scenario changes; a wrong scenario name exits non-zero naming it.
func TestCtlCommands(t *testing.T) {
	s := startServe(t, "--quiet", "--state-dir", t.TempDir(), "--proxy", "", "--dns", "127.0.0.1:0",
		"--upstream-http", "", "--upstream-https", "", "--control", "127.0.0.1:0", "--control-token", "tok")
	ctlArgs := func(args ...string) []string {
		return append([]string{"ctl", "--control", s.addrs.Control, "--control-token", "tok"}, args...)
	}
	out, errs, status := runCmd(t, ctlArgs("use", "dns-nxdomain-scan")...)
	if status != 0 || !strings.Contains(out, "default scenario: dns-nxdomain-scan (1 faults)") {
		t.Fatalf("ctl use: %d %s %s", status, out, errs)
	}
	if _, errs, status := runCmd(t, ctlArgs("use", "no-such-scenario")...); status == 0 || !strings.Contains(errs, `no catalog scenario named "no-such-scenario"`) {
		t.Errorf("ctl use of an unknown scenario: %d %s", status, errs)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var fout, ferr syncBuf
	done := make(chan error, 1)
	go func() { done <- run(ctx, ctlArgs("journal", "--follow", "--event", "fault"), &fout, &ferr) }()
	for i := 0; !strings.Contains(fout.String(), "fault    dns.nxdomain"); i++ {
		if i > 100 {
			t.Fatalf("ctl journal --follow printed no fault: %s %s", fout.String(), ferr.String())
		}
		queryA(t, s.addrs.DNS, "wsus.lab")
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("ctl journal --follow: %v", err)
	}
	if !regexp.MustCompile(`fault    dns\.nxdomain client=127\.0\.0\.1 scenario=dns-nxdomain-scan host=wsus\.lab phase=resolve`).MatchString(fout.String()) {
		t.Errorf("followed:\n%s", fout.String())
	}
	out, _, status = runCmd(t, ctlArgs("journal", "--event", "scenario")...)
	if status != 0 || !strings.Contains(out, "scenario dns-nxdomain-scan client=default") {
		t.Errorf("ctl journal: %d\n%s", status, out)
	}

	// Per client: 127.0.0.7 gets a scenario of its own, which its queries meet.
	out, errs, status = runCmd(t, ctlArgs("use", "dns-servfail-scan", "--client", "127.0.0.7")...)
	if status != 0 || !strings.Contains(out, "client 127.0.0.7/32: scenario dns-servfail-scan") {
		t.Fatalf("ctl use --client: %d %s %s", status, out, errs)
	}
	if _, errs, status := runCmd(t, ctlArgs("use", "dns-servfail-scan", "--client", "127.0.0.1/8")...); status == 0 || !strings.Contains(errs, "host bits set") {
		t.Errorf("ctl use --client with host bits: %d %s", status, errs)
	}
	m := new(dns.Msg)
	m.SetQuestion("wsus.lab.", dns.TypeA)
	c := &dns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP("127.0.0.7")}}}
	if r, _, err := c.Exchange(m, s.addrs.DNS); err != nil || r.Rcode != dns.RcodeServerFailure {
		t.Errorf("127.0.0.7's query: %v %v", r, err)
	}
	out, _, status = runCmd(t, ctlArgs("clients")...)
	if status != 0 || !regexp.MustCompile(`127\.0\.0\.7/32\s+dns-servfail-scan\s+1\s+1\s+127\.0\.0\.7\n`).MatchString(out) ||
		!regexp.MustCompile(`default\s+dns-nxdomain-scan\s+1\s+\d+\s+127\.0\.0\.1`).MatchString(out) {
		t.Errorf("ctl clients: %d\n%s", status, out)
	}
	if out, _, status := runCmd(t, ctlArgs("use", "none", "--client", "127.0.0.7")...); status != 0 || !strings.Contains(out, "back to the default") {
		t.Errorf("ctl use none --client: %d %s", status, out)
	}
}

// TestServeAssign starts serve with --assign and checks the assigned
// client meets its scenario while another meets the default; a bad
// --assign stops serve before any socket opens.
func TestServeAssign(t *testing.T) {
	s := startServe(t, "--state-dir", t.TempDir(), "--proxy", "", "--dns", "127.0.0.1:0", "--upstream-http", "", "--upstream-https", "",
		"--control", "", "--scenario", "dns-nxdomain-scan", "--assign", "127.0.0.6=dns-servfail-scan", "--assign", "127.0.0.0/30=healthy-lab")
	for ip, want := range map[string]int{"127.0.0.6": dns.RcodeServerFailure, "127.0.0.2": dns.RcodeRefused /* no fault; no emulator to point at */, "127.0.0.5": dns.RcodeNameError} {
		m := new(dns.Msg)
		m.SetQuestion("wsus.lab.", dns.TypeA)
		c := &dns.Client{Timeout: 2 * time.Second, Dialer: &net.Dialer{LocalAddr: &net.UDPAddr{IP: net.ParseIP(ip)}}}
		if r, _, err := c.Exchange(m, s.addrs.DNS); err != nil || r.Rcode != want {
			t.Errorf("%s: %v %v, want %s", ip, r, err, dns.RcodeToString[want])
		}
	}
	s.waitOutput(t, regexp.MustCompile(`scenario dns-servfail-scan client=127\.0\.0\.6/32`))
	for _, bad := range []string{"127.0.0.6", "127.0.0.300=healthy-lab", "127.0.0.6=no-such"} {
		if _, errs, status := runCmd(t, "serve", "--assign", bad, "--proxy", "", "--dns", "", "--upstream-http", "", "--upstream-https", "", "--control", ""); status != 1 || !strings.Contains(errs, "--assign") {
			t.Errorf("--assign %s: %d %s", bad, status, errs)
		}
	}
}
