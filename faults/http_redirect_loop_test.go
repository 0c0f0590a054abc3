package faults

import (
	"net/http/httptest"
	"testing"
)

func TestHTTPRedirectLoop(t *testing.T) {
	rec := httptest.NewRecorder()
	(&HTTPRedirectLoop{}).ServeHTTP(rec, httptest.NewRequest("GET", "http://x.test/a?b=1", nil), notCalled)
	if rec.Code != 302 || rec.Header().Get("Location") != "http://x.test/a?b=1" {
		t.Errorf("self: %d %q", rec.Code, rec.Header().Get("Location"))
	}
	req := httptest.NewRequest("GET", "/rel", nil)
	req.Host = "h.test"
	rec = httptest.NewRecorder()
	(&HTTPRedirectLoop{}).ServeHTTP(rec, req, notCalled)
	if rec.Header().Get("Location") != "http://h.test/rel" {
		t.Errorf("relative request: %q", rec.Header().Get("Location"))
	}
	rec = httptest.NewRecorder()
	(&HTTPRedirectLoop{Status: 307, Location: "http://elsewhere.test/"}).ServeHTTP(rec, httptest.NewRequest("GET", "http://x.test/", nil), notCalled)
	if rec.Code != 307 || rec.Header().Get("Location") != "http://elsewhere.test/" {
		t.Errorf("configured: %d %q", rec.Code, rec.Header().Get("Location"))
	}
}
