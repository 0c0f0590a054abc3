package simulate

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// curl runs curl through the world's proxy and returns its exit code,
// stdout and stderr. The environment is emptied so no *_proxy variable
// interferes.
func curl(t *testing.T, w *World, args ...string) (int, []byte, string) {
	t.Helper()
	return curlEnv(t, w, nil, args...)
}

// curlEnv is curl with the variables env in its environment.
func curlEnv(t *testing.T, w *World, env []string, args ...string) (int, []byte, string) {
	t.Helper()
	path, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed (apt-get install -y curl); CI installs it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, append([]string{"-sS", "--max-time", "10", "-x", "http://" + w.Addrs().Proxy}, args...)...)
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out.Bytes(), errb.String()
	case errors.As(err, &ee):
		return ee.ExitCode(), out.Bytes(), errb.String()
	}
	t.Fatalf("curl: %v", err)
	return 0, nil, ""
}

// curl's exit codes (man curl, EXIT CODES).
const (
	curlPartialFile = 18 // transfer shorter than announced
	curlRecvError   = 56 // failure receiving network data (reset, refused CONNECT)
	curlTimeout     = 28
)

func TestCurlInterop(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl not installed (apt-get install -y curl); CI installs it")
	}
	w := proxyWorld(t, Options{MaxStall: 10 * time.Second})
	o := origin(t, false)
	so := origin(t, true)
	want := blob(300000)
	blobURL := o.URL + "/blob/300000"

	t.Run("plain pass-through with range", func(t *testing.T) {
		w.Activate("", 0, nil)
		code, out, errs := curl(t, w, blobURL)
		if code != 0 || !bytes.Equal(out, want) {
			t.Fatalf("exit %d, %d bytes, %s", code, len(out), errs)
		}
		code, out, _ = curl(t, w, "-r", "10-19", blobURL)
		if code != 0 || !bytes.Equal(out, want[10:20]) {
			t.Errorf("range: exit %d, %q", code, out)
		}
	})
	t.Run("tunnel pass-through", func(t *testing.T) {
		w.Activate("", 0, nil)
		code, out, errs := curl(t, w, "-k", so.URL+"/blob/300000")
		if code != 0 || !bytes.Equal(out, want) {
			t.Fatalf("exit %d, %d bytes, %s", code, len(out), errs)
		}
	})
	for _, tc := range []struct {
		name     string
		spec     faults.Spec
		args     []string
		wantCode int
		wantErr  string
		wantOut  string
	}{
		{"reset mid-body", spec("tcp.reset", &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 1000}}, faults.Match{}, faults.When{}),
			[]string{blobURL}, curlRecvError, "reset", ""},
		{"FIN mid-body", spec("tcp.close", &faults.TCPClose{PhaseBound: faults.PhaseBound{At: profile.PhaseBody, AfterBytes: 1000}}, faults.Match{}, faults.When{}),
			[]string{blobURL}, curlPartialFile, "", ""},
		{"reset in a TLS tunnel at handshake", spec("tcp.reset", &faults.TCPReset{PhaseBound: faults.PhaseBound{At: profile.PhaseHandshake}}, faults.Match{Host: "127.0.0.1"}, faults.When{}),
			[]string{"-k", so.URL + "/echo"}, 35, "reset", ""},
		{"CONNECT denied", spec("proxy.deny_connect", &faults.ProxyDenyConnect{}, faults.Match{}, faults.When{}),
			[]string{"-k", so.URL + "/echo"}, curlRecvError, "403", ""},
		{"status inside a plain tunnel", spec("http.status", &faults.HTTPStatus{Status: 503, Body: "down"}, faults.Match{Path: "/echo"}, faults.When{}),
			[]string{"-p", "-w", "%{http_code}", o.URL + "/echo"}, 0, "", "down503"},
		{"stall until curl gives up", spec("tcp.stall", &faults.TCPStall{}, faults.Match{Path: "/echo"}, faults.When{}),
			[]string{"--max-time", "1", o.URL + "/echo"}, curlTimeout, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			activate(t, w, tc.spec)
			code, out, errs := curl(t, w, tc.args...)
			if code != tc.wantCode || !strings.Contains(strings.ToLower(errs), tc.wantErr) || (tc.wantOut != "" && string(out) != tc.wantOut) {
				t.Errorf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, tc.wantCode, out, errs, tc.wantErr)
			}
			w.Activate("", 0, nil)
			if code, _, errs := curl(t, w, o.URL+"/echo"); code != 0 {
				t.Errorf("after the fault: exit %d %s", code, errs)
			}
		})
	}
}
