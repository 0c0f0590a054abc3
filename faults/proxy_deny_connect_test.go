package faults

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestProxyDenyConnect(t *testing.T) {
	rec := httptest.NewRecorder()
	req := httptest.NewRequest("CONNECT", "http://fe2.update.microsoft.com:443", nil)
	req.Host = "fe2.update.microsoft.com:443"
	(&ProxyDenyConnect{Status: 502}).ServeProxy(rec, req, notCalled)
	if rec.Code != 502 || !strings.Contains(rec.Body.String(), "fe2.update.microsoft.com:443") {
		t.Errorf("%d %q", rec.Code, rec.Body)
	}
	called := false
	(&ProxyDenyConnect{}).ServeProxy(httptest.NewRecorder(), httptest.NewRequest("GET", "http://x.test/", nil), http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	if !called {
		t.Error("a plain request was not passed on")
	}
	if (&ProxyDenyConnect{}).StatusCode() != 403 {
		t.Error("default status is not 403")
	}
}
