package faults

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPStatus(t *testing.T) {
	for _, tc := range []struct {
		f        HTTPStatus
		method   string
		wantBody string
	}{
		{HTTPStatus{Status: 503, Body: "busy", Headers: map[string]string{"Retry-After": "5", "Content-Type": "text/plain"}}, "GET", "busy"},
		{HTTPStatus{Status: 502}, "GET", "<h1>502 Bad Gateway</h1>"},
		{HTTPStatus{Status: 404}, "HEAD", ""},
		{HTTPStatus{Status: 304}, "GET", ""},
	} {
		rec := httptest.NewRecorder()
		tc.f.ServeHTTP(rec, httptest.NewRequest(tc.method, "http://x.test/a", nil), notCalled)
		if rec.Code != tc.f.Status || !strings.Contains(rec.Body.String(), tc.wantBody) || (tc.wantBody == "" && rec.Body.Len() != 0) {
			t.Errorf("%+v %s: %d %q", tc.f, tc.method, rec.Code, rec.Body)
		}
		for k, v := range tc.f.Headers {
			if rec.Header().Get(k) != v {
				t.Errorf("header %s = %q, want %q", k, rec.Header().Get(k), v)
			}
		}
	}
}

func TestHTTPStatusInformational(t *testing.T) {
	s := hookServer(t, &HTTPStatus{Status: 103}, notCalled)
	req, _ := http.NewRequest("GET", s.URL, nil)
	if _, _, err := get(t, req); err == nil {
		t.Error("a lone 103 ended in a response")
	}
}
