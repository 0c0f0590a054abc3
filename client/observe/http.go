package observe

import (
	"bytes"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// maxHeaderBytes bounds a request's or response's header block.
const maxHeaderBytes = 64 << 10

// reqParser reads the client's HTTP requests.
type reqParser struct {
	bodyLeft int64
	done     bool // stopped (chunked request body, or garbage)
}

func (p *reqParser) parse(f *Flow, ts time.Time) {
	st := &f.c2s
	for !p.done && len(st.buf) > 0 {
		if p.bodyLeft > 0 {
			n := min(p.bodyLeft, int64(len(st.buf)))
			p.bodyLeft -= n
			st.buf = st.buf[n:]
			continue
		}
		end := bytes.Index(st.buf, []byte("\r\n\r\n"))
		if end < 0 {
			if len(st.buf) > maxHeaderBytes {
				p.done = true
			}
			return
		}
		head := string(st.buf[:end])
		st.buf = st.buf[end+4:]
		lines := strings.Split(head, "\r\n")
		parts := strings.SplitN(lines[0], " ", 3)
		if len(parts) < 2 {
			p.done = true
			return
		}
		ex := &Exchange{Time: ts, Method: parts[0], Target: parts[1], ContentLength: -1}
		hdr := parseHeaders(lines[1:])
		ex.Host = hdr.get("host")
		switch {
		case ex.Method == "CONNECT":
			ex.Host = firstNonEmpty(ex.Host, ex.Target)
			f.Connect = ex.Target
			f.pendingTLS = true
		case strings.HasPrefix(ex.Target, "http://") || strings.HasPrefix(ex.Target, "https://"):
			// A proxy request: absolute URI.
			if u, err := url.Parse(ex.Target); err == nil {
				ex.Host, ex.Path = firstNonEmpty(u.Host, ex.Host), u.Path
			}
		default:
			ex.Path = ex.Target
			if i := strings.IndexByte(ex.Path, '?'); i >= 0 {
				ex.Path = ex.Path[:i]
			}
		}
		f.HTTP = append(f.HTTP, ex)
		if strings.Contains(strings.ToLower(hdr.get("transfer-encoding")), "chunked") {
			p.done = true // request bodies are not followed further
			return
		}
		if n, err := strconv.ParseInt(hdr.get("content-length"), 10, 64); err == nil && n > 0 {
			p.bodyLeft = n
		}
		if ex.Method == "CONNECT" {
			return // the tunnel's bytes wait for the answer
		}
	}
}

// respParser reads the server's HTTP responses, matching them to the
// requests in order.
type respParser struct {
	idx     int // the exchange being answered
	inBody  bool
	chunk   chunkState
	stopped bool
}

type chunkState struct {
	left    int64 // data bytes left in the current chunk
	crlf    bool  // expecting the CRLF after a chunk's data
	trailer bool  // after the last chunk: reading trailer lines
}

// phase tells where the response side stands: request (nothing answered
// yet), headers (status line seen, headers unfinished), body, idle.
func (p *respParser) phase(f *Flow) string {
	if p.idx >= len(f.HTTP) {
		return "idle"
	}
	ex := f.HTTP[p.idx]
	switch {
	case ex.Malformed != "":
		return "idle"
	case !ex.HeadersDone && len(f.s2c.buf) > 0:
		return "headers"
	case !ex.HeadersDone:
		return "request"
	case !ex.Complete:
		return "body"
	}
	return "idle"
}

func (p *respParser) parse(f *Flow, ts time.Time) {
	st := &f.s2c
	for !p.stopped && len(st.buf) > 0 {
		if p.idx >= len(f.HTTP) {
			if f.mode != "http" {
				return
			}
			if len(f.c2s.buf) > 0 && !f.req.done {
				return // the request is not complete yet
			}
			// A reply with no request (the server spoke first, or the
			// request was not captured).
			f.HTTP = append(f.HTTP, &Exchange{Time: ts, ContentLength: -1})
		}
		ex := f.HTTP[p.idx]
		if !p.inBody {
			if len(st.buf) < 5 {
				return
			}
			if !bytes.HasPrefix(st.buf, []byte("HTTP/")) {
				ex.Malformed = quoteStart(st.buf)
				ex.StatusTime = ts
				p.stopped = true
				return
			}
			if ex.Status == 0 {
				if eol := bytes.Index(st.buf, []byte("\r\n")); eol >= 0 {
					p.statusLine(ex, string(st.buf[:eol]), ts)
				}
			}
			end := bytes.Index(st.buf, []byte("\r\n\r\n"))
			if end < 0 {
				if len(st.buf) > maxHeaderBytes {
					ex.Malformed = "header block larger than 64 KiB"
					p.stopped = true
				}
				return
			}
			head := string(st.buf[:end])
			st.buf = st.buf[end+4:]
			lines := strings.Split(head, "\r\n")
			if ex.Status == 0 {
				p.statusLine(ex, lines[0], ts)
			}
			if ex.Malformed != "" {
				p.stopped = true
				return
			}
			hdr := parseHeaders(lines[1:])
			if ex.Status >= 100 && ex.Status < 200 && ex.Status != 101 {
				ex.Status, ex.Reason = 0, "" // 100 Continue: the real answer follows
				continue
			}
			ex.HeadersDone = true
			ex.ContentType = hdr.get("content-type")
			ex.ProxyAuth = hdr.all("proxy-authenticate")
			if n, err := strconv.ParseInt(hdr.get("content-length"), 10, 64); err == nil && n >= 0 {
				ex.ContentLength = n
			}
			ex.Chunked = strings.Contains(strings.ToLower(hdr.get("transfer-encoding")), "chunked")
			switch {
			case ex.Method == "CONNECT" && ex.Status >= 200 && ex.Status < 300:
				ex.Complete = true
				f.pendingTLS = false
				f.mode, f.Protocol = "tls", "http+tls"
				f.TLS = &TLSInfo{}
				p.idx++
				return
			case ex.Method == "HEAD" || ex.Status == 204 || ex.Status == 304:
				ex.Complete = true
			case ex.Chunked:
				ex.ContentLength = -1
				p.chunk = chunkState{}
				p.inBody = true
			case ex.ContentLength == 0:
				ex.Complete = true
			case ex.ContentLength > 0:
				p.inBody = true
			default:
				ex.closeDelimited = true
				p.inBody = true
			}
			if ex.Complete {
				p.next(f, ex)
			}
			continue
		}
		// Body.
		switch {
		case ex.Chunked:
			if !p.chunked(ex, st) {
				return
			}
		case ex.closeDelimited:
			ex.BodyBytes += int64(len(st.buf))
			ex.keepHead(st.buf)
			st.buf = st.buf[:0]
			return
		default:
			n := min(ex.ContentLength-ex.BodyBytes, int64(len(st.buf)))
			ex.keepHead(st.buf[:n])
			ex.BodyBytes += n
			st.buf = st.buf[n:]
			if ex.BodyBytes >= ex.ContentLength {
				ex.Complete = true
			}
		}
		if ex.Complete {
			p.next(f, ex)
		}
	}
}

func (p *respParser) next(f *Flow, ex *Exchange) {
	ex.SOAPFault = isSOAPFault(ex.bodyHead)
	ex.bodyHead = nil
	p.inBody = false
	p.idx++
	if ex.Method == "CONNECT" && ex.Status >= 300 {
		f.pendingTLS = false
	}
}

func (p *respParser) statusLine(ex *Exchange, line string, ts time.Time) {
	parts := strings.SplitN(line, " ", 3)
	if len(parts) < 2 || !strings.HasPrefix(parts[0], "HTTP/1.") {
		ex.Malformed = quoteStart([]byte(line))
		return
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 100 || n > 999 || len(parts[1]) != 3 {
		ex.Malformed = quoteStart([]byte(line))
		return
	}
	ex.Status, ex.StatusTime = n, ts
	if len(parts) == 3 {
		ex.Reason = parts[2]
	}
}

// chunked consumes chunked body bytes; false when it needs more.
func (p *respParser) chunked(ex *Exchange, st *stream) bool {
	c := &p.chunk
	for len(st.buf) > 0 {
		switch {
		case c.left > 0:
			n := min(c.left, int64(len(st.buf)))
			ex.keepHead(st.buf[:n])
			ex.BodyBytes += n
			c.left -= n
			st.buf = st.buf[n:]
			if c.left == 0 {
				c.crlf = true
			}
		case c.crlf:
			if len(st.buf) < 2 {
				return false
			}
			if string(st.buf[:2]) != "\r\n" {
				ex.Malformed = "bad chunk framing"
				p.stopped = true
				return false
			}
			st.buf = st.buf[2:]
			c.crlf = false
		default:
			eol := bytes.Index(st.buf, []byte("\r\n"))
			if eol < 0 {
				if len(st.buf) > 4096 {
					ex.Malformed = "chunk size line too long"
					p.stopped = true
				}
				return false
			}
			line := string(st.buf[:eol])
			st.buf = st.buf[eol+2:]
			if c.trailer {
				if line == "" {
					ex.Complete = true
					return true
				}
				continue
			}
			if i := strings.IndexByte(line, ';'); i >= 0 {
				line = line[:i]
			}
			n, err := strconv.ParseInt(strings.TrimSpace(line), 16, 64)
			if err != nil || n < 0 {
				ex.Malformed = "bad chunk size " + strconv.Quote(line)
				p.stopped = true
				return false
			}
			if n == 0 {
				c.trailer = true
				continue
			}
			c.left = n
		}
	}
	return ex.Complete
}

func (ex *Exchange) keepHead(b []byte) {
	if room := 4096 - len(ex.bodyHead); room > 0 {
		ex.bodyHead = append(ex.bodyHead, b[:min(room, len(b))]...)
	}
}

// isSOAPFault recognises a SOAP 1.1 or 1.2 Fault envelope.
func isSOAPFault(b []byte) bool {
	s := string(b)
	return strings.Contains(s, "Envelope") && (strings.Contains(s, ":Fault>") || strings.Contains(s, "<Fault>") || strings.Contains(s, "<Fault "))
}

func quoteStart(b []byte) string {
	if len(b) > 32 {
		b = b[:32]
	}
	return strconv.Quote(string(b))
}

type headers map[string][]string

func parseHeaders(lines []string) headers {
	h := headers{}
	for _, l := range lines {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		h[k] = append(h[k], strings.TrimSpace(v))
	}
	return h
}

func (h headers) get(k string) string {
	if v := h[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

func (h headers) all(k string) []string { return h[k] }
