package faults

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// curlEnv runs curl, with extra environment variables, through the proxy
// at addr and returns what it printed with -w (status code and connection
// count) and its verbose log.
func curlEnv(t *testing.T, addr string, env []string, args ...string) (out, log string) {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed: the curl interop tests need it (CI installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	base := []string{"-sS", "-v", "--noproxy", "", "--proxy", "http://" + addr, "-o", "/dev/null", "-w", "%{http_code} %{http_connect} %{num_connects}"}
	cmd := exec.CommandContext(ctx, path, append(base, args...)...)
	cmd.Env = append([]string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir()}, env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	_ = cmd.Run()
	return stdout.String(), stderr.String()
}

// gssNTLMSSP is the GSS-API mechanism module of Debian's gss-ntlmssp.
const gssNTLMSSP = "/etc/gss/mech.d/mech.ntlmssp.conf"

// proxyAuthHeaders counts the Proxy-Authorization headers curl sent.
func proxyAuthHeaders(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.HasPrefix(l, "> Proxy-Authorization: ") {
			s, _, _ := strings.Cut(strings.TrimPrefix(l, "> Proxy-Authorization: "), " ")
			out = append(out, s)
		}
	}
	return out
}

func TestCurlProxyAuth(t *testing.T) {
	for _, tc := range []struct {
		name   string
		f      *ProxyAuth
		args   []string
		want   string   // "status connect-status connects"
		sent   []string // schemes of the Proxy-Authorization headers curl sent
		legs   []string
		passed int64
		gss    bool // needs gss-ntlmssp: SPNEGO with NTLM through MIT GSS-API
	}{
		{"basic", &ProxyAuth{Schemes: []string{"basic"}, Users: lab},
			[]string{"--proxy-basic", "--proxy-user", `LAB\alice:Passw0rd!`, "http://wu.example.test/selfupdate/wuident.cab"},
			"200 000 1", []string{"Basic"}, []string{"basic credentials accepted"}, 1, false},
		{"basic wrong password", &ProxyAuth{Schemes: []string{"basic"}, Users: lab},
			[]string{"--proxy-basic", "--proxy-user", `LAB\alice:nope`, "http://wu.example.test/selfupdate/wuident.cab"},
			"407 000 1", []string{"Basic"}, []string{"basic credentials rejected"}, 0, false},
		{"ntlm plain", &ProxyAuth{Users: lab},
			[]string{"--proxy-ntlm", "--proxy-user", `LAB\alice:Passw0rd!`, "http://wu.example.test/ClientWebService/client.asmx"},
			"200 000 1", []string{"NTLM", "NTLM"}, []string{"ntlm negotiate challenged", "ntlm authenticate accepted"}, 1, false},
		{"ntlm connect", &ProxyAuth{Users: lab},
			[]string{"--proxy-ntlm", "--proxy-user", `bob:hunter2`, "--proxytunnel", "http://wu.example.test/ClientWebService/client.asmx"},
			"200 200 1", []string{"NTLM", "NTLM"}, []string{"ntlm negotiate challenged", "ntlm authenticate accepted"}, 1, false},
		{"ntlm wrong password", &ProxyAuth{Users: lab},
			[]string{"--proxy-ntlm", "--proxy-user", `LAB\alice:nope`, "--proxytunnel", "http://wu.example.test/"},
			"000 407 1", []string{"NTLM", "NTLM"}, []string{"ntlm negotiate challenged", "ntlm authenticate rejected"}, 0, false},
		{"ntlm loop", &ProxyAuth{Users: lab, Reject: "loop"},
			[]string{"--proxy-ntlm", "--proxy-user", `LAB\alice:Passw0rd!`, "http://wu.example.test/"},
			"407 000 1", []string{"NTLM", "NTLM"}, []string{"ntlm negotiate challenged", "ntlm authenticate rejected"}, 0, false},
		{"anyauth picks ntlm", &ProxyAuth{Schemes: []string{"ntlm", "basic"}, Users: lab},
			[]string{"--proxy-anyauth", "--proxy-user", `bob:hunter2`, "http://wu.example.test/"},
			"200 000 1", []string{"NTLM", "NTLM"}, []string{"offer challenged", "ntlm negotiate challenged", "ntlm authenticate accepted"}, 1, false},
		// curl's Negotiate goes through GSS-API (MIT krb5 here). Without a
		// Kerberos ticket and without an NTLM mechanism SPNEGO finds nothing
		// to offer: curl sends no credentials and sees the 407.
		{"negotiate without mechanisms", &ProxyAuth{Users: lab},
			[]string{"--proxy-negotiate", "--proxy-user", ":", "http://wu.example.test/"},
			"407 000 1", nil, []string{"offer challenged"}, 0, false},
		// With gss-ntlmssp installed SPNEGO wraps NTLM: NegTokenInit with the
		// NEGOTIATE, NegTokenResp with the CHALLENGE, NegTokenResp with the
		// AUTHENTICATE (MIC and mechListMIC included), accept-completed.
		{"negotiate spnego ntlm", &ProxyAuth{Schemes: []string{"negotiate"}, Users: lab},
			[]string{"--proxy-negotiate", "--proxy-user", ":", "http://wu.example.test/"},
			"200 000 1", []string{"Negotiate", "Negotiate"}, []string{"negotiate negotiate challenged", "negotiate authenticate accepted"}, 1, true},
		{"negotiate spnego ntlm connect", &ProxyAuth{Users: lab},
			[]string{"--proxy-negotiate", "--proxy-user", ":", "--proxytunnel", "http://wu.example.test/"},
			"200 200 1", []string{"Negotiate", "Negotiate"}, []string{"negotiate negotiate challenged", "negotiate authenticate accepted"}, 1, true},
		{"negotiate spnego ntlm wrong password", &ProxyAuth{Users: []profile.Credential{{User: `LAB\alice`, Password: "other"}}},
			[]string{"--proxy-negotiate", "--proxy-user", ":", "--proxytunnel", "http://wu.example.test/"},
			"000 407 1", []string{"Negotiate", "Negotiate"}, []string{"negotiate negotiate challenged", "negotiate authenticate rejected"}, 0, true},
		{"negotiate kerberos-only proxy", &ProxyAuth{Users: lab, Reject: "scheme-mismatch"},
			[]string{"--proxy-negotiate", "--proxy-user", ":", "--proxytunnel", "http://wu.example.test/"},
			"000 407 1", []string{"Negotiate"}, []string{"negotiate negotiate rejected"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var env []string
			if tc.gss {
				if _, err := os.Stat(gssNTLMSSP); err != nil {
					t.Skip("gss-ntlmssp is not installed (Debian package gss-ntlmssp): curl cannot do NTLM inside SPNEGO without it")
				}
				users := filepath.Join(t.TempDir(), "ntlm_users")
				if err := os.WriteFile(users, []byte("LAB:alice:Passw0rd!\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				env = []string{"NTLM_USER_FILE=" + users, "KRB5CCNAME=FILE:/nonexistent", "KRB5_CONFIG=/dev/null"}
			}
			p := startAuthProxy(t, tc.f, true)
			out, log := curlEnv(t, p.addr, env, tc.args...)
			if out != tc.want {
				t.Errorf("curl printed %q, want %q\n%s", out, tc.want, log)
			}
			if got := proxyAuthHeaders(log); !slices.Equal(got, tc.sent) {
				t.Errorf("curl sent Proxy-Authorization %q, want %q", got, tc.sent)
			}
			if got := p.legs(); !slices.Equal(got, tc.legs) {
				t.Errorf("legs %q, want %q", got, tc.legs)
			}
			if p.accepted.Load() != 1 || p.passed.Load() != tc.passed {
				t.Errorf("accepted %d connections (want 1), passed %d requests (want %d)", p.accepted.Load(), p.passed.Load(), tc.passed)
			}
		})
	}
}
