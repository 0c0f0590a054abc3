package faults

import (
	"bytes"
	"mime"
	"net/http"
	"regexp"
	"strconv"
	"strings"
)

// HTTPEndlessPaging makes every SyncUpdates answer say Truncated, so the
// client keeps asking for more.
type HTTPEndlessPaging struct{}

func init() {
	Register(Info{Kind: "http.endless_paging", Summary: "rewrites every SyncUpdates answer to Truncated, so the client pages without end",
		New: func() Fault { return new(HTTPEndlessPaging) }})
}

// Validate checks the parameters (there are none).
func (f *HTTPEndlessPaging) Validate() error { return nil }

var _ HTTPHook = (*HTTPEndlessPaging)(nil)

// maxPagingBody bounds the SOAP answer the hook holds to rewrite; a larger
// one passes unchanged.
const maxPagingBody = 8 << 20

// truncatedFalse is the SyncUpdates result's Truncated element saying the
// answer was the last page (with or without a namespace prefix).
var truncatedFalse = regexp.MustCompile(`<((?:[A-Za-z_][\w.-]*:)?Truncated)>\s*false\s*</((?:[A-Za-z_][\w.-]*:)?Truncated)>`)

// ServeHTTP forwards the request and, when the answer is a SyncUpdates
// response (an XML body holding SyncUpdatesResponse), turns its
// <Truncated>false</Truncated> into true and fixes Content-Length: the
// server then hands out a continuation forever, as the WSUS servers of
// [SUS-4010] did, and WUA stops after its 200 round trips with
// 0x80244010 (wu-codes.md row 26). The page itself is the server's: once
// the client holds every update the pages are empty, and a client that
// starts its list over gets the updates again. Other answers (other SOAP
// calls, cabinets, content) pass unchanged; the hook works on any
// upstream, the lab's emulator or a real WSUS behind the proxy.
func (f *HTTPEndlessPaging) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if r.Method != http.MethodPost { // SOAP calls are POSTs
		next.ServeHTTP(w, r)
		return
	}
	pw := &pagingWriter{rwWrapper: rwWrapper{w}}
	next.ServeHTTP(pw, r)
	pw.finish()
}

// pagingWriter holds a 200 XML answer until the handler returns; any
// other answer goes straight through.
type pagingWriter struct {
	rwWrapper
	status  int  // 0 until the handler decides it
	holding bool // the answer is being held for a rewrite
	buf     bytes.Buffer
}

func (p *pagingWriter) WriteHeader(code int) {
	if p.status != 0 || code < 200 {
		if p.status == 0 {
			p.ResponseWriter.WriteHeader(code) // 1xx: pass on, the real status follows
		}
		return
	}
	p.status = code
	mt, _, _ := mime.ParseMediaType(p.Header().Get("Content-Type"))
	p.holding = code == http.StatusOK && (strings.HasSuffix(mt, "/xml") || strings.HasSuffix(mt, "+xml")) &&
		p.Header().Get("Content-Encoding") == ""
	if !p.holding {
		p.ResponseWriter.WriteHeader(code)
	}
}

func (p *pagingWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.WriteHeader(http.StatusOK)
	}
	if !p.holding {
		return p.ResponseWriter.Write(b)
	}
	if p.buf.Len()+len(b) > maxPagingBody {
		// Too large to hold: send what is held and pass the rest.
		p.holding = false
		p.ResponseWriter.WriteHeader(p.status)
		if _, err := p.ResponseWriter.Write(p.buf.Bytes()); err != nil {
			return 0, err
		}
		p.buf = bytes.Buffer{}
		return p.ResponseWriter.Write(b)
	}
	return p.buf.Write(b)
}

// Flush flushes only an answer that is not held.
func (p *pagingWriter) Flush() {
	if !p.holding {
		p.rwWrapper.Flush()
	}
}

// finish sends a held answer, rewritten when it is a SyncUpdates answer.
func (p *pagingWriter) finish() {
	if !p.holding {
		return
	}
	body := p.buf.Bytes()
	if bytes.Contains(body, []byte("SyncUpdatesResponse")) {
		body = truncatedFalse.ReplaceAll(body, []byte("<${1}>true</${2}>"))
	}
	p.Header().Set("Content-Length", strconv.Itoa(len(body)))
	p.ResponseWriter.WriteHeader(p.status)
	_, _ = p.ResponseWriter.Write(body)
}
