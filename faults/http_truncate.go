package faults

import (
	"errors"
	"net/http"
	"strconv"
)

// HTTPTruncate cuts the response body after N bytes and closes the connection.
type HTTPTruncate struct {
	// AfterBytes is how many body bytes are sent before the cut.
	AfterBytes int64 `yaml:"after_bytes" json:"after_bytes"`
	// Length is what the headers announce: keep (the original
	// Content-Length, so the body ends short), match (Content-Length set to
	// the cut, so the short body looks complete), none (no length, the
	// close ends the body) or chunked (chunked encoding, cut without the
	// last chunk, row 7b). Default keep.
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
		errs = append(errs, oneOf("length", f.Length, []string{"keep", "match", "none", "chunked"}))
	}
	return errors.Join(errs...)
}

var _ HTTPHook = (*HTTPTruncate)(nil)

// ServeHTTP forwards the request and cuts the answer's body after
// AfterBytes bytes, then ends the connection with a FIN (wu-codes.md row 7).
// Length decides what the headers say:
//
//	keep   the origin's framing: Content-Length N (the body ends short) or
//	       chunked without the last chunk → 0x80072EFE-class
//	match  Content-Length set to the cut and Connection: close: the short
//	       body looks complete → a parse or hash failure
//	none   no length, no chunking (Transfer-Encoding: identity): the close
//	       ends the body
//	chunked  chunked encoding whatever the origin sent, cut without the
//	       last chunk (row 7b) → 0x80072EFE-class
//
// A body no longer than AfterBytes passes whole.
func (f *HTTPTruncate) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	t := &truncWriter{rwWrapper: rwWrapper{w}, f: f, left: f.AfterBytes, r: r}
	next.ServeHTTP(t, r)
}

type truncWriter struct {
	rwWrapper
	f      *HTTPTruncate
	r      *http.Request
	left   int64
	wrote  bool
	status int
	cut    bool // the connection was taken over and closed
}

func (t *truncWriter) WriteHeader(code int) {
	if t.wrote || code < 200 {
		t.ResponseWriter.WriteHeader(code)
		return
	}
	t.wrote, t.status = true, code
	if bodyAllowed(t.r, code) {
		h := t.Header()
		switch t.f.Length {
		case "match":
			if cl, err := strconv.ParseInt(h.Get("Content-Length"), 10, 64); err != nil || cl > t.f.AfterBytes {
				h.Set("Content-Length", strconv.FormatInt(t.f.AfterBytes, 10))
			}
			h.Set("Connection", "close")
		case "none":
			h.Del("Content-Length")
			h.Set("Transfer-Encoding", "identity")
		case "chunked":
			h.Del("Content-Length")
			h.Set("Transfer-Encoding", "chunked")
		}
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *truncWriter) Write(p []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	if t.cut {
		return 0, ErrInjected
	}
	if int64(len(p)) <= t.left {
		n, err := t.ResponseWriter.Write(p)
		t.left -= int64(n)
		return n, err
	}
	n, err := t.ResponseWriter.Write(p[:t.left])
	t.left -= int64(n)
	if err != nil {
		return n, err
	}
	t.finish()
	return n, ErrInjected
}

// finish flushes what was allowed and ends the connection.
func (t *truncWriter) finish() {
	t.cut = true
	_ = http.NewResponseController(t.ResponseWriter).Flush()
	c, _, err := http.NewResponseController(t.ResponseWriter).Hijack()
	if err != nil {
		return
	}
	_ = HalfClose(c)
	_ = c.Close()
}
