package client

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/simulate"
)

// A reset of the client's bytes toward the server (tcp.reset with
// direction up) after 64 KiB of an 8 MiB POST body: the emulated client's
// transport fails while it sends (phase request), which WinHTTP reports
// as ERROR_WINHTTP_CONNECTION_ERROR 12030, passed through raw as
// 0x80072EFE ([L-WINHTTPERR] 12030: the connection was reset or
// terminated). The origin gets fewer bytes than were sent.
func TestSendFailureResetUp(t *testing.T) {
	var got atomic.Int64
	got.Store(-1)
	origin := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		got.Store(n)
	}))
	defer origin.Close()
	w, err := simulate.New(context.Background(), simulate.Options{Proxy: "127.0.0.1:0", Logger: discard(),
		AllowUpstream: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	reset := &faults.TCPReset{Directed: faults.Directed{Direction: faults.Up}}
	reset.AfterBytes = 64 << 10 // at: request, the default with direction up
	w.Activate("send-failure", 1, []faults.Spec{{Kind: "tcp.reset", Match: faults.Match{Method: http.MethodPost}, Fault: reset}})

	tr := newTransport(&resolver{cache: newDNSCache(), now: time.Now, log: discard()}, nil, newAuthenticator(nil, nil),
		5*time.Second, 5*time.Second, 5*time.Second, discard())
	defer tr.close()
	u, _ := url.Parse(origin.URL + "/ClientWebService/client.asmx")
	const size = 8 << 20
	req := &request{Method: http.MethodPost, URL: u, Header: http.Header{"Content-Type": {"text/xml"}}, Body: bytes.Repeat([]byte("x"), size)}
	_, err = tr.do(context.Background(), req, func(*url.URL) []string { return []string{w.Addrs().Proxy} })
	te, ok := errors.AsType[*TransportError](err)
	if !ok || te.Phase != profile.PhaseRequest {
		t.Fatalf("err = %v, want a transport error while sending (phase request)", err)
	}
	v := Classify(err, profile.ClassScan, Modern, StackBITS)
	if v.WinHTTP != WinHTTPConnectionError || v.Code != 0x80072EFE || !strings.HasPrefix(v.Rule, "reset ") || !strings.Contains(v.Source, "[L-WINHTTPERR] 12030") {
		t.Errorf("verdict %+v, want rule reset: 12030 → 0x80072EFE from [L-WINHTTPERR] 12030", v)
	}
	t.Logf("%v → %d %s (%s; %s)", err, v.WinHTTP, v.Code, v.Rule, v.Source)
	deadline := time.Now().Add(5 * time.Second)
	for got.Load() < 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := got.Load(); n < 0 || n >= size {
		t.Errorf("the origin received %d bytes, want fewer than the %d sent", n, size)
	} else {
		t.Logf("the origin received %d of %d bytes", n, size)
	}
}
