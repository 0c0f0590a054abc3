package faults

import (
	"errors"
	"net/http"
)

// HTTPCorrupt flips bytes of the response body after N bytes, keeping its length.
type HTTPCorrupt struct {
	// AfterBytes is how many body bytes pass intact first (default 0).
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

var _ HTTPHook = (*HTTPCorrupt)(nil)

// ServeHTTP forwards the request and inverts Count bytes (default 1) of
// the answer's body starting at offset AfterBytes; length and framing stay
// intact, so only a hash or signature check notices (0x80246002 on
// payloads, wu-codes.md row 24).
func (f *HTTPCorrupt) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	n := int64(max(f.Count, 1))
	next.ServeHTTP(&corruptWriter{rwWrapper: rwWrapper{w}, from: f.AfterBytes, to: f.AfterBytes + n}, r)
}

type corruptWriter struct {
	rwWrapper
	off, from, to int64
}

func (c *corruptWriter) Write(p []byte) (int, error) {
	start, end := c.off, c.off+int64(len(p))
	if end > c.from && start < c.to {
		q := append([]byte(nil), p...)
		for i := max(c.from, start); i < min(c.to, end); i++ {
			q[i-start] ^= 0xFF
		}
		p = q
	}
	n, err := c.ResponseWriter.Write(p)
	c.off += int64(n)
	return n, err
}
