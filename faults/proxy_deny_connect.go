package faults

import (
	"io"
	"net/http"
	"strconv"
)

// ProxyDenyConnect refuses CONNECT tunnels with an HTTP status, as a proxy
// whose policy blocks the destination does.
type ProxyDenyConnect struct {
	// Status answers the CONNECT (default 403).
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
	// Plain also answers plain-HTTP requests through the proxy (GET
	// http://host/…, which make no CONNECT) with the status: the same
	// destination policy applied to http:// URLs such as content downloads.
	Plain bool `yaml:"plain,omitempty" json:"plain,omitempty"`
}

func init() {
	Register(Info{Kind: "proxy.deny_connect", Summary: "refuses CONNECT tunnels (and with plain, plain-HTTP requests) with an HTTP status (default 403)", New: func() Fault { return new(ProxyDenyConnect) }})
}

// Validate checks the parameters.
func (f *ProxyDenyConnect) Validate() error {
	if f.Status == 0 {
		return nil
	}
	return validStatus("status", f.Status, 300, 599)
}

// StatusCode returns Status or its default.
func (f *ProxyDenyConnect) StatusCode() int {
	if f.Status == 0 {
		return 403
	}
	return f.Status
}

var _ ProxyHook = (*ProxyDenyConnect)(nil)

// ServeProxy answers a CONNECT with the status and a short HTML page, as a
// proxy whose policy blocks the destination does (wu-codes.md row 20);
// other requests pass, unless Plain: then a plain-HTTP request gets the
// same answer from the proxy itself (a BITS job meets it as
// BG_E_HTTP_ERROR_403, row 20's download column). The connection stays
// open for the client's next request, as Squid's does.
func (f *ProxyDenyConnect) ServeProxy(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodConnect && !f.Plain {
		next.ServeHTTP(w, r)
		return
	}
	status := f.StatusCode()
	what := "CONNECT to " + r.Host
	if r.Method != http.MethodConnect {
		what = r.Method + " " + r.URL.Redacted()
		if r.Body != nil {
			_, _ = io.CopyN(io.Discard, r.Body, maxDrain)
		}
	}
	body := HTMLPage(status, what+" is not allowed by policy")
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if bodyAllowed(r, status) {
		_, _ = io.WriteString(w, body)
	}
}
