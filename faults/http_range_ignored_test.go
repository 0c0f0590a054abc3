package faults

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestHTTPRangeIgnored(t *testing.T) {
	req := httptest.NewRequest("GET", "http://x.test/", nil)
	req.Header.Set("Range", "bytes=0-1")
	req.Header.Set("If-Range", `"etag"`)
	var seen http.Header
	(&HTTPRangeIgnored{}).ServeHTTP(httptest.NewRecorder(), req, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r.Header }))
	if seen.Get("Range") != "" || seen.Get("If-Range") != "" {
		t.Errorf("origin saw %q", seen)
	}
}
