package faults

import "errors"

// HTTPTruncate cuts the response body after N bytes and closes the connection.
type HTTPTruncate struct {
	AfterBytes int64 `yaml:"after_bytes" json:"after_bytes"`
	// Length is what the headers announce: keep (the original
	// Content-Length, so the body ends short), match (Content-Length set to
	// the cut, so the short body looks complete) or none (no length, the
	// close ends the body). Default keep.
	Length string `yaml:"length,omitempty" json:"length,omitempty"`
}

func init() {
	Register(Info{Kind: "http.truncate", Summary: "cuts the response body after N bytes and closes the connection", New: func() Fault { return new(HTTPTruncate) }})
}

// Validate checks the parameters.
func (f *HTTPTruncate) Validate() error {
	var errs []error
	if f.AfterBytes < 0 {
		errs = append(errs, fieldErr("after_bytes", "must be >= 0, got %d", f.AfterBytes))
	}
	if f.Length != "" {
		errs = append(errs, oneOf("length", f.Length, []string{"keep", "match", "none"}))
	}
	return errors.Join(errs...)
}
