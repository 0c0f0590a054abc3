package client_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/internal/worldtest"
	"github.com/wufault/wufault/simulate/wsus"
)

func TestSessionSucceeds(t *testing.T) {
	e := worldtest.StartOrigin(t, wsus.Options{Seed: 1}, "wsus.lab")
	for _, gen := range []string{"modern", "legacy"} {
		t.Run(gen, func(t *testing.T) {
			p := direct()
			p.Generation = gen
			p.Timeouts = patient()
			m := newMachine(t, p, labEnv(t, e))
			r := run(t, m)
			if r.Code != codes.OK {
				t.Fatalf("code %s\n%s", r.Code, dumpResult(t, r))
			}
			if r.Updates != 4 || r.Downloaded != 2 {
				t.Errorf("updates %d, downloaded %d\n%s", r.Updates, r.Downloaded, dumpResult(t, r))
			}
			// The emulator received the client's report.
			reps := e.WSUS.Reports()
			if len(reps) == 0 || reps[len(reps)-1].Win32HResult != 0 || reps[len(reps)-1].EventID != 147 {
				t.Errorf("reports %+v", reps)
			}
		})
	}
}

// calls records the SOAP methods the emulator answered.
type calls struct {
	mu sync.Mutex
	m  []string
}

func (c *calls) add(call wsus.Call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = append(c.m, call.Method)
}

func (c *calls) list() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.m, " ")
}

// The call order of [MS-WUSP] 3.1.5 with RegisterComputer when the server
// requires it, and GetFileLocations when GetExtendedUpdateInfo gives no
// URL for a file.
func TestSessionCallOrder(t *testing.T) {
	var c calls
	e := worldtest.StartOrigin(t, wsus.Options{Seed: 1, Registration: true, OnCall: c.add}, "wsus.lab")
	strip := regexp.MustCompile(`<FileLocations>.*</FileLocations>`)
	e.SetWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if !strings.Contains(r.Header.Get("SOAPAction"), "GetExtendedUpdateInfo") {
			return false
		}
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := strip.ReplaceAll(rec.Body.Bytes(), []byte("<FileLocations />"))
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.Header().Del("Content-Length")
		w.WriteHeader(rec.Code)
		_, _ = w.Write(body)
		return true
	})
	p := direct()
	p.Timeouts = patient()
	r := run(t, newMachine(t, p, labEnv(t, e)))
	wantCode(t, r, "0x00000000")
	want := "GetConfig GetAuthorizationCookie GetCookie RegisterComputer SyncUpdates SyncUpdates GetExtendedUpdateInfo GetFileLocations ReportEventBatch"
	if got := c.list(); got != want {
		t.Errorf("calls\n got %s\nwant %s", got, want)
	}
	if r.Downloaded != 2 {
		t.Errorf("downloaded %d", r.Downloaded)
	}
}

// A stale cookie (the server restarted with another key) makes the client
// redo the handshake and go on.
func TestSessionCookieRecovery(t *testing.T) {
	var c calls
	e := worldtest.StartOrigin(t, wsus.Options{Seed: 1, OnCall: c.add}, "wsus.lab")
	var once sync.Once
	e.SetWrap(func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if !strings.Contains(r.Header.Get("SOAPAction"), "SyncUpdates") {
			return false
		}
		hit := false
		once.Do(func() { hit = true })
		if !hit {
			return false
		}
		var b bytes.Buffer
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault>` +
			`<faultcode>soap:Client</faultcode><faultstring>Fault occurred</faultstring><detail><ErrorCode>CookieExpired</ErrorCode></detail></soap:Fault></soap:Body></soap:Envelope>`)
		w.Header().Set("Content-Type", "text/xml; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(b.Bytes())
		return true
	})
	p := direct()
	p.Timeouts = patient()
	r := run(t, newMachine(t, p, labEnv(t, e)))
	wantCode(t, r, "0x00000000")
	if got := c.list(); !strings.HasPrefix(got, "GetConfig GetAuthorizationCookie GetCookie GetConfig GetAuthorizationCookie GetCookie SyncUpdates") {
		t.Errorf("calls %s", got)
	}
}
