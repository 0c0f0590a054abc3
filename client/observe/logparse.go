package observe

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/codes"
)

// Format is the format of a log line or record.
type Format string

// Formats ParseLog recognises.
const (
	FormatLegacy    Format = "legacy"    // WindowsUpdate.log, XP to 8.1 (7.1)
	FormatETW       Format = "etw"       // Get-WindowsUpdateLog output, Windows 10+ (7.2)
	FormatReporting Format = "reporting" // ReportingEvents.log
	FormatEvent     Format = "event"     // an event exported with wevtutil /f:xml (7.4)
	FormatText      Format = "text"      // a line without a timestamp
)

// Entry is one log line (or event record) that carries a code or one of
// the structured fields. Line numbers are 1-based; for events, Line is the
// event's index in the file.
type Entry struct {
	Source    string    `json:"source"`
	Line      int       `json:"line"`
	Format    Format    `json:"format"`
	Time      time.Time `json:"time,omitzero"`
	PID       string    `json:"pid,omitempty"`
	TID       string    `json:"tid,omitempty"`
	Component string    `json:"component,omitempty"`
	Text      string    `json:"text"`
	// Codes are the codes on the line, in order of appearance; derived
	// ones (from "soap client error = 7", "HTTP status code = 407") follow
	// the written ones.
	Codes []Found `json:"codes,omitempty"`
	// Final marks the session's result: "Exit code = 0x…", "failed
	// Searching for update with error 0x…", Operational event 25.
	Final bool `json:"final,omitempty"`

	HTTPStatus      int    `json:"http_status,omitempty"`
	SOAPClientError *int   `json:"soap_client_error,omitempty"`
	SOAPErrorCode   *int   `json:"soap_error_code,omitempty"`
	BGErrorContext  *int   `json:"bg_error_context,omitempty"`
	ProxyList       string `json:"proxy_list,omitempty"`
	BypassList      string `json:"bypass_list,omitempty"`
	AuthSchemes     string `json:"auth_schemes,omitempty"`
	URL             string `json:"url,omitempty"`

	// Event records only.
	EventID  int    `json:"event_id,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Provider string `json:"provider,omitempty"`
}

// Found is one code on a line.
type Found struct {
	Code codes.Code `json:"code"`
	// Spelling is the code as written ("hr = 80072ee2", "[80072F8F]",
	// "-2145107946"), or the field it was derived from.
	Spelling string `json:"spelling"`
	// Field is the word the code follows, lower case: "hr", "error",
	// "code" (Exit code), "failed", "pterror", "errorcode", or the
	// structured field for derived codes ("soap client error").
	Field string `json:"field,omitempty"`
	// Derived is set when the code was computed from a structured field
	// rather than written on the line.
	Derived bool `json:"derived,omitempty"`
}

// LogOptions tune ParseLog.
type LogOptions struct {
	// Location is the time zone of timestamps that carry none (every
	// WindowsUpdate.log format writes the machine's local time). Nil: UTC.
	Location *time.Location
	// MaxLineBytes bounds one line (default 64 KiB); longer lines are cut
	// and counted in a warning.
	MaxLineBytes int
	// KeepAll keeps entries without a code or structured field too.
	KeepAll bool
}

// LogResult is what ParseLog found. It is filled even when ParseLog also
// returns an error: whatever was read before the error is kept.
type LogResult struct {
	Source   string   `json:"source"`
	Encoding string   `json:"encoding"`
	Format   Format   `json:"format"` // the most common format among the lines
	Lines    int      `json:"lines"`
	Entries  []Entry  `json:"entries"`
	Warnings []string `json:"warnings,omitempty"`
}

// Codes returns every code found, in order, with the entry it is on.
func (r *LogResult) Codes() []EntryCode {
	var out []EntryCode
	for i := range r.Entries {
		for _, f := range r.Entries[i].Codes {
			out = append(out, EntryCode{Entry: &r.Entries[i], Found: f})
		}
	}
	return out
}

// EntryCode is a code together with the entry it was found on.
type EntryCode struct {
	Entry *Entry
	Found Found
}

// Final returns the last final entry (the session's result), or nil.
func (r *LogResult) Final() *Entry {
	for i := len(r.Entries) - 1; i >= 0; i-- {
		if r.Entries[i].Final {
			return &r.Entries[i]
		}
	}
	return nil
}

// ErrNotALog is wrapped by ParseLog's error when the input does not look
// like a text log or an event export at all.
var ErrNotALog = errors.New("not a Windows Update log")

// ParseLog reads a WindowsUpdate.log (legacy or Get-WindowsUpdateLog),
// a ReportingEvents.log or a wevtutil XML export from r, in UTF-8 or
// UTF-16, and returns the entries that carry codes. name labels the
// entries (a file name). Bad input gives a partial result and warnings;
// the error is set only when reading failed or nothing looked like a log,
// and even then the result holds what was read.
func ParseLog(r io.Reader, name string, o LogOptions) (*LogResult, error) {
	res := &LogResult{Source: name}
	if o.Location == nil {
		o.Location = time.UTC
	}
	if o.MaxLineBytes <= 0 {
		o.MaxLineBytes = 64 << 10
	}
	dr, enc, err := decodeText(r)
	if err != nil {
		return res, fmt.Errorf("observe: read %s: %w", name, err)
	}
	res.Encoding = enc
	// Peek at the first non-blank characters to tell XML from text.
	br := newPeeker(dr)
	if head := br.peekText(512); isEventXML(head) {
		res.Format = FormatEvent
		return res, parseEventXML(br, res, o)
	}
	return res, parseTextLog(br, res, o)
}

func isEventXML(head []byte) bool {
	h := bytes.TrimLeft(head, " \t\r\n")
	return bytes.HasPrefix(h, []byte("<Event")) || bytes.HasPrefix(h, []byte("<?xml")) || bytes.HasPrefix(h, []byte("<Events"))
}

func parseTextLog(r io.Reader, res *LogResult, o LogOptions) error {
	lr := newLineReader(r, o.MaxLineBytes)
	formats := map[Format]int{}
	var binary, textLines int
	var readErr error
	for {
		line, err := lr.next()
		if err != nil && !errors.Is(err, io.EOF) {
			readErr = err
		}
		if err == nil || (readErr != nil && line != "") {
			if binaryish(line) {
				binary++
			} else if strings.TrimSpace(line) != "" {
				textLines++
				if e, ok := parseLine(line, o); ok {
					e.Source, e.Line = res.Source, lr.n
					formats[e.Format]++
					if o.KeepAll || len(e.Codes) > 0 || e.hasFields() {
						res.Entries = append(res.Entries, e)
					}
				}
			}
		}
		if err != nil {
			break
		}
	}
	res.Lines = lr.n
	best := 0
	for f, n := range formats {
		if n > best || (n == best && f < res.Format) {
			res.Format, best = f, n
		}
	}
	if lr.truncated > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d lines longer than %d bytes were cut", res.Source, lr.truncated, o.MaxLineBytes))
	}
	if binary > 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: %d of %d lines are not text (binary data or a wrong encoding) and were skipped", res.Source, binary, lr.n))
	}
	if readErr != nil {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s: read error after line %d: %v (partial result)", res.Source, lr.n, readErr))
		return fmt.Errorf("observe: read %s: %w", res.Source, readErr)
	}
	if textLines == 0 && binary > 0 {
		return fmt.Errorf("observe: %s: no text lines: %w", res.Source, ErrNotALog)
	}
	return nil
}

func (e *Entry) hasFields() bool {
	return e.HTTPStatus != 0 || e.SOAPClientError != nil || e.SOAPErrorCode != nil || e.BGErrorContext != nil ||
		e.ProxyList != "" || e.BypassList != "" || e.AuthSchemes != ""
}

// Line formats, reference section 7.3. The ETW date separator follows the
// locale: 2018.10.21, 2020/05/08, 2018-10-21.
var (
	legacyLineRE = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2}):(\d{3})\s+(\d+)\s+([0-9a-fA-F]+)\s+(\S+)\s*(.*)$`)
	etwLineRE    = regexp.MustCompile(`^(\d{4})[./-](\d{2})[./-](\d{2})\s+(\d{2}):(\d{2}):(\d{2})\.(\d{1,7})\s+(\d+)\s+(\d+)\s+(\S+)\s*(.*)$`)
	// {GUID}\t2015-03-23 19:39:34:484-0400\t1\t161\t[AGENT_DOWNLOAD_FAILED]\t101\t{GUID}\t201\t80200056\t…
	reportingRE = regexp.MustCompile(`^\{[0-9A-Fa-f-]{36}\}\s+(\d{4})-(\d{2})-(\d{2})\s+(\d{2}):(\d{2}):(\d{2}):(\d{3})([+-]\d{4})\s+(\d+)\s+(\d+)\s+\[([A-Z_]+)\]\s+(.*)$`)
	// "1060 15a8 PT WARNING: …", "03E4 1668 Misc Send request failed…" (no
	// date; the PID in hex or decimal), "Misc   *FAILED* …" and
	// "[DownloadManager] …".
	bareLineRE = regexp.MustCompile(`^(?:([0-9a-fA-F]+)\s+([0-9a-fA-F]+)\s+)?\[?([A-Za-z][A-Za-z0-9]*)\]?\s+(.*)$`)
	// tracefmt's ETW rendering: "DownloadManager [0]12F4.1FE8::09/29/2017-13:45:08.530 [agent]DO job …"
	// (component, the CPU number in brackets then PID.TID in hex, ::MM/DD/YYYY-HH:MM:SS.fff).
	traceLineRE = regexp.MustCompile(`^\[?([A-Za-z][A-Za-z0-9]*)\]?\s+\[\d+\]([0-9A-Fa-f]+)\.([0-9A-Fa-f]+)::(\d{2})/(\d{2})/(\d{4})-(\d{2}):(\d{2}):(\d{2})\.(\d{1,7})\s*(.*)$`)
)

// components are the component tags of both formats (7.1, 7.2, 3.1), to
// recognise lines quoted without their timestamp.
var components = map[string]bool{
	"agent": true, "protocoltalker": true, "webservices": true, "downloadmanager": true, "handler": true,
	"misc": true, "sls": true, "shared": true, "comapi": true, "idletimer": true, "deploymenthandler": true,
	"pt": true, "dnldmgr": true, "setup": true, "report": true, "reporter": true, "au": true, "auclnt": true,
	"service": true, "ep": true, "idletmr": true, "driver": true, "dtastor": true, "cltui": true, "wuapi": true,
	"datastore": true, "updatepolicy": true, "sih": true, "dcat": true, "ecp": true, "wusvc": true,
}

// parseLine splits one line into its fields and finds its codes. It
// returns false for a line that is not a log line at all (nothing
// recognisable and no code).
func parseLine(line string, o LogOptions) (Entry, bool) {
	var e Entry
	if m := traceLineRE.FindStringSubmatch(line); m != nil {
		e.Format = FormatETW
		frac := m[10] + strings.Repeat("0", 9-len(m[10]))
		e.Time = mkTime(o.Location, m[6], m[4], m[5], m[7], m[8], m[9], frac)
		e.PID, e.TID, e.Component, e.Text = m[2], m[3], m[1], m[11]
	} else if m := etwLineRE.FindStringSubmatch(line); m != nil {
		e.Format = FormatETW
		frac := m[7] + strings.Repeat("0", 9-len(m[7]))
		e.Time = mkTime(o.Location, m[1], m[2], m[3], m[4], m[5], m[6], frac)
		e.PID, e.TID, e.Component, e.Text = m[8], m[9], m[10], m[11]
	} else if m := legacyLineRE.FindStringSubmatch(line); m != nil {
		e.Format = FormatLegacy
		e.Time = mkTime(o.Location, m[1], m[2], m[3], m[4], m[5], m[6], m[7]+"000000")
		e.PID, e.TID, e.Component, e.Text = m[8], m[9], m[10], m[11]
	} else if m := reportingRE.FindStringSubmatch(line); m != nil {
		e.Format = FormatReporting
		loc := o.Location
		if off, err := strconv.Atoi(m[8]); err == nil && abs(off/100) <= 14 && abs(off%100) < 60 {
			loc = time.FixedZone(m[8], (off/100*60+off%100)*60)
		}
		e.Time = mkTime(loc, m[1], m[2], m[3], m[4], m[5], m[6], m[7]+"000000")
		e.Component = m[11]
		e.Text = m[12]
		// Fields: status, agent code, {GUID}, revision, code (bare hex),
		// caller, result, text. The code is the 4th tab field of the rest.
		rest := strings.Split(m[12], "\t")
		if len(rest) >= 4 {
			if c, err := codes.Parse(strings.TrimSpace(rest[3])); err == nil && c != codes.OK {
				e.Codes = append(e.Codes, Found{Code: c, Spelling: strings.TrimSpace(rest[3]), Field: strings.ToLower(m[11])})
			}
		}
	} else if m := bareLineRE.FindStringSubmatch(strings.TrimSpace(line)); m != nil && components[strings.ToLower(m[3])] {
		e.Format = FormatText
		e.PID, e.TID, e.Component, e.Text = m[1], m[2], m[3], m[4]
	} else {
		e.Format = FormatText
		e.Text = strings.TrimSpace(line)
	}
	e.Component = strings.Trim(e.Component, "[]")
	e.Text = strings.TrimSpace(e.Text)
	if e.Format != FormatReporting {
		e.Codes = findCodes(e.Text)
	}
	extractFields(&e)
	if len(e.Text) > 2048 {
		e.Text = e.Text[:2048] + "…"
	}
	return e, e.Format != FormatText || e.Component != "" || len(e.Codes) > 0 || e.hasFields()
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func mkTime(loc *time.Location, y, mo, d, h, mi, s, ns string) time.Time {
	a := func(s string) int { n, _ := strconv.Atoi(s); return n }
	if len(ns) > 9 {
		ns = ns[:9]
	}
	t := time.Date(a(y), time.Month(a(mo)), a(d), a(h), a(mi), a(s), a(ns), loc)
	if t.Month() != time.Month(a(mo)) || a(mo) < 1 || a(mo) > 12 || a(h) > 23 || a(mi) > 59 || a(s) > 60 {
		return time.Time{} // not a real date: keep the line, drop the time
	}
	return t
}

// Code tokens, reference section 7.3: four hex spellings (0x80244021,
// 0X80244007, 80072ee2, [80072F8F]) and signed decimals (-2145107946).
var (
	hexTokenRE    = regexp.MustCompile(`(?i)(\[)?\b(0x)?([0-9a-f]{8})\b(\])?`)
	signedTokenRE = regexp.MustCompile(`(?:^|[^0-9A-Za-z])(-2[0-9]{9})\b`)
	// The facilities WU-relevant enough to accept a bare 8-digit hex
	// token without a prefix or brackets (the section 7.3 token regex).
	wuFacilityRE = regexp.MustCompile(`(?i)^(8024[0-9a-f]{4}|80072[ef][0-9a-f]{2}|8019[0-9a-f]{4}|8020[0-9a-f]{4}|80d0[0-9a-f]{4}|803d00[0-9a-f]{2}|8009[0-9a-f]{4}|800b01[0-9a-f]{2})$`)
	labelRE      = regexp.MustCompile(`([A-Za-z][A-Za-z_]*)[^A-Za-z0-9]*$`)
	// Keywords after which any failure HRESULT is accepted bare.
	codeLabels = map[string]bool{"hr": true, "error": true, "errorcode": true, "pterror": true, "code": true, "failed": true, "returned": true, "status": true}
)

// findCodes returns the codes written on a line.
func findCodes(text string) []Found {
	var out []Found
	seen := map[int]bool{}
	for _, m := range hexTokenRE.FindAllStringSubmatchIndex(text, -1) {
		start, end := m[0], m[1]
		digits := text[m[6]:m[7]]
		prefixed := m[4] >= 0
		bracketed := m[2] >= 0 && m[8] >= 0
		// A GUID's first group ({9829AC5C-…) or a longer hex run is not a code.
		if end < len(text) && text[end] == '-' || start > 0 && text[start-1] == '{' || start > 0 && text[start-1] == '-' {
			continue
		}
		c := codes.Code(uint32(mustHex(digits)))
		label := labelBefore(text[:start])
		failure := c&0x80000000 != 0
		switch {
		case (prefixed || bracketed || codeLabels[label]) && failure:
		case label == "code" && c == codes.OK && prefixed:
			// "Exit code = 0x00000000": success is a result too.
		case wuFacilityRE.MatchString(digits):
		default:
			continue
		}
		sp := text[start:end]
		if !bracketed {
			sp = strings.TrimPrefix(sp, "[")
			sp = strings.TrimSuffix(sp, "]")
		}
		if label != "" && !bracketed && !prefixed {
			// Keep the label in the spelling of bare tokens: "hr = 80072ee2".
			if i := strings.LastIndex(strings.ToLower(text[:start]), label); i >= 0 && start-i < 24 {
				sp = text[i:end]
			}
		}
		seen[start] = true
		out = append(out, Found{Code: c, Spelling: sp, Field: label})
	}
	for _, m := range signedTokenRE.FindAllStringSubmatchIndex(text, -1) {
		tok := text[m[2]:m[3]]
		c, err := codes.Parse(tok)
		if err != nil || c&0x80000000 == 0 {
			continue
		}
		out = append(out, Found{Code: c, Spelling: tok, Field: labelBefore(text[:m[2]])})
	}
	return out
}

func mustHex(s string) uint64 {
	v, _ := strconv.ParseUint(s, 16, 32)
	return v
}

// labelBefore returns the last word before a token, lower case, if it is
// close: "Exit code = " gives "code", "hr:" gives "hr", "*FAILED* [" gives
// "failed".
func labelBefore(prefix string) string {
	if len(prefix) > 40 {
		prefix = prefix[len(prefix)-40:]
	}
	m := labelRE.FindStringSubmatch(prefix)
	if m == nil {
		return ""
	}
	// The gap between the word and the token must be separators only.
	gap := prefix[len(prefix)-(len(m[0])-len(m[1])):]
	if len(gap) > 6 {
		return ""
	}
	return strings.ToLower(m[1])
}

// Structured fields, reference section 7.3.
var (
	soapClientRE  = regexp.MustCompile(`(?i)soap client error\s*=\s*(\d{1,4})`)
	soapCodeRE    = regexp.MustCompile(`(?i)soap error code\s*=\s*(\d{1,4})`)
	httpStatusRE  = regexp.MustCompile(`(?i)HTTP status code\s*=\s*(\d{1,3})\b`)
	bgContextRE   = regexp.MustCompile(`(?i)BG_ERROR_CONTEXT\s*=\s*(\d{1,3})`)
	proxyListRE   = regexp.MustCompile(`(?i)Proxy List used\s*:\s*<([^>]*)>`)
	bypassListRE  = regexp.MustCompile(`(?i)Bypass List used\s*:\s*<([^>]*)>`)
	authSchemesRE = regexp.MustCompile(`(?i)Auth Schemes used\s*:\s*<([^>]*)>`)
	bitsProxyRE   = regexp.MustCompile(`(?i)\busing proxy\s*=\s*([^\s,;]+)`)
	wsProxyRE     = regexp.MustCompile(`(?i)WS Proxy List:\s*'([^']*)',\s*Bypass List:\s*'([^']*)'`)
	urlRE         = regexp.MustCompile(`(?i)\bhttps?://[^\s<>'"]+`)
	finalRE       = regexp.MustCompile(`(?i)\bExit code\s*=|failed Searching for update with error|failed to check for updates with error`)
)

// soapErrorCodes maps ATL SOAP_ERROR_CODE values to their WU codes
// ([ATLSOAP], reference section 2.2).
var soapErrorCodes = map[int]codes.Code{100: 0x8024400B, 200: 0x8024400C, 300: 0x8024400D, 400: 0x8024400E}

func extractFields(e *Entry) {
	t := e.Text
	atoi := func(s string) int { n, _ := strconv.Atoi(s); return n }
	has := func(c codes.Code) bool {
		for _, f := range e.Codes {
			if f.Code == c {
				return true
			}
		}
		return false
	}
	derive := func(c codes.Code, sp, field string) {
		if !has(c) {
			e.Codes = append(e.Codes, Found{Code: c, Spelling: sp, Field: field, Derived: true})
		}
	}
	if m := soapClientRE.FindStringSubmatch(t); m != nil {
		n := atoi(m[1])
		e.SOAPClientError = &n
		// soap client error = N is 0x80244000+N (section 2.2); shown only
		// when nothing else on the line names the outcome.
		if n > 0 && n <= 10 && len(e.Codes) == 0 {
			derive(codes.Code(0x80244000+uint32(n)), m[0], "soap client error")
		}
	}
	if m := soapCodeRE.FindStringSubmatch(t); m != nil {
		n := atoi(m[1])
		e.SOAPErrorCode = &n
		if c, ok := soapErrorCodes[n]; ok && len(e.Codes) == 0 {
			derive(c, m[0], "soap error code")
		}
	}
	if m := httpStatusRE.FindStringSubmatch(t); m != nil {
		e.HTTPStatus = atoi(m[1])
		if c, ok := client.StatusCode(e.HTTPStatus); ok && len(e.Codes) == 0 {
			derive(c, m[0], "http status")
		}
	}
	if m := bgContextRE.FindStringSubmatch(t); m != nil {
		n := atoi(m[1])
		e.BGErrorContext = &n
	}
	if m := proxyListRE.FindStringSubmatch(t); m != nil {
		e.ProxyList = strings.TrimSpace(m[1])
	}
	if m := bypassListRE.FindStringSubmatch(t); m != nil {
		e.BypassList = strings.TrimSpace(m[1])
	}
	if m := authSchemesRE.FindStringSubmatch(t); m != nil {
		e.AuthSchemes = strings.TrimSpace(m[1])
	}
	if m := bitsProxyRE.FindStringSubmatch(t); m != nil && e.ProxyList == "" {
		e.ProxyList = m[1]
	}
	if m := wsProxyRE.FindStringSubmatch(t); m != nil {
		e.ProxyList, e.BypassList = m[1], m[2]
	}
	if m := urlRE.FindString(t); m != "" {
		e.URL = strings.TrimRight(m, ".,;)>")
	}
	if finalRE.MatchString(t) && len(e.Codes) > 0 {
		e.Final = true
	}
}

// peeker lets ParseLog look at the start of the decoded text and then
// read all of it.
type peeker struct {
	r    io.Reader
	head []byte
}

func newPeeker(r io.Reader) *peeker { return &peeker{r: r} }

func (p *peeker) peekText(n int) []byte {
	buf := make([]byte, n)
	k, _ := io.ReadFull(p.r, buf)
	p.head = buf[:k]
	return p.head
}

func (p *peeker) Read(b []byte) (int, error) {
	if len(p.head) > 0 {
		n := copy(b, p.head)
		p.head = p.head[n:]
		return n, nil
	}
	return p.r.Read(b)
}
