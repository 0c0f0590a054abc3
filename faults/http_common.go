package faults

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"strings"

	"golang.org/x/net/http/httpguts"
)

func validStatus(field string, s int, lo, hi int) error {
	if s < lo || s > hi {
		return fieldErr(field, "must be an HTTP status between %d and %d, got %d", lo, hi, s)
	}
	return nil
}

func validHeaders(field string, h map[string]string) error {
	for k, v := range h {
		if !httpguts.ValidHeaderFieldName(k) {
			return fieldErr(field, "%q is not a valid header name", k)
		}
		if !httpguts.ValidHeaderFieldValue(v) || strings.ContainsAny(v, "\r\n") {
			return fieldErr(field, "the value of %s is not a valid header value", k)
		}
	}
	return nil
}

// maxDrain bounds how much of a request body a hook reads before it takes
// the connection over, so unread bytes do not turn its close into a reset.
const maxDrain = 1 << 20

// bodyAllowed reports whether a response to r with status may carry a body.
func bodyAllowed(r *http.Request, status int) bool {
	return r.Method != http.MethodHead && status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// HTMLPage is the short HTML page proxies and servers send with an error
// status: "<html>…<h1>502 Bad Gateway</h1><p>detail</p>…".
func HTMLPage(status int, detail string) string {
	title := fmt.Sprintf("%d %s", status, http.StatusText(status))
	s := "<html><head><title>" + title + "</title></head><body><h1>" + title + "</h1>"
	if detail != "" {
		s += "<p>" + html.EscapeString(detail) + "</p>"
	}
	return s + "</body></html>\n"
}

// takeOver reads (a bounded part of) the request body, hijacks the
// connection, lets write put raw bytes on it, and ends it with a FIN. It is
// how hooks send what net/http would refuse to write.
func takeOver(w http.ResponseWriter, r *http.Request, write func(bw *bufio.Writer) error) error {
	if r.Body != nil {
		_, _ = io.CopyN(io.Discard, r.Body, maxDrain)
	}
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return fmt.Errorf("hijack: %w", err)
	}
	defer c.Close()
	werr := write(rw.Writer)
	if werr == nil {
		werr = rw.Flush()
	}
	_ = HalfClose(c)
	return werr
}

// rwWrapper is the base of ResponseWriter wrappers: Flush, Hijack and
// Unwrap reach the writer below (http.ResponseController follows Unwrap).
type rwWrapper struct {
	http.ResponseWriter
}

// Unwrap returns the ResponseWriter below.
func (w rwWrapper) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Flush flushes the writer below when it can.
func (w rwWrapper) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

// Hijack hijacks the connection below.
func (w rwWrapper) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(w.ResponseWriter).Hijack()
}
