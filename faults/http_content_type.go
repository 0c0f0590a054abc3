package faults

import "strings"

// HTTPContentType replaces the response Content-Type.
type HTTPContentType struct {
	Type string `yaml:"type" json:"type"`
}

func init() {
	Register(Info{Kind: "http.content_type", Summary: "replaces the response Content-Type", New: func() Fault { return new(HTTPContentType) }})
}

// Validate checks the parameters.
func (f *HTTPContentType) Validate() error {
	if f.Type == "" || strings.ContainsAny(f.Type, "\r\n") {
		return fieldErr("type", "must be a media type such as text/html, got %q", f.Type)
	}
	return nil
}
