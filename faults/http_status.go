package faults

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// HTTPStatus answers with an HTTP status, body and headers instead of the upstream.
type HTTPStatus struct {
	// Status is the HTTP status to answer with.
	Status int `yaml:"status" json:"status"`
	// Body is the response body (default: a short HTML page).
	Body string `yaml:"body,omitempty" json:"body,omitempty"`
	// Headers are added to the response.
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

func init() {
	Register(Info{Kind: "http.status", Summary: "answers with an HTTP status, body and headers instead of the upstream", New: func() Fault { return new(HTTPStatus) }})
}

// Validate checks the parameters.
func (f *HTTPStatus) Validate() error {
	return errors.Join(validStatus("status", f.Status, 100, 599), validHeaders("headers", f.Headers))
}

var _ HTTPHook = (*HTTPStatus)(nil)

// ServeHTTP answers with Status instead of forwarding. Without a Body the
// answer carries a short HTML page, as proxies and IIS do; Headers are set
// last, so they can replace Content-Type. An informational status (1xx) is
// written raw and the connection closed, since no final answer follows.
func (f *HTTPStatus) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body := f.Body
	if body == "" && f.Status >= 200 {
		body = HTMLPage(f.Status, "")
	}
	if f.Status < 200 {
		_ = takeOver(w, r, func(bw *bufio.Writer) error {
			fmt.Fprintf(bw, "HTTP/1.1 %d %s\r\n", f.Status, http.StatusText(f.Status))
			for k, v := range f.Headers {
				fmt.Fprintf(bw, "%s: %s\r\n", k, v)
			}
			_, err := bw.WriteString("\r\n")
			return err
		})
		return
	}
	h := w.Header()
	if bodyAllowed(r, f.Status) || r.Method == http.MethodHead {
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Length", strconv.Itoa(len(body)))
	}
	for k, v := range f.Headers {
		h.Set(k, v)
	}
	w.WriteHeader(f.Status)
	if bodyAllowed(r, f.Status) {
		_, _ = io.WriteString(w, body)
	}
}
