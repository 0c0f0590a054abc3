package winagent

import (
	"bytes"
	"context"
	"crypto/sha1" // Windows names certificates by their SHA-1 thumbprint
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// ErrUnsupported is returned by Probe and Scan off Windows.
var ErrUnsupported = errors.New("needs Windows (winhttp.dll, the WUA COM API)")

// Version labels the agent in its reports.
const Version = "wufault-agent/1"

// ProbeOptions configure Probe.
type ProbeOptions struct {
	// Proxy is a named proxy "host:port"; empty uses the system (WinHTTP)
	// proxy exactly as Windows Update does (WINHTTP_ACCESS_TYPE_DEFAULT_PROXY).
	Proxy string
	// Direct ignores every proxy (WINHTTP_ACCESS_TYPE_NO_PROXY).
	Direct bool
	// Timeout bounds each phase (WinHttpSetTimeouts: resolve, connect,
	// send, receive). Zero keeps WinHTTP's defaults: resolve infinite,
	// connect 60 s, send and receive 30 s [L-TIMEOUTS].
	Timeout time.Duration
	// MaxBody bounds what is read of a body (default 64 KiB).
	MaxBody int64
	// UserAgent is sent in requests (default Version).
	UserAgent string
}

// ProbeResult is what the real WinHTTP reported for one endpoint.
type ProbeResult struct {
	URL   string        `json:"url"`
	Class profile.Class `json:"class,omitempty"`
	Role  client.Role   `json:"role,omitempty"`
	// Proxy is how the request went: "system: <WinHTTP proxy>" or
	// "system: direct", "named: host:port", "direct".
	Proxy string `json:"proxy"`
	// Stage is the WinHTTP call that failed (open, connect, request,
	// send, receive, status, read) or "done".
	Stage string `json:"stage"`
	// Win32 is GetLastError after the failing call (0: none).
	Win32 uint32 `json:"win32,omitempty"`
	// Code is the raw error, HRESULT_FROM_WIN32(Win32), or OK.
	Code   codes.Code `json:"code"`
	Status int        `json:"status,omitempty"`
	Bytes  int64      `json:"bytes"`
	// ContentLength is the advertised length (-1: none).
	ContentLength int64         `json:"content_length"`
	Duration      time.Duration `json:"duration_ns"`
	// WUA is the code Windows Update would report for this outcome on the
	// scan path (reference 3.3: 12007 becomes 0x8024402C, statuses map per
	// 3.2, other WinHTTP errors pass through raw), with its source.
	WUA       codes.Code `json:"wua"`
	WUASource string     `json:"wua_source,omitempty"`
	// Note explains a deviation: a Winsock code where Windows' WinHTTP
	// gives a WinHTTP one (Wine does), a body shorter than its length.
	Note string `json:"note,omitempty"`
}

// Winsock errors that a faithful WinHTTP never returns but Wine's does.
var winsockToWinHTTP = map[uint32]struct {
	winhttp uint32
	name    string
}{
	10054: {12030, "WSAECONNRESET"},
	10053: {12030, "WSAECONNABORTED"},
	10061: {12029, "WSAECONNREFUSED"},
	10060: {12002, "WSAETIMEDOUT"},
	10065: {12029, "WSAEHOSTUNREACH"},
	10051: {12029, "WSAENETUNREACH"},
}

// Interpret fills Code, WUA, WUASource and Note from Stage, Win32, Status
// and the byte counts. It is what the agent reports, and is tested
// everywhere.
func Interpret(r *ProbeResult) {
	r.Code = codes.FromWin32(r.Win32)
	r.WUA, r.WUASource, r.Note = codes.OK, "", ""
	switch {
	case r.Win32 != 0:
		n := r.Win32
		if ws, ok := winsockToWinHTTP[n]; ok {
			r.Note = fmt.Sprintf("%s (%d) is a Winsock error: Windows' WinHTTP reports %d here (Wine passes the socket error through)", ws.name, n, ws.winhttp)
			n = ws.winhttp
		}
		r.WUA, r.WUASource = client.WinHTTPError(n).WUACode(), "section 3.3 (raw WinHTTP error)"
		if n == 12007 {
			r.WUASource = "section 3.3 [H] [L-402C]" // the one WinHTTP error WUA translates
		}
	case r.Status != 0:
		if c, ok := client.StatusCode(r.Status); ok {
			r.WUA, r.WUASource = c, "section 3.2 (HTTP status)"
		}
		if r.Stage == "done" && r.ContentLength >= 0 && r.Bytes < r.ContentLength {
			r.Note = fmt.Sprintf("body ended after %d of %d bytes without an error from WinHTTP", r.Bytes, r.ContentLength)
		}
	}
}

// ScanOptions configure Scan.
type ScanOptions struct {
	// Criteria is the search ("IsInstalled=0 and Type='Software'" when
	// empty), as IUpdateSearcher::Search takes it.
	Criteria string
	// ServerSelection: 0 default (WSUS when configured by policy),
	// 1 managed server (WSUS), 2 Windows Update, 3 others.
	ServerSelection int
	// Offline searches only the local cache (put_Online(FALSE)).
	Offline bool
}

// ScanWarning is one IUpdateException of ISearchResult.Warnings.
type ScanWarning struct {
	HResult codes.Code `json:"hresult"`
	Message string     `json:"message,omitempty"`
	Context int        `json:"context,omitempty"`
}

// ScanResult is the outcome of a real WUA search.
type ScanResult struct {
	// Stage is where it ended: com (CoInitializeEx, CoCreateInstance),
	// searcher (CreateUpdateSearcher), search (IUpdateSearcher::Search),
	// result (reading ISearchResult), or done.
	Stage string `json:"stage"`
	// HResult is what the failing call returned (OK when none failed).
	HResult codes.Code `json:"hresult"`
	// ResultCode is ISearchResult.ResultCode (OperationResultCode).
	ResultCode int           `json:"result_code"`
	ResultName string        `json:"result_name"`
	Updates    int           `json:"updates"`
	Warnings   []ScanWarning `json:"warnings,omitempty"`
	Duration   time.Duration `json:"duration_ns"`
	// Code is the scan's outcome as WUA would log it ("Exit code"): the
	// failing HRESULT, else the first warning of a failed search, else OK.
	Code codes.Code `json:"code"`
	Note string     `json:"note,omitempty"`
}

var resultNames = map[int]string{0: "NotStarted", 1: "InProgress", 2: "Succeeded", 3: "SucceededWithErrors", 4: "Failed", 5: "Aborted"}

// InterpretScan builds a ScanResult from the raw values the COM calls
// gave: the stage reached, the HRESULT of the failing call (0 if none),
// ResultCode, the number of updates and the warnings.
func InterpretScan(stage string, hr uint32, resultCode, updates int, warnings []ScanWarning) ScanResult {
	r := ScanResult{Stage: stage, HResult: codes.Code(hr), ResultCode: resultCode, Updates: updates, Warnings: warnings}
	r.ResultName = resultNames[resultCode]
	if r.ResultName == "" {
		r.ResultName = fmt.Sprintf("unknown (%d)", resultCode)
	}
	switch {
	case hr&0x80000000 != 0:
		r.Code = codes.Code(hr)
		r.ResultName = "Failed"
		switch codes.Code(hr) {
		case 0x80004001:
			r.Note = "E_NOTIMPL: this WUA does not implement the call (Wine's wuapi.dll does not search)"
		case 0x80070422:
			r.Note = "the Windows Update service is disabled"
		case 0x80040154:
			r.Note = "the WUA COM class is not registered"
		case 0x80070005:
			r.Note = "access denied: run the agent as an administrator"
		}
	case resultCode == 4 || resultCode == 5 || resultCode == 3:
		for _, w := range warnings {
			if w.HResult&0x80000000 != 0 {
				r.Code = w.HResult
				break
			}
		}
		if r.Code == codes.OK && resultCode != 3 {
			r.Code = 0x80240FFF // WU_E_UNEXPECTED: failed without saying why
			r.Note = "the search failed without a warning; reported as WU_E_UNEXPECTED"
		}
	}
	return r
}

// Report is one observation the agent posts to the control API
// (POST /reports). The world journals it as a "report" event with Code
// for the active scenario.
type Report struct {
	Agent string    `json:"agent"`
	Host  string    `json:"host,omitempty"`
	Kind  string    `json:"kind"` // probe or scan
	Time  time.Time `json:"time"`
	URL   string    `json:"url,omitempty"`
	Class string    `json:"class,omitempty"`
	Stage string    `json:"stage,omitempty"`
	// Code is what the real client reported: the WinHTTP error (probe) or
	// the search's HRESULT (scan).
	Code codes.Code `json:"code"`
	// WUA is the code WUA would report for a probe's outcome.
	WUA        codes.Code `json:"wua,omitempty"`
	Win32      uint32     `json:"win32,omitempty"`
	Status     int        `json:"status,omitempty"`
	DurationMS int64      `json:"duration_ms"`
	Detail     string     `json:"detail,omitempty"`
}

// ProbeReport turns a probe result into a report.
func ProbeReport(host string, r ProbeResult, at time.Time) Report {
	return Report{Agent: Version, Host: host, Kind: "probe", Time: at.UTC(), URL: r.URL, Class: string(r.Class), Stage: r.Stage,
		Code: r.Code, WUA: r.WUA, Win32: r.Win32, Status: r.Status, DurationMS: r.Duration.Milliseconds(), Detail: r.Note}
}

// ScanReport turns a scan result into a report.
func ScanReport(host string, r ScanResult, at time.Time) Report {
	d := fmt.Sprintf("%s, %d updates", r.ResultName, r.Updates)
	if r.Note != "" {
		d += "; " + r.Note
	}
	return Report{Agent: Version, Host: host, Kind: "scan", Time: at.UTC(), Stage: r.Stage, Code: r.Code, DurationMS: r.Duration.Milliseconds(), Detail: d}
}

// maxReportAnswer bounds what is read of the control API's answer.
const maxReportAnswer = 64 << 10

// PostReports sends reports to the control API's /reports endpoint (url
// is the control API's base, "http://lab:8081", or the full endpoint).
// token, if set, is sent as a bearer token. hc nil uses a client with a
// 30 s timeout and no proxy (the lab is reached directly).
func PostReports(ctx context.Context, hc *http.Client, url, token string, reports []Report) error {
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 10 * time.Second}).DialContext}}
	}
	if !strings.HasSuffix(strings.TrimRight(url, "/"), "/reports") {
		url = strings.TrimRight(url, "/") + "/reports"
	}
	b, err := json.Marshal(reports)
	if err != nil {
		return fmt.Errorf("winagent: encode reports: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("winagent: report to %s: %w", url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("winagent: report to %s: %w", url, err)
	}
	defer resp.Body.Close()
	ans, _ := io.ReadAll(io.LimitReader(resp.Body, maxReportAnswer))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("winagent: report to %s: %s: %s", url, resp.Status, strings.TrimSpace(string(ans)))
	}
	return nil
}

// SetupCommands returns the Windows commands (cmd.exe, as administrator)
// that point a VM at the lab: the WinHTTP system proxy WUA uses, the lab
// CA in the machine's Root store, and the service restart that makes WUA
// read the proxy again (it reads it when it starts, seed 002). proxy is
// "host:port"; caFile is the exported CA certificate (wufault ca export).
func SetupCommands(proxy, caFile string) []string {
	if caFile == "" {
		caFile = "lab-ca.cer"
	}
	var out []string
	if proxy != "" {
		out = append(out, fmt.Sprintf(`netsh winhttp set proxy proxy-server="%s" bypass-list="<local>"`, proxy))
	}
	out = append(out,
		fmt.Sprintf("certutil -addstore Root %s", quoteArg(caFile)),
		"net stop wuauserv",
		"net start wuauserv",
	)
	return out
}

// UndoCommands reverse SetupCommands. The CA is removed by its SHA-1
// thumbprint (Thumbprint): its subject carries a per-CA suffix ("wufault
// lab CA 7061217e"), so a name does not find it. Without a thumbprint the
// line says where to read it.
func UndoCommands(thumbprint string) []string {
	del := "certutil -delstore Root " + thumbprint
	if thumbprint == "" {
		del = `certutil -delstore Root THUMBPRINT   (the "Cert Hash(sha1)" that certutil -dump lab-ca.cer shows)`
	}
	return []string{
		"netsh winhttp reset proxy",
		del,
		"net stop wuauserv",
		"net start wuauserv",
	}
}

// Thumbprint is the SHA-1 thumbprint (upper-case hex, as certutil shows
// it) of the certificate in a .cer file, PEM or DER.
func Thumbprint(cer []byte) (string, error) {
	if b, _ := pem.Decode(cer); b != nil {
		cer = b.Bytes
	}
	c, err := x509.ParseCertificate(cer)
	if err != nil {
		return "", fmt.Errorf("winagent: not a certificate: %w", err)
	}
	return fmt.Sprintf("%X", sha1.Sum(c.Raw)), nil
}

func quoteArg(s string) string {
	if strings.ContainsAny(s, " \t&()^|<>") {
		return `"` + s + `"`
	}
	return s
}

// Targets returns the endpoints to probe: urls when given (each as a
// plain GET), else the WSUS server's endpoints when wsus is set, else the
// Microsoft Update endpoints; the same lists as `wufault probe`.
func Targets(urls []string, wsus string) ([]client.Endpoint, error) {
	if len(urls) > 0 {
		var eps []client.Endpoint
		for _, u := range urls {
			eps = append(eps, client.Endpoint{URL: u, Class: profile.ClassOf("", pathOf(u)), Role: client.RoleHost})
		}
		return eps, nil
	}
	if wsus != "" {
		return client.WSUSEndpoints(wsus)
	}
	return client.MicrosoftUpdateEndpoints(), nil
}

func pathOf(u string) string {
	if i := strings.Index(u, "://"); i >= 0 {
		u = u[i+3:]
	}
	if i := strings.IndexByte(u, '/'); i >= 0 {
		return u[i:]
	}
	return "/"
}

// requestShape is how an endpoint is requested: the emulated probe's
// request (client.ProbeRequest) with its headers as WinHttpSendRequest
// takes them, CRLF-separated.
func requestShape(role client.Role) (method, headers string, body []byte) {
	method, h, body := client.ProbeRequest(role)
	var lines []string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		lines = append(lines, k+": "+strings.Join(h[k], ", "))
	}
	return method, strings.Join(lines, "\r\n"), body
}
