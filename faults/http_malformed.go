package faults

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
)

// HTTPMalformed answers with a broken HTTP response (garbage-status, bad-header, bad-chunk, http09, header-flood, huge-header).
type HTTPMalformed struct {
	// Variant is one of MalformedVariants.
	Variant string `yaml:"variant" json:"variant"`
}

func init() {
	Register(Info{Kind: "http.malformed", Summary: "answers with a broken HTTP response (garbage-status, bad-header, bad-chunk, http09, header-flood, huge-header)", New: func() Fault { return new(HTTPMalformed) }})
}

// Validate checks the parameters.
func (f *HTTPMalformed) Validate() error {
	return oneOf("variant", f.Variant, MalformedVariants)
}

// MalformedVariants are the ways http.malformed breaks a response.
var MalformedVariants = []string{"garbage-status", "bad-header", "bad-chunk", "http09", "header-flood", "huge-header"}

var _ HTTPHook = (*HTTPMalformed)(nil)

// Sizes of the oversized variants: header-flood sends floodHeaders short
// header lines (about 200 KiB, past WinHTTP's 64 KiB default but inside
// Go's 10 MiB); huge-header one line of hugeHeader bytes, past both.
const (
	floodHeaders = 10000
	hugeHeader   = 11 << 20
)

// ServeHTTP takes the connection over and writes a broken answer, then
// closes it with a FIN (WinHTTP 12152 → 0x80072F78 for a bad status line
// or header, wu-codes.md row 22; 12181–12183 for floods and bad chunks):
//
//	garbage-status  "HTTP/1.1 2xx Garbage": the status code is not a number
//	bad-header      a header line without a colon
//	bad-chunk       chunked body: a good chunk, then the size "zz"
//	http09          no status line at all: the body straight away
//	header-flood    10,000 header lines
//	huge-header     one 11 MiB header line
func (f *HTTPMalformed) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	_ = takeOver(w, r, func(bw *bufio.Writer) error {
		switch f.Variant {
		case "garbage-status":
			bw.WriteString("HTTP/1.1 2xx Garbage\r\nContent-Length: 0\r\n\r\n")
		case "bad-header":
			bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nThis header line has no colon\r\nContent-Length: 2\r\n\r\nok")
		case "bad-chunk":
			bw.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\nworld\r\n0\r\n\r\n")
		case "http09":
			bw.WriteString("<html><body>no status line</body></html>\n")
		case "header-flood":
			bw.WriteString("HTTP/1.1 200 OK\r\n")
			for i := range floodHeaders {
				fmt.Fprintf(bw, "X-Flood-%05d: x\r\n", i)
			}
			bw.WriteString("Content-Length: 0\r\n\r\n")
		case "huge-header":
			bw.WriteString("HTTP/1.1 200 OK\r\nX-Huge: ")
			chunk := strings.Repeat("a", 64<<10)
			for left := hugeHeader; left > 0; left -= len(chunk) {
				if _, err := bw.WriteString(chunk[:min(left, len(chunk))]); err != nil {
					return err
				}
			}
			bw.WriteString("\r\nContent-Length: 0\r\n\r\n")
		}
		return bw.Flush()
	})
}
