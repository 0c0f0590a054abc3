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

// With plain, a GET through the proxy (an http:// URL, no CONNECT) gets the
// proxy's own status and page; without it the request reaches next.
func TestProxyDenyConnectPlain(t *testing.T) {
	req := httptest.NewRequest("GET", "http://download.windowsupdate.com/c/msdownload/update/software/updt/x.cab", nil)
	rec := httptest.NewRecorder()
	(&ProxyDenyConnect{Plain: true}).ServeProxy(rec, req, notCalled)
	if rec.Code != 403 || !strings.Contains(rec.Body.String(), "GET http://download.windowsupdate.com/c/msdownload/update/software/updt/x.cab") {
		t.Errorf("%d %q", rec.Code, rec.Body)
	}
	head := httptest.NewRecorder()
	(&ProxyDenyConnect{Plain: true, Status: 451}).ServeProxy(head, httptest.NewRequest("HEAD", "http://x.test/a", nil), notCalled)
	if head.Code != 451 || head.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", head.Code, head.Body)
	}
	rec = httptest.NewRecorder()
	(&ProxyDenyConnect{Plain: true}).ServeProxy(rec, httptest.NewRequest("CONNECT", "http://fe2.update.microsoft.com:443", nil), notCalled)
	if rec.Code != 403 {
		t.Errorf("CONNECT with plain: %d", rec.Code)
	}
}
