package faults

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// HTTPRedirectLoop redirects the request to itself (or to location), so the client gives up.
type HTTPRedirectLoop struct {
	// Location is where to redirect; empty means the request's own URL.
	Location string `yaml:"location,omitempty" json:"location,omitempty"`
	// Status is the redirect status (default 302).
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
}

func init() {
	Register(Info{Kind: "http.redirect_loop", Summary: "redirects the request to itself (or to location), so the client gives up", New: func() Fault { return new(HTTPRedirectLoop) }})
}

// Validate checks the parameters.
func (f *HTTPRedirectLoop) Validate() error {
	var errs []error
	if f.Status != 0 {
		errs = append(errs, validStatus("status", f.Status, 300, 399))
	}
	if f.Location != "" {
		if u, err := url.Parse(f.Location); err != nil || u.Scheme == "" || u.Host == "" {
			errs = append(errs, fieldErr("location", "%q is not an absolute URL", f.Location))
		}
	}
	return errors.Join(errs...)
}

var _ HTTPHook = (*HTTPRedirectLoop)(nil)

// ServeHTTP answers with a redirect (Status, default 302) to Location or,
// without one, to the request's own URL, so a client that follows
// redirects loops until its limit (WinHTTP 12156 ERROR_WINHTTP_REDIRECT_FAILED
// after its maximum, Go: "stopped after 10 redirects").
func (f *HTTPRedirectLoop) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	loc := f.Location
	if loc == "" {
		u := *r.URL
		if !u.IsAbs() {
			u.Scheme, u.Host = "http", r.Host
			if r.TLS != nil {
				u.Scheme = "https"
			}
		}
		loc = u.String()
	}
	status := f.Status
	if status == 0 {
		status = http.StatusFound
	}
	body := HTMLPage(status, "Object moved to "+loc)
	h := w.Header()
	h.Set("Location", loc)
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	if bodyAllowed(r, status) {
		_, _ = io.WriteString(w, body)
	}
}
