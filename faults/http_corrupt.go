package faults

import "errors"

// HTTPCorrupt flips bytes of the response body after N bytes, keeping its length.
type HTTPCorrupt struct {
	AfterBytes int64 `yaml:"after_bytes,omitempty" json:"after_bytes,omitempty"`
	// Count is how many bytes to flip (default 1).
	Count int `yaml:"count,omitempty" json:"count,omitempty"`
}

func init() {
	Register(Info{Kind: "http.corrupt", Summary: "flips bytes of the response body after N bytes, keeping its length", New: func() Fault { return new(HTTPCorrupt) }})
}

// Validate checks the parameters.
func (f *HTTPCorrupt) Validate() error {
	var errs []error
	if f.AfterBytes < 0 {
		errs = append(errs, fieldErr("after_bytes", "must be >= 0, got %d", f.AfterBytes))
	}
	if f.Count < 0 {
		errs = append(errs, fieldErr("count", "must be >= 0, got %d", f.Count))
	}
	return errors.Join(errs...)
}
