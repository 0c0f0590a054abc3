package faults

import (
	"net/http"
	"strings"
)

// HTTPContentType replaces the response Content-Type.
type HTTPContentType struct {
	// Type is the Content-Type to send instead.
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

var _ HTTPHook = (*HTTPContentType)(nil)

// ServeHTTP forwards the request and replaces the Content-Type of the
// answer (0x80240038 on WinHTTP-fetched cabs, wu-codes.md row 23).
func (f *HTTPContentType) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	next.ServeHTTP(&typeWriter{rwWrapper: rwWrapper{w}, typ: f.Type}, r)
}

type typeWriter struct {
	rwWrapper
	typ   string
	wrote bool
}

func (t *typeWriter) WriteHeader(code int) {
	if !t.wrote && code >= 200 {
		t.wrote = true
		t.Header().Set("Content-Type", t.typ)
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *typeWriter) Write(p []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	return t.ResponseWriter.Write(p)
}
