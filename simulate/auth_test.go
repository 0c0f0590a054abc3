package simulate

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

var authUsers = []profile.Credential{{User: `LAB\alice`, Password: "Passw0rd!"}}

func TestAuthContextJournal(t *testing.T) {
	w := testWorld(t, Options{})
	f := &faults.ProxyAuth{Users: authUsers}
	set := faults.NewSet([]faults.Spec{{Kind: "proxy.auth", Fault: f}}, 1, nil)
	ev := event{service: "proxy", conn: 3, req: 9, client: "127.0.0.1:5000", target: faults.Target{Host: "wu.example.test:443", Method: "CONNECT"}}
	ctx := w.authContext(context.Background(), ev, set.Rules()[0])
	faults.ReportAuth(ctx, faults.AuthEvent{Scheme: "ntlm", Leg: faults.LegAuthenticate, User: `LAB\alice`, Outcome: faults.AuthRejected, Reason: "wrong password", Status: 407})
	evs := w.Journal().Events(0, func(e Event) bool { return e.Kind == EventAuth })
	if len(evs) != 1 {
		t.Fatalf("%d auth events", len(evs))
	}
	e := evs[0]
	if e.Conn != 3 || e.Req != 9 || e.Fault != "proxy.auth" || e.Rule != 1 || e.Status != 407 || e.Phase != profile.PhaseProxy ||
		e.Detail != `ntlm authenticate user=LAB\alice rejected: wrong password` {
		t.Errorf("event %+v", e)
	}
	if a := e.Auth; a == nil || a.Scheme != "ntlm" || a.Leg != faults.LegAuthenticate || a.User != `LAB\alice` || a.Outcome != faults.AuthRejected {
		t.Errorf("structured auth %+v", e.Auth)
	}
	b, _ := json.Marshal(e)
	if !strings.Contains(string(b), `"auth":{"scheme":"ntlm","leg":"authenticate","user":"LAB\\alice","outcome":"rejected","reason":"wrong password","status":407}`) {
		t.Errorf("JSON %s", b)
	}
}

// authCurl runs curl through the world's proxy and returns what -w printed:
// "<status> <CONNECT status> <connections>".
func authCurl(t *testing.T, w *World, env []string, args ...string) string {
	t.Helper()
	_, out, _ := curlEnv(t, w, env, append([]string{"-k", "-o", "/dev/null", "-w", "%{http_code} %{http_connect} %{num_connects}"}, args...)...)
	return string(out)
}

// connOpens counts the proxy connections the journal saw open.
func connOpens(w *World) int {
	return len(w.Journal().Events(0, func(e Event) bool { return e.Kind == EventConnOpen && e.Service == "proxy" }))
}

// TestProxyAuthEndToEnd drives proxy.auth through the world's real proxy
// with curl and net/http, plain and through CONNECT tunnels.
func TestProxyAuthEndToEnd(t *testing.T) {
	w := proxyWorld(t, Options{})
	plain, tlsOrigin := origin(t, false), origin(t, true)
	activate(t, w, spec("proxy.auth", &faults.ProxyAuth{Users: authUsers}, faults.Match{}, faults.When{}))

	gss := []string(nil)
	if _, err := os.Stat("/etc/gss/mech.d/mech.ntlmssp.conf"); err == nil {
		users := filepath.Join(t.TempDir(), "ntlm_users")
		if err := os.WriteFile(users, []byte("LAB:alice:Passw0rd!\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		gss = []string{"NTLM_USER_FILE=" + users, "KRB5CCNAME=FILE:/nonexistent", "KRB5_CONFIG=/dev/null"}
	}
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want string
	}{
		{"no credentials", nil, []string{plain.URL + "/echo"}, "407 000 1"},
		{"basic plain", nil, []string{"--proxy-basic", "-U", `LAB\alice:Passw0rd!`, plain.URL + "/echo"}, "200 000 1"},
		{"basic wrong", nil, []string{"--proxy-basic", "-U", `LAB\alice:x`, plain.URL + "/echo"}, "407 000 1"},
		{"ntlm plain", nil, []string{"--proxy-ntlm", "-U", `LAB\alice:Passw0rd!`, plain.URL + "/echo"}, "200 000 1"},
		{"ntlm connect", nil, []string{"--proxy-ntlm", "-U", `LAB\alice:Passw0rd!`, tlsOrigin.URL + "/echo"}, "200 200 1"},
		{"ntlm connect wrong", nil, []string{"--proxy-ntlm", "-U", `LAB\alice:x`, tlsOrigin.URL + "/echo"}, "000 407 1"},
		{"negotiate connect", gss, []string{"--proxy-negotiate", "-U", ":", tlsOrigin.URL + "/echo"}, "200 200 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if strings.HasPrefix(tc.name, "negotiate") && tc.env == nil {
				t.Skip("gss-ntlmssp is not installed (Debian package gss-ntlmssp): curl has no NTLM inside SPNEGO")
			}
			before := connOpens(w)
			if got := authCurl(t, w, tc.env, tc.args...); got != tc.want {
				t.Errorf("curl: %q, want %q", got, tc.want)
			}
			if n := connOpens(w) - before; n != 1 {
				t.Errorf("%d proxy connections, want the whole exchange on one", n)
			}
		})
	}

	// net/http sends the proxy URL's credentials as Basic, on CONNECT too.
	pu, _ := url.Parse("http://" + url.PathEscape(`LAB\alice`) + ":" + url.PathEscape("Passw0rd!") + "@" + w.Addrs().Proxy)
	tr := &http.Transport{Proxy: http.ProxyURL(pu), TLSClientConfig: tlsOrigin.Client().Transport.(*http.Transport).TLSClientConfig}
	defer tr.CloseIdleConnections()
	for _, u := range []string{plain.URL + "/echo", tlsOrigin.URL + "/echo"} {
		resp, err := (&http.Client{Transport: tr, Timeout: 10 * time.Second}).Get(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: status %d", u, resp.StatusCode)
		}
	}

	// No secret reaches the journal; auth legs are journaled once the
	// proxy hands its hooks a reporter.
	var auths int
	for _, e := range w.Journal().Events(0, nil) {
		if strings.Contains(e.Detail, "Passw0rd") {
			t.Errorf("the password reached the journal: %+v", e)
		}
		if e.Kind == EventAuth {
			auths++
		}
	}
	t.Logf("%d auth events journaled", auths)
}
