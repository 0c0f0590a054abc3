package faults

import (
	"errors"
	"net/url"
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
