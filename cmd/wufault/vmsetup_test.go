package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestVMSetup prints a VM's setup and undo and checks them against the
// lab CA as `ca export` writes it, and its thumbprint against openssl.
func TestVMSetup(t *testing.T) {
	state := t.TempDir()
	out, errs, status := runCmd(t, "vm-setup", "--vm", "127.0.0.5", "--state-dir", state)
	if status != 0 {
		t.Fatalf("status %d: %s", status, errs)
	}
	setup, undo, ok := strings.Cut(out, "# Undo, on the VM")
	if !ok {
		t.Fatalf("no undo section:\n%s", out)
	}
	for _, want := range []string{
		`netsh winhttp set proxy proxy-server="127.0.0.1:8080" bypass-list="<local>"`,
		`certutil -addstore Root "$env:TEMP\wufault-lab-ca.cer"`,
		"Set-DnsClientServerAddress -InterfaceIndex $lab -ServerAddresses 127.0.0.1",
		`reg add HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate /v WUServer /t REG_SZ /d http://wsus.lab:8530 /f`,
		`reg add HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate\AU /v UseWUServer /t REG_DWORD /d 1 /f`,
		"Restart-Service -Force wuauserv, bits",
		"--allow-cidr 127.0.0.5/32",
	} {
		if !strings.Contains(setup, want) {
			t.Errorf("setup lacks %q", want)
		}
	}
	pemStart, pemEnd := strings.Index(setup, "-----BEGIN CERTIFICATE-----"), strings.Index(setup, "-----END CERTIFICATE-----")
	if pemStart < 0 || pemEnd < pemStart {
		t.Fatalf("no CA in the setup:\n%s", setup)
	}
	inline := setup[pemStart:pemEnd+len("-----END CERTIFICATE-----")] + "\n"
	exported, _, status := runCmd(t, "ca", "export", "--state-dir", state)
	if status != 0 || exported != inline {
		t.Errorf("the inline CA is not the one ca export writes:\n%s\n%s", inline, exported)
	}
	for _, want := range []string{"netsh winhttp reset proxy", "-ResetServerAddresses", `reg delete HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate /v WUServer /f`, "Restart-Service"} {
		if !strings.Contains(undo, want) {
			t.Errorf("undo lacks %q", want)
		}
	}
	if _, err := exec.LookPath("openssl"); err == nil {
		file := filepath.Join(t.TempDir(), "ca.pem")
		if err := os.WriteFile(file, []byte(inline), 0o644); err != nil {
			t.Fatal(err)
		}
		b, err := exec.Command("openssl", "x509", "-noout", "-fingerprint", "-sha1", "-in", file).Output()
		if err != nil {
			t.Fatal(err)
		}
		_, fp, _ := strings.Cut(strings.TrimSpace(string(b)), "=")
		if want := "certutil -delstore Root " + strings.ReplaceAll(fp, ":", "") + "\n"; !strings.Contains(undo, want) {
			t.Errorf("undo lacks %q:\n%s", want, undo)
		}
	}
	out, _, _ = runCmd(t, "vm-setup", "--vm", "127.0.0.5", "--state-dir", state, "--no-dns", "--no-wsus", "--lab-host", "192.0.2.1", "--proxy-port", "3128")
	if strings.Contains(out, "Set-DnsClientServerAddress") || strings.Contains(out, "WUServer") || !strings.Contains(out, `proxy-server="192.0.2.1:3128"`) {
		t.Errorf("--no-dns --no-wsus --lab-host:\n%s", out)
	}
	if _, errs, status := runCmd(t, "vm-setup", "--vm", "vm1", "--state-dir", state); status != 1 || !strings.Contains(errs, `--vm "vm1"`) {
		t.Errorf("a name for --vm: %d %s", status, errs)
	}
}

// TestReadmeServeExample runs the README's lab serve command as written,
// the lab host's addresses moved to loopback ports of the kernel's choice,
// with the token defined as the README defines it.
func TestReadmeServeExample(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	i := strings.Index(readme, "./wufault serve --scenario")
	if i < 0 {
		t.Fatal("no ./wufault serve in the README")
	}
	if !strings.Contains(readme[:i], "export TOKEN=") {
		t.Error("the README uses $TOKEN before defining it")
	}
	line := readme[i:]
	line = line[:strings.Index(line, "\n```")]
	line = strings.ReplaceAll(line, "\\\n", " ")
	line = regexp.MustCompile(`192\.168\.56\.1:\d+`).ReplaceAllString(line, "127.0.0.1:0")
	t.Setenv("TOKEN", "readme-token")
	words := shellWords(t, os.ExpandEnv(line))
	if words[0] != "./wufault" || words[1] != "serve" {
		t.Fatalf("not a serve command: %q", words)
	}
	var args []string // startServe brings its own ready file
	for j := 2; j < len(words); j++ {
		if words[j] == "--ready-file" {
			j++
			continue
		}
		args = append(args, words[j])
	}
	s := startServe(t, append(args, "--state-dir", t.TempDir())...)
	if s.addrs.Proxy == "" || s.addrs.DNS == "" || s.addrs.Control == "" || s.addrs.UpstreamHTTPS == "" {
		t.Errorf("not every service runs: %+v", s.addrs)
	}
	if err := s.stop(); err != nil {
		t.Fatalf("the README's serve: %v\n%s", err, s.errb.String())
	}
}

// shellWords splits a command line as sh does for plain words and
// double-quoted ones (what the README uses).
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var out []string
	var cur strings.Builder
	inWord, quoted := false, false
	for _, r := range s {
		switch {
		case r == '"':
			quoted, inWord = !quoted, true
		case (r == ' ' || r == '\t' || r == '\n') && !quoted:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quoted {
		t.Fatalf("unbalanced quotes in %q", s)
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
