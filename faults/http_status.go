package faults

import "errors"

// HTTPStatus answers with an HTTP status, body and headers instead of the upstream.
type HTTPStatus struct {
	Status  int               `yaml:"status" json:"status"`
	Body    string            `yaml:"body,omitempty" json:"body,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

func init() {
	Register(Info{Kind: "http.status", Summary: "answers with an HTTP status, body and headers instead of the upstream", New: func() Fault { return new(HTTPStatus) }})
}

// Validate checks the parameters.
func (f *HTTPStatus) Validate() error {
	return errors.Join(validStatus("status", f.Status, 100, 599), validHeaders("headers", f.Headers))
}
