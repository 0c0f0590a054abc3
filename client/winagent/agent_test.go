package winagent

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

func TestInterpret(t *testing.T) {
	cases := []struct {
		name   string
		in     ProbeResult
		code   codes.Code
		wua    codes.Code
		noteIn string
	}{
		{"name not resolved: WUA translates 12007", ProbeResult{Stage: "send", Win32: 12007}, 0x80072EE7, 0x8024402C, ""},
		{"refused passes raw", ProbeResult{Stage: "send", Win32: 12029}, 0x80072EFD, 0x80072EFD, ""},
		{"reset passes raw", ProbeResult{Stage: "read", Win32: 12030}, 0x80072EFE, 0x80072EFE, ""},
		{"timeout passes raw", ProbeResult{Stage: "receive", Win32: 12002}, 0x80072EE2, 0x80072EE2, ""},
		{"certificate", ProbeResult{Stage: "send", Win32: 12175}, 0x80072F8F, 0x80072F8F, ""},
		{"wine reset 10054", ProbeResult{Stage: "read", Win32: 10054}, 0x80072746, 0x80072EFE, "reports 12030"},
		{"wine timeout 10060", ProbeResult{Stage: "receive", Win32: 10060}, 0x8007274C, 0x80072EE2, "reports 12002"},
		{"407", ProbeResult{Stage: "done", Status: 407, ContentLength: 0}, codes.OK, 0x8024401B, ""},
		{"502", ProbeResult{Stage: "done", Status: 502, ContentLength: -1}, codes.OK, 0x80244021, ""},
		{"418 unmapped", ProbeResult{Stage: "done", Status: 418, ContentLength: -1}, codes.OK, 0x8024402B, ""},
		{"200 ok", ProbeResult{Stage: "done", Status: 200, Bytes: 10, ContentLength: 10}, codes.OK, codes.OK, ""},
		{"200 short body", ProbeResult{Stage: "done", Status: 200, Bytes: 512, ContentLength: 4096}, codes.OK, codes.OK, "512 of 4096"},
		{"206 range", ProbeResult{Stage: "done", Status: 206, Bytes: 1024, ContentLength: 1024}, codes.OK, codes.OK, ""},
	}
	for _, c := range cases {
		r := c.in
		Interpret(&r)
		if r.Code != c.code || r.WUA != c.wua || !strings.Contains(r.Note, c.noteIn) || (c.noteIn == "" && r.Note != "") {
			t.Errorf("%s: code %s wua %s note %q; want %s %s note containing %q", c.name, r.Code, r.WUA, r.Note, c.code, c.wua, c.noteIn)
		}
	}
}

func TestInterpretScan(t *testing.T) {
	cases := []struct {
		name     string
		stage    string
		hr       uint32
		rc       int
		warnings []ScanWarning
		code     codes.Code
		result   string
		note     string
	}{
		{"success", "done", 0, 2, nil, codes.OK, "Succeeded", ""},
		{"search fails with name not resolved", "search", 0x8024402C, 0, nil, 0x8024402C, "Failed", ""},
		{"proxy auth", "search", 0x8024401B, 0, nil, 0x8024401B, "Failed", ""},
		{"wine: not implemented", "search", 0x80004001, 0, nil, 0x80004001, "Failed", "E_NOTIMPL"},
		{"service disabled", "search", 0x80070422, 0, nil, 0x80070422, "Failed", "disabled"},
		{"failed with a warning", "done", 0, 4, []ScanWarning{{HResult: 0x80072EFE, Message: "x"}}, 0x80072EFE, "Failed", ""},
		{"succeeded with errors", "done", 0, 3, []ScanWarning{{HResult: 0x80244019}}, 0x80244019, "SucceededWithErrors", ""},
		{"failed without a warning", "done", 0, 4, nil, 0x80240FFF, "Failed", "WU_E_UNEXPECTED"},
		{"aborted", "done", 0, 5, nil, 0x80240FFF, "Aborted", ""},
	}
	for _, c := range cases {
		r := InterpretScan(c.stage, c.hr, c.rc, 0, c.warnings)
		if r.Code != c.code || r.ResultName != c.result || !strings.Contains(r.Note, c.note) || r.Stage != c.stage {
			t.Errorf("%s: %+v; want code %s result %s note %q", c.name, r, c.code, c.result, c.note)
		}
	}
}

func TestSetupCommands(t *testing.T) {
	got := strings.Join(SetupCommands("192.0.2.10:8080", "lab-ca.cer"), "\n")
	want := `netsh winhttp set proxy proxy-server="192.0.2.10:8080" bypass-list="<local>"
certutil -addstore Root lab-ca.cer
net stop wuauserv
net start wuauserv`
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if c := SetupCommands("", `C:\lab files\lab-ca.cer`); c[0] != `certutil -addstore Root "C:\lab files\lab-ca.cer"` {
		t.Errorf("quoting: %q", c[0])
	}
	if u := UndoCommands(""); u[0] != "netsh winhttp reset proxy" || !strings.Contains(u[1], "-delstore Root THUMBPRINT") {
		t.Errorf("undo: %q", u)
	}
	if u := UndoCommands("0762127CE6CC32FC794F1A33D61B9937DA4028CD"); u[1] != "certutil -delstore Root 0762127CE6CC32FC794F1A33D61B9937DA4028CD" {
		t.Errorf("undo by thumbprint: %q", u)
	}
}

// TestThumbprintMatchesOpenSSL computes a certificate's thumbprint from
// its PEM and DER files and checks it against openssl's SHA-1 fingerprint.
func TestThumbprintMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (Debian package openssl)")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "wufault lab CA 1234abcd"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "lab-ca.cer")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	if err := os.WriteFile(file, pemBytes, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("openssl", "x509", "-noout", "-fingerprint", "-sha1", "-in", file).Output()
	if err != nil {
		t.Fatal(err)
	}
	_, fp, _ := strings.Cut(strings.TrimSpace(string(out)), "=")
	want := strings.ReplaceAll(fp, ":", "")
	for _, in := range [][]byte{pemBytes, der} {
		if got, err := Thumbprint(in); err != nil || got != want {
			t.Errorf("Thumbprint = %q, %v; openssl says %q", got, err, want)
		}
	}
	if _, err := Thumbprint([]byte("not a certificate")); err == nil {
		t.Error("garbage has a thumbprint")
	}
}

func TestTargets(t *testing.T) {
	eps, err := Targets(nil, "")
	if err != nil || len(eps) != len(client.MicrosoftUpdateEndpoints()) {
		t.Errorf("default: %d endpoints, %v", len(eps), err)
	}
	eps, err = Targets(nil, "http://wsus.lab.test:8530")
	if err != nil || len(eps) == 0 || !strings.HasPrefix(eps[0].URL, "http://wsus.lab.test:8530/") {
		t.Errorf("wsus: %+v, %v", eps, err)
	}
	// profile.ClassOf classes them: any path but / is content.
	eps, _ = Targets([]string{"http://127.0.0.1:1/selfupdate/wuident.cab", "http://127.0.0.1:1/x", "http://127.0.0.1:1/"}, "ignored")
	if len(eps) != 3 || eps[0].Class != profile.ClassSelfUpdate || eps[1].Class != profile.ClassDownload || eps[2].Class != "" {
		t.Errorf("urls: %+v", eps)
	}
	if m, h, b := requestShape(client.RoleScan); m != "POST" || !strings.Contains(string(b), "<GetConfig") ||
		h != "Content-Type: text/xml; charset=utf-8\r\nSOAPAction: \"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/GetConfig\"" {
		t.Errorf("scan shape: %s %q %s", m, h, b)
	}
	if m, h, b := requestShape(client.RoleFile); m != "GET" || h != "Range: bytes=0-1023" || b != nil {
		t.Errorf("file shape: %s %q %s", m, h, b)
	}
	if m, h, b := requestShape(client.RoleHost); m != "GET" || h != "" || b != nil {
		t.Errorf("host shape: %s %q %s", m, h, b)
	}
}

func TestPostReports(t *testing.T) {
	var got []Report
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		if r.Method != http.MethodPost || r.URL.Path != "/reports" {
			http.Error(w, "wrong route", 404)
			return
		}
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &got); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	p := ProbeResult{URL: "http://x/", Stage: "send", Win32: 12007, Duration: 1500 * time.Millisecond}
	Interpret(&p)
	rs := []Report{ProbeReport("vm1", p, time.Unix(0, 0)), ScanReport("vm1", InterpretScan("search", 0x8024402C, 0, 0, nil), time.Unix(0, 0))}
	if err := PostReports(context.Background(), nil, srv.URL, "s3cret", rs); err != nil {
		t.Fatal(err)
	}
	if auth != "Bearer s3cret" || len(got) != 2 || got[0].Code != 0x80072EE7 || got[0].WUA != 0x8024402C || got[0].DurationMS != 1500 || got[1].Kind != "scan" || got[1].Code != 0x8024402C {
		t.Errorf("auth %q, reports %+v", auth, got)
	}
	b, _ := json.Marshal(rs[0])
	if !strings.Contains(string(b), `"code":"0x80072EE7"`) || !strings.Contains(string(b), `"kind":"probe"`) {
		t.Errorf("wire form: %s", b)
	}
	if err := PostReports(context.Background(), nil, srv.URL+"/nope/", "", rs); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("a 404 answer is an error: %v", err)
	}
}
