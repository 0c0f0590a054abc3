package simulate

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

func startUpstream(t *testing.T) (*World, string) {
	t.Helper()
	w := testWorld(t, Options{UpstreamHTTP: "127.0.0.1:0", UpstreamHTTPS: "127.0.0.1:0", StateDir: t.TempDir(), MaxStall: 5 * time.Second})
	return w, "http://" + w.Addrs().UpstreamHTTP
}

func originGet(t *testing.T, url string) (*http.Response, []byte, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

func TestUpstreamHTTPServesTheEmulator(t *testing.T) {
	w, base := startUpstream(t)
	resp, body, err := originGet(t, base+"/selfupdate/wuident.cab")
	if err != nil || resp.StatusCode != 200 || !strings.HasPrefix(string(body), "MSCF") {
		t.Fatalf("wuident.cab: %v %v %q", err, resp, body[:min(8, len(body))])
	}
	if got := resp.Header.Get("Server"); got != "Microsoft-IIS/10.0" {
		t.Errorf("Server header %q", got)
	}
	resp, _, err = originGet(t, base+PKIPath+"/lab-ca.cer")
	if err != nil || resp.StatusCode != 200 {
		t.Errorf("the lab CA is not served under %s: %v %v", PKIPath, err, resp)
	}
	emu1, _ := w.emulator()
	emu2, _ := w.emulator()
	if emu1 != emu2 {
		t.Error("the upstream ports do not share one emulator")
	}
	var req, res int
	for _, e := range w.Journal().Events(0, nil) {
		if e.Service == "upstream-http" && e.Kind == EventRequest && e.Class == profile.ClassSelfUpdate {
			req++
		}
		if e.Service == "upstream-http" && e.Kind == EventResponse && e.Status == 200 {
			res++
		}
	}
	if req != 1 || res < 1 {
		t.Errorf("journal: %d selfupdate requests, %d 200 answers", req, res)
	}
}

func TestUpstreamHTTPFaults(t *testing.T) {
	w, base := startUpstream(t)
	w.Activate("t", 1, []faults.Spec{
		{Kind: "http.status", Match: faults.Match{Class: profile.ClassSelfUpdate}, Fault: &faults.HTTPStatus{Status: 503, Body: "busy"}},
		{Kind: "tcp.reset", Match: faults.Match{Path: "/ClientWebService/*"}, Fault: &faults.TCPReset{}},
	})
	resp, body, err := originGet(t, base+"/selfupdate/wuident.cab")
	if err != nil || resp.StatusCode != 503 || string(body) != "busy" {
		t.Errorf("http.status on the upstream port: %v %v %q", err, resp, body)
	}
	_, _, err = originGet(t, base+"/ClientWebService/wusserverversion.xml")
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("tcp.reset on the upstream port: err = %v, want ECONNRESET", err)
	}
	fired := map[string]int64{}
	for _, r := range w.Active().Set.Rules() {
		fired[r.Kind] = r.Hits().Fired
	}
	if fired["http.status"] != 1 || fired["tcp.reset"] != 1 {
		t.Errorf("hits %v", fired)
	}
}
