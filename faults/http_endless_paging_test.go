package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

const syncAnswer = `<?xml version="1.0" encoding="utf-8"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body>` +
	`<SyncUpdatesResponse xmlns="http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService"><SyncUpdatesResult>` +
	`<NewUpdates><UpdateInfo><ID>900001</ID></UpdateInfo></NewUpdates><Truncated>false</Truncated>` +
	`</SyncUpdatesResult></SyncUpdatesResponse></s:Body></s:Envelope>`

// A real server behind the hook, a real client in front: the SyncUpdates
// answer says Truncated true with a Content-Length that matches; other
// answers arrive byte for byte.
func TestHTTPEndlessPaging(t *testing.T) {
	answers := map[string]struct{ ctype, body string }{
		"/sync":   {"text/xml; charset=utf-8", syncAnswer},
		"/config": {"text/xml; charset=utf-8", strings.ReplaceAll(syncAnswer, "SyncUpdatesResponse", "GetConfigResponse")},
		"/cab":    {"application/vnd.ms-cab-compressed", "MSCF<Truncated>false</Truncated>"},
		"/soap12": {"application/soap+xml; charset=utf-8", strings.ReplaceAll(syncAnswer, "<Truncated>false</Truncated>", "<a:Truncated> false </a:Truncated>")},
	}
	upstream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := answers[r.URL.Path]
		w.Header().Set("Content-Type", a.ctype)
		w.Header().Set("Content-Length", strconv.Itoa(len(a.body)))
		_, _ = io.WriteString(w, a.body)
	})
	f := &HTTPEndlessPaging{}
	if err := f.Validate(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { f.ServeHTTP(w, r, upstream) }))
	defer srv.Close()
	post := func(path string) (string, *http.Response) {
		t.Helper()
		resp, err := srv.Client().Post(srv.URL+path, "text/xml", strings.NewReader("<x/>"))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if resp.ContentLength != int64(len(b)) {
			t.Errorf("%s: Content-Length %d, body %d bytes", path, resp.ContentLength, len(b))
		}
		return string(b), resp
	}
	if got, _ := post("/sync"); got != strings.Replace(syncAnswer, "<Truncated>false</Truncated>", "<Truncated>true</Truncated>", 1) {
		t.Errorf("SyncUpdates answer not rewritten:\n%s", got)
	}
	if got, _ := post("/soap12"); !strings.Contains(got, "<a:Truncated>true</a:Truncated>") {
		t.Errorf("prefixed Truncated not rewritten:\n%s", got)
	}
	for _, p := range []string{"/config", "/cab"} {
		if got, _ := post(p); got != answers[p].body {
			t.Errorf("%s changed:\n%s", p, got)
		}
	}
	resp, err := srv.Client().Get(srv.URL + "/sync")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != syncAnswer {
		t.Errorf("a GET was rewritten: %s", b)
	}
}

// An XML answer larger than the hook holds passes unchanged and whole.
func TestHTTPEndlessPagingLargeAnswer(t *testing.T) {
	big := syncAnswer + strings.Repeat(" ", maxPagingBody)
	rec := httptest.NewRecorder()
	(&HTTPEndlessPaging{}).ServeHTTP(rec, httptest.NewRequest("POST", "/c", nil), http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		for i := 0; i < len(big); i += 4096 {
			_, _ = io.WriteString(w, big[i:min(i+4096, len(big))])
		}
	}))
	if rec.Code != 200 || rec.Body.String() != big {
		t.Errorf("status %d, %d bytes of %d", rec.Code, rec.Body.Len(), len(big))
	}
}
