package faults

import (
	"net/http/httptest"
	"testing"
)

func TestHTTPContentType(t *testing.T) {
	rec := httptest.NewRecorder()
	(&HTTPContentType{Type: "text/html"}).ServeHTTP(rec, httptest.NewRequest("GET", "http://x.test/wuident.cab", nil), originHandler("MSCF....", false))
	if rec.Header().Get("Content-Type") != "text/html" || rec.Body.String() != "MSCF...." {
		t.Errorf("%q %q", rec.Header(), rec.Body)
	}
}
