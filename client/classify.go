package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// Classification turns the evidence of a failed request into the codes
// Windows would report, in two steps that mirror Windows' layers:
//
//  1. transportRules: what WinHTTP raises for what the socket, the TLS
//     stack or the HTTP parser saw (a Go error) → a WinHTTP error.
//  2. For the WinHTTP path (scan, self-update, redirector): wuaRules read
//     what WUA itself decides (proxy list, HTTP status, SOAP fault, SOAP
//     parse error, content type, cabinets, round trips), and
//     translationRules turn a WinHTTP error into the HRESULT WUA reports
//     (raw 0x80070000|n except 12007 → 0x8024402C, and the WWSAPI
//     timeout). For downloads, jobRules give BITS/DO's job code and the
//     update-level code.
//
// Every table is ordered, the first matching rule wins, and every match
// uses errors.Is or errors.As only. Each rule carries the confidence and
// source tags of reference/wu-codes.md (section 4 rows, sections 3.2-3.4).
// A verdict's confidence is the weaker of the rules that made it.

// Rule is one row of a classification table, as documented.
type Rule struct {
	Name  string `json:"name"`
	Table string `json:"table"` // transport, translation, wua, ecp, job
	// Classes the rule applies to; empty: all.
	Classes []profile.Class `json:"classes,omitempty"`
	// Phases the evidence comes from; empty: any.
	Phases []profile.Phase `json:"phases,omitempty"`
	// Generation, or empty for both.
	Generation Generation `json:"generation,omitempty"`
	// Stack for job rules, or empty for both.
	Stack Stack `json:"stack,omitempty"`
	// WinHTTP is the WinHTTP error a transport rule raises, or the one a
	// translation rule reads (0: any).
	WinHTTP WinHTTPError `json:"winhttp,omitempty"`
	// Code is the HRESULT; zero where it derives from the evidence (the
	// raw WinHTTP error, the HTTP status).
	Code       codes.Code         `json:"code,omitempty"`
	Confidence profile.Confidence `json:"confidence"`
	Source     string             `json:"source"`

	match func(err error) bool
	// code derives the HRESULT when Code is zero.
	code func(err error, w WinHTTPError) codes.Code
	// jobLevel marks a job rule whose code is the job's own error
	// (DO/BITS), not only the update-level code.
	jobLevel bool
	// passThrough marks the rule that reports the WinHTTP error as it is:
	// the verdict then keeps the transport rule's confidence and source.
	passThrough bool
}

// Verdict is the classification of one failure.
type Verdict struct {
	WinHTTP    WinHTTPError
	Code       codes.Code
	JobCode    codes.Code // the BITS/DO job's own error, for downloads
	Rule       string     // the rules that decided, "connect-refused > winhttp-raw"
	Confidence profile.Confidence
	Source     string
}

func is(target error) func(error) bool { return func(err error) bool { return errors.Is(err, target) } }

func isAny(targets ...error) func(error) bool {
	return func(err error) bool {
		for _, t := range targets {
			if errors.Is(err, t) {
				return true
			}
		}
		return false
	}
}

func as[T error](pred func(T) bool) func(error) bool {
	return func(err error) bool {
		t, ok := errors.AsType[T](err)
		return ok && (pred == nil || pred(t))
	}
}

func isTimeout(err error) bool {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	ne, ok := errors.AsType[net.Error](err)
	return ok && ne.Timeout()
}

// isRemoteAlert reports whether the peer sent a fatal TLS alert. On a TCP
// connection crypto/tls returns it as a *net.OpError with Op "remote
// error" around an unexported alert type (tls.AlertError is only used
// with QUIC), so the rule looks for both, and for the text as a last
// resort when a layer flattened the error to a string.
func isRemoteAlert(err error) bool {
	if _, ok := errors.AsType[tls.AlertError](err); ok {
		return true
	}
	if oe, ok := errors.AsType[*net.OpError](err); ok && oe.Op == "remote error" {
		return true
	}
	return strings.Contains(err.Error(), "remote error: tls:")
}

var refused = isAny(syscall.ECONNREFUSED, syscall.EHOSTUNREACH, syscall.ENETUNREACH, syscall.EADDRNOTAVAIL)

// viaProxy reports whether the failed exchange went through a proxy.
func viaProxy(err error) bool {
	te, ok := errors.AsType[*TransportError](err)
	return ok && te.Proxy != ""
}

var phasesAfterConnect = []profile.Phase{profile.PhaseProxy, profile.PhaseHandshake, profile.PhaseRequest, profile.PhaseHeaders, profile.PhaseBody}

// transportRules map what the socket, TLS stack and parser saw to the
// WinHTTP error Windows raises ([L-WINHTTPERR]; reference section 1 and
// section 4).
var transportRules = []Rule{
	{Name: "invalid-url-scheme", WinHTTP: WinHTTPUnrecognizedScheme, Confidence: "high", Source: "[L-2EE6]; [L-WINHTTPERR] 12006",
		match: as(func(e *URLError) bool { return e.Scheme })},
	{Name: "invalid-url", WinHTTP: WinHTTPInvalidURL, Confidence: "medium", Source: "[L-WINHTTPERR] 12005",
		match: as[*URLError](nil)},
	{Name: "resolve-timeout", Phases: []profile.Phase{profile.PhaseResolve}, WinHTTP: WinHTTPTimeout, Confidence: "low", Source: "[L-TIMEOUTS]; [L-WINHTTPERR] 12002 (row 3, inferred)",
		match: as(func(e *NameError) bool { return e.Reason == ReasonResolveTimeout })},
	{Name: "name-servfail", Phases: []profile.Phase{profile.PhaseResolve}, WinHTTP: WinHTTPNameNotResolved, Confidence: "medium", Source: "[L-WINHTTPERR] 12007 (row 2: the OS resolver fails, inferred)",
		match: as(func(e *NameError) bool { return e.Reason == ReasonServFail || e.Reason == ReasonRefused })},
	{Name: "name-no-answer", Phases: []profile.Phase{profile.PhaseResolve}, WinHTTP: WinHTTPNameNotResolved, Confidence: "medium-low", Source: "[L-TIMEOUTS]; [L-WINHTTPERR] 12007 (row 3, inferred)",
		match: as(func(e *NameError) bool { return e.Reason == ReasonNoData || e.Reason == ReasonTimeout })},
	{Name: "name-not-resolved", Phases: []profile.Phase{profile.PhaseResolve}, WinHTTP: WinHTTPNameNotResolved, Confidence: "high", Source: "[L-WINHTTPERR] 12007",
		match: as[*NameError](nil)},
	{Name: "client-cert-needed", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPClientAuthCertNeeded, Confidence: "high", Source: "[L-SCAN]; [L-WINHTTPERR] 12044",
		match: is(ErrClientCertNeeded)},
	{Name: "login-failure", Phases: []profile.Phase{profile.PhaseProxy}, WinHTTP: WinHTTPLoginFailure, Confidence: "medium", Source: "[KB902093]; [L-WINHTTPERR] 12015",
		match: is(ErrLoginFailure)},
	{Name: "redirect-failed", Phases: []profile.Phase{profile.PhaseHeaders}, WinHTTP: WinHTTPRedirectFailed, Confidence: "low", Source: "[L-WINHTTPERR] 12156 (no WU log seen)",
		match: as[*RedirectError](nil)},
	{Name: "header-count", Phases: []profile.Phase{profile.PhaseProxy, profile.PhaseHeaders}, WinHTTP: WinHTTPHeaderCountExceeded, Confidence: "low", Source: "[L-WINHTTPERR] 12181 (row 22b, inferred)",
		match: is(ErrHeaderCount)},
	{Name: "header-size", Phases: []profile.Phase{profile.PhaseProxy, profile.PhaseHeaders}, WinHTTP: WinHTTPHeaderSizeOverflow, Confidence: "low", Source: "[L-WINHTTPERR] 12182 (row 22b, inferred)",
		match: is(ErrHeaderSize)},
	{Name: "proxy-connect-refused", Phases: []profile.Phase{profile.PhaseConnect}, WinHTTP: WinHTTPCannotConnect, Confidence: "medium", Source: "[L-WINHTTPERR] 12029 (row 19a: the proxy refuses, inferred)",
		match: func(err error) bool { return viaProxy(err) && refused(err) }},
	{Name: "connect-refused", Phases: []profile.Phase{profile.PhaseConnect}, WinHTTP: WinHTTPCannotConnect, Confidence: "high", Source: "[L-WINHTTPERR] 12029; [L-DLERR]",
		match: refused},
	{Name: "connect-timeout", Phases: []profile.Phase{profile.PhaseConnect}, WinHTTP: WinHTTPTimeout, Confidence: "medium", Source: "[L-WINHTTPERR] 12002; [AK]",
		match: isTimeout},
	{Name: "connect-reset", Phases: []profile.Phase{profile.PhaseConnect}, WinHTTP: WinHTTPConnectionError, Confidence: "medium", Source: "[L-WINHTTPERR] 12030 (accepted, then reset)",
		match: isAny(syscall.ECONNRESET, syscall.ECONNABORTED)},
	{Name: "connect-failed", Phases: []profile.Phase{profile.PhaseConnect}, WinHTTP: WinHTTPCannotConnect, Confidence: "medium", Source: "[L-WINHTTPERR] 12029",
		match: func(error) bool { return true }},
	{Name: "receive-timeout", Phases: phasesAfterConnect, WinHTTP: WinHTTPTimeout, Confidence: "medium", Source: "[L-WINHTTPERR] 12002; [L-TIMEOUTS]; [AK]",
		match: isTimeout},
	{Name: "tls-reset", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPConnectionError, Confidence: "high", Source: "[L-2EFE]; [L-DLERR]; [LU8]; [L-WINHTTPERR] 12030",
		match: isAny(syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, io.EOF, io.ErrUnexpectedEOF)},
	{Name: "reset", Phases: phasesAfterConnect, WinHTTP: WinHTTPConnectionError, Confidence: "medium-high", Source: "[L-WINHTTPERR] 12030",
		match: isAny(syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE)},
	{Name: "closed-early", Phases: phasesAfterConnect, WinHTTP: WinHTTPConnectionError, Confidence: "medium", Source: "[L-WINHTTPERR] 12030 (row 7, inferred)",
		match: isAny(io.EOF, io.ErrUnexpectedEOF)},
	{Name: "cert-revoked", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "medium", Source: "[H] 12175",
		match: as(func(e *RevocationError) bool { return !e.Offline })},
	{Name: "revocation-offline", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "medium", Source: "[GYO]; [H] 12175",
		match: as[*RevocationError](nil)},
	{Name: "cert-expired", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "high", Source: "[H] 12175; [L-2F8F]",
		match: as(func(e x509.CertificateInvalidError) bool { return e.Reason == x509.Expired })},
	{Name: "cert-hostname", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "medium", Source: "[H] 12175",
		match: as[x509.HostnameError](nil)},
	{Name: "cert-untrusted", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "high", Source: "[L-2F8F]; [H] 12175",
		match: as[x509.UnknownAuthorityError](nil)},
	{Name: "cert-invalid", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "medium", Source: "[H] 12175",
		match: func(err error) bool {
			return as[x509.CertificateInvalidError](nil)(err) || as[x509.ConstraintViolationError](nil)(err) ||
				as[x509.InsecureAlgorithmError](nil)(err) || as[*tls.CertificateVerificationError](nil)(err)
		}},
	{Name: "tls-alert", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "medium", Source: "[L-WUCOMMON] (0x80072F8F: TLS 1.2 not configured); row 11: a fatal alert → 12175 (inferred)",
		match: isRemoteAlert},
	{Name: "tls-failure", Phases: []profile.Phase{profile.PhaseHandshake}, WinHTTP: WinHTTPSecureFailure, Confidence: "low", Source: "[H] 12175 (row 11, inferred)",
		match: func(error) bool { return true }},
	{Name: "malformed-response", Phases: []profile.Phase{profile.PhaseProxy, profile.PhaseHeaders}, WinHTTP: WinHTTPInvalidServerResponse, Confidence: "high", Source: "[LU76]; [ES1]; [L-WINHTTPERR] 12152",
		match: as[*ProtocolError](nil)},
	{Name: "chunk-line-too-long", Phases: []profile.Phase{profile.PhaseBody}, WinHTTP: WinHTTPChunkedHeaderOverflow, Confidence: "low", Source: "[L-WINHTTPERR] 12183 (row 22b, inferred)",
		match: func(err error) bool { return as[*ProtocolError](nil)(err) && errors.Is(err, httputil.ErrLineTooLong) }},
	{Name: "bad-chunk", Phases: []profile.Phase{profile.PhaseBody}, WinHTTP: WinHTTPInvalidServerResponse, Confidence: "low", Source: "[L-WINHTTPERR] 12152 (row 22b, inferred)",
		match: as[*ProtocolError](nil)},
	{Name: "transport-other", WinHTTP: WinHTTPConnectionError, Confidence: "low", Source: "inferred: an unclassified socket failure",
		match: func(error) bool { return true }},
}

// translationRules turn a WinHTTP error on WUA's WinHTTP path into the
// HRESULT WUA reports (reference 3.3, 3.4).
var translationRules = []Rule{
	{Name: "name-not-resolved-translated", Classes: []profile.Class{profile.ClassScan, profile.ClassSelfUpdate, profile.ClassRedirector}, WinHTTP: WinHTTPNameNotResolved,
		Code: 0x8024402C, Confidence: "high", Source: "[H] 0x8024402C; [L-402C]; [TW-402C]"},
	{Name: "scan-timeout-wwsapi", Classes: []profile.Class{profile.ClassScan}, Generation: Modern, WinHTTP: WinHTTPTimeout,
		Code: 0x8024401C, Confidence: "medium-low", Source: "[CM-401C] (WS_E_OPERATION_TIMED_OUT → 0x8024401C inferred)"},
	{Name: "scan-timeout-legacy", Classes: []profile.Class{profile.ClassScan}, Generation: Legacy, WinHTTP: WinHTTPTimeout,
		Confidence: "medium", Source: "[AK]"},
	{Name: "winhttp-raw", Confidence: "high", Source: "[L-WINHTTPERR]; 3.3 (pass-through rule inferred, each code observed)", passThrough: true},
}

// statusCodes is reference 3.2: HTTP status → WU_E_PT_HTTP_STATUS_*.
var statusCodes = []struct {
	status int
	code   codes.Code
	conf   profile.Confidence
	source string
}{
	{400, 0x80244016, "high", "[ISA-4016]; [H]"},
	{401, 0x80244017, "medium", "[L-SCAN]; [H]"},
	{403, 0x80244018, "high", "[LU11]; [L-SCAN]; [H]"},
	{404, 0x80244019, "high", "[LU12]; [GG]; [H]"},
	{405, 0x8024401A, "medium", "[H]"},
	{407, 0x8024401B, "high", "[KTC]; [L-WUCOMMON]; [L-SCAN]"},
	{408, 0x8024401C, "medium", "[H]"},
	{409, 0x8024401D, "medium", "[H]"},
	{410, 0x8024401E, "medium", "[H]"},
	{500, 0x8024401F, "medium", "[H]; [L-WUANET]"},
	{501, 0x80244020, "medium", "[H]; [L-WUANET] (errata 2)"},
	{502, 0x80244021, "high", "[HJ]; [L-SCAN]; [H]"},
	{503, 0x80244022, "high", "[L-WUCOMMON]; [H]"},
	{504, 0x80244023, "medium", "[L-SCAN]; [L-WUANET] (errata 2)"},
	{505, 0x80244024, "medium", "[H]"},
}

// statusCode maps a status by the 3.2 table; any other failure status is
// 0x8024402B WU_E_PT_HTTP_STATUS_NOT_MAPPED (inferred from the header).
func statusCode(status int) codes.Code {
	for _, s := range statusCodes {
		if s.status == status {
			return s.code
		}
	}
	return 0x8024402B
}

// StatusCode returns the code WUA reports on its WinHTTP path for a
// failing HTTP status (4xx and 5xx; reference 3.2, the table of wuaRules):
// 0x8024401B for 407, 0x80244019 for 404, 0x8024402B
// WU_E_PT_HTTP_STATUS_NOT_MAPPED for a status the table does not name.
// Success, informational and redirect statuses (WinHTTP follows
// redirects) give 0, false.
func StatusCode(status int) (codes.Code, bool) {
	if status < 400 || status > 599 {
		return 0, false
	}
	return statusCode(status), true
}

// StatusConfidence is the confidence of StatusCode's mapping, from the
// same table: High where a log shows the status and code together, Medium
// for the header text alone, Low for 0x8024402B (inferred).
func StatusConfidence(status int) profile.Confidence {
	for _, s := range statusCodes {
		if s.status == status {
			return s.conf
		}
	}
	return "low"
}

// BITSStatusCode is the error of a BITS job that got an HTTP status:
// BG_E_HTTP_ERROR_<status> = 0x80190000 + status [L-BITS].
func BITSStatusCode(status int) codes.Code { return codes.Code(0x80190000 | uint32(status)) }

func statusIs(status int) func(error) bool {
	return as(func(e *StatusError) bool { return e.Status == status })
}

func soapFaultCode(code string) func(error) bool {
	return as(func(e *SOAPFault) bool { return strings.EqualFold(e.Code, code) })
}

var winHTTPClasses = []profile.Class{profile.ClassScan, profile.ClassSelfUpdate, profile.ClassRedirector}

// wuaRules read what WUA decides on the WinHTTP path (reference 3.2, 5.2,
// section 4 rows 20-27).
var wuaRules = func() []Rule {
	rules := []Rule{
		{Name: "invalid-proxy-list", Code: 0x80240030, Confidence: "high", Source: "[WUERR]; [L-SCAN]",
			match: as[*ProxyListError](nil)},
		{Name: "proxy-refused-connect", Classes: winHTTPClasses, Phases: []profile.Phase{profile.PhaseProxy}, Confidence: "low", Source: "inferred (row 20); [L-SCAN]",
			match: as(func(e *StatusError) bool { return e.Proxy && e.Status != 407 }),
			code: func(err error, _ WinHTTPError) codes.Code {
				e, _ := errors.AsType[*StatusError](err)
				return statusCode(e.Status)
			}},
	}
	for _, s := range statusCodes {
		rules = append(rules, Rule{Name: "http-" + strconv.Itoa(s.status), Classes: winHTTPClasses, Code: s.code,
			Confidence: s.conf, Source: s.source, match: statusIs(s.status)})
	}
	rules = append(rules,
		Rule{Name: "http-status-other", Classes: winHTTPClasses, Code: 0x8024402B, Confidence: "low", Source: "[H] WU_E_PT_HTTP_STATUS_NOT_MAPPED (inferred)",
			match: as[*StatusError](nil)},
		Rule{Name: "soap-fault-wwsapi", Classes: []profile.Class{profile.ClassScan}, Generation: Modern, Code: 0x80244007, Confidence: "high", Source: "[L-4007]",
			match: as[*SOAPFault](nil)},
		Rule{Name: "soap-fault-server", Classes: []profile.Class{profile.ClassScan}, Generation: Legacy, Code: 0x8024400E, Confidence: "medium", Source: "[EXPTA]; [ATLSOAP]",
			match: soapFaultCode("Server")},
		Rule{Name: "soap-fault-client", Classes: []profile.Class{profile.ClassScan}, Generation: Legacy, Code: 0x8024400D, Confidence: "low", Source: "[ATLSOAP]; [WUERR] (inferred)",
			match: soapFaultCode("Client")},
		Rule{Name: "soap-fault-version", Classes: []profile.Class{profile.ClassScan}, Generation: Legacy, Code: 0x8024400B, Confidence: "low", Source: "[ATLSOAP]; [WUERR] (inferred)",
			match: soapFaultCode("VersionMismatch")},
		Rule{Name: "soap-fault-must-understand", Classes: []profile.Class{profile.ClassScan}, Generation: Legacy, Code: 0x8024400C, Confidence: "low", Source: "[ATLSOAP]; [WUERR] (inferred)",
			match: soapFaultCode("MustUnderstand")},
		Rule{Name: "soap-fault-unknown", Classes: []profile.Class{profile.ClassScan}, Generation: Legacy, Code: 0x80244007, Confidence: "low", Source: "[ATLSOAP] SOAP_E_UNK; [WUERR] (inferred)",
			match: as[*SOAPFault](nil)},
		Rule{Name: "soap-parse-atl", Classes: []profile.Class{profile.ClassScan}, Generation: Legacy, Code: 0x8024400A, Confidence: "low", Source: "[WUERR] SOAPCLIENT_PARSE_ERROR (row 22c, inferred)",
			match: as[*SOAPParseError](nil)},
		Rule{Name: "soap-parse-wwsapi", Classes: []profile.Class{profile.ClassScan}, Generation: Modern, Code: 0x80240439, Confidence: "low", Source: "[WUERR] WU_E_PT_INVALID_FORMAT (row 22c, inferred)",
			match: as[*SOAPParseError](nil)},
		Rule{Name: "max-round-trips", Classes: []profile.Class{profile.ClassScan}, Code: 0x80244010, Confidence: "high", Source: "[SUS-4010]",
			match: is(ErrMaxRoundTrips)},
		Rule{Name: "redirector-content-type", Classes: []profile.Class{profile.ClassRedirector}, Code: 0x80245005, Confidence: "low", Source: "[WUERR] (row 23)",
			match: as[*ContentTypeError](nil)},
		Rule{Name: "wrong-content-type", Classes: []profile.Class{profile.ClassSelfUpdate, profile.ClassScan}, Code: 0x80240038, Confidence: "medium", Source: "[H]; [L-WUANET] (row 23)",
			match: as[*ContentTypeError](nil)},
		Rule{Name: "invalid-ident-cab", Classes: []profile.Class{profile.ClassSelfUpdate}, Code: 0x8024D002, Confidence: "low", Source: "[WUERR] (row 24, inferred)",
			match: as[*CabError](nil)},
		Rule{Name: "invalid-redirector-cab", Classes: []profile.Class{profile.ClassRedirector}, Code: 0x80245001, Confidence: "low", Source: "[WUERR] (row 24, inferred)",
			match: as[*CabError](nil)},
		Rule{Name: "sls-invalid", Classes: []profile.Class{profile.ClassRedirector}, Code: 0x8024500B, Confidence: "low", Source: "[WUERR] WU_E_REDIRECTOR_SLS_GENERIC_ERROR (inferred)",
			match: as[*SLSError](nil)},
		Rule{Name: "same-redirector-id", Classes: []profile.Class{profile.ClassRedirector}, Code: 0x8024502D, Confidence: "low", Source: "[WUERR] WU_E_PT_SAME_REDIR_ID; seed 002 (recovery after a failed scan, inferred)",
			match: is(ErrSameRedirectorID)},
	)
	return rules
}()

// jobRules classify a failed BITS/DO download (reference 3.3, section 4
// download column, rows 21, 23-25).
var jobRules = []Rule{
	{Name: "range-ignored-do", Stack: StackDO, Code: 0x80D05001, Confidence: "high", Source: "[KB3175743]; [L-DO] (row 25)",
		jobLevel: true,
		match:    as(func(e *RangeError) bool { return e.Status == http.StatusOK })},
	{Name: "range-mismatch-do", Stack: StackDO, Code: 0x80D05001, Confidence: "low", Source: "[L-DO] (a 206 of another size than asked; rows 24, 25 inferred)",
		jobLevel: true,
		match:    as[*RangeError](nil)},
	{Name: "range-mismatch-bits", Stack: StackBITS, Code: 0x80200013, Confidence: "low", Source: "[L-BITS] (row 25)",
		jobLevel: true,
		match:    as[*RangeError](nil)},
	{Name: "no-file-url", Code: 0x80246001, Confidence: "medium", Source: "[WUERR] WU_E_DM_URLNOTAVAILABLE",
		match: is(ErrNoFileURL)},
	{Name: "digest-mismatch", Code: 0x80246002, Confidence: "medium", Source: "[PMP]; [WUERR] (rows 7c, 23, 24)",
		match: as[*DigestError](nil)},
	{Name: "job-http-404-bits", Stack: StackBITS, Code: 0x80244019, Confidence: "medium", Source: "[GG]; [L-BITS]",
		match: statusIs(404)},
	{Name: "job-http-status", Confidence: "low", Source: "[L-BITS]; 3.3 (update level inferred for every status but 404 through BITS)",
		match: as[*StatusError](nil),
		code: func(err error, _ WinHTTPError) codes.Code {
			e, _ := errors.AsType[*StatusError](err)
			return statusCode(e.Status)
		}},
	{Name: "job-no-progress-do", Stack: StackDO, Code: 0x80D02002, Confidence: "medium", Source: "[L-DO]; [L-WUCOMMON] (rows 5, 8, 9)",
		jobLevel: true,
		match:    as(func(e *JobError) bool { return e.NoProgress })},
	{Name: "job-name-not-resolved", Confidence: "low", Source: "[WINERR] 0x80072EE7 in the job (row 1, inferred)",
		match: as[*NameError](nil)},
	{Name: "job-no-progress-bits", Stack: StackBITS, Confidence: "low", Source: "BITS NoProgressTimeout; last job error raw (3.3, inferred)",
		match: as(func(e *JobError) bool { return e.NoProgress })},
	{Name: "job-error-raw", Confidence: "low", Source: "3.3: transport errors in jobs are raw 0x80072xxx (inferred)",
		match: func(error) bool { return true }},
}

// Rules lists every rule of every table, in order.
func Rules() []Rule {
	var out []Rule
	for _, t := range []struct {
		name  string
		rules []Rule
	}{{"transport", transportRules}, {"translation", translationRules}, {"wua", wuaRules}, {"ecp", ecpRules}, {"job", jobRules}} {
		for _, r := range t.rules {
			r.Table = t.name
			r.match, r.code = nil, nil
			out = append(out, r)
		}
	}
	return out
}

func (r *Rule) applies(class profile.Class, phase profile.Phase, gen Generation, stack Stack) bool {
	return (len(r.Classes) == 0 || slices.Contains(r.Classes, class)) &&
		(len(r.Phases) == 0 || slices.Contains(r.Phases, phase)) &&
		(r.Generation == "" || r.Generation == gen) &&
		(r.Stack == "" || r.Stack == stack)
}

func first(rules []Rule, err error, class profile.Class, phase profile.Phase, gen Generation, stack Stack) *Rule {
	for i := range rules {
		r := &rules[i]
		if r.applies(class, phase, gen, stack) && (r.match == nil || r.match(err)) {
			return r
		}
	}
	return nil
}

// phaseOf returns the phase a failure carries (empty when none).
func phaseOf(err error) profile.Phase {
	if te, ok := errors.AsType[*TransportError](err); ok {
		return te.Phase
	}
	return ""
}

// transportCause reports whether err is a transport failure (not a
// decision of WUA about a response).
func transportCause(err error) bool {
	_, ok := errors.AsType[*TransportError](err)
	if !ok {
		return false
	}
	_, status := errors.AsType[*StatusError](err)
	_, plist := errors.AsType[*ProxyListError](err)
	return !status && !plist
}

// winHTTPOf classifies a transport failure into a WinHTTP error.
func winHTTPOf(err error, class profile.Class, gen Generation, stack Stack) (WinHTTPError, *Rule) {
	r := first(transportRules, err, class, phaseOf(err), gen, stack)
	if r == nil { // transport-other matches everything
		return WinHTTPConnectionError, nil
	}
	return r.WinHTTP, r
}

// Classify returns what Windows would report for a failure of a request
// of the class, for the generation and download stack.
func Classify(err error, class profile.Class, gen Generation, stack Stack) Verdict {
	if err == nil {
		return Verdict{}
	}
	phase := phaseOf(err)
	if class == profile.ClassDownload {
		return classifyJob(err, gen, stack)
	}
	if _, ok := errors.AsType[*ECPError](err); ok {
		return classifyECP(err, class, gen, stack)
	}
	if !transportCause(err) {
		if r := first(wuaRules, err, class, phase, gen, stack); r != nil {
			v := Verdict{Code: r.Code, Rule: r.Name, Confidence: r.Confidence, Source: r.Source}
			if r.code != nil {
				v.Code = r.code(err, 0)
			}
			return v
		}
	}
	w, tr := winHTTPOf(err, class, gen, stack)
	r := translation(w, class, phase, gen, stack)
	v := Verdict{WinHTTP: w, Code: r.Code}
	if r.Code == 0 {
		v.Code = w.Code()
	}
	v.combine(tr, r)
	return v
}

// ecpRules classify a failed metadata (ECP) cab: WUA's external cab
// processor reports 0x8024402F WU_E_PT_ECP_SUCCEEDED_WITH_ERRORS and logs
// the inner error ([AC]: "ECP: Failed to validate cab file digest
// downloaded from http://www.download.windowsupdate.com/… with error
// 0x80246003"; reference 3.1 and section 4 row 24, Medium). That a
// network failure of the same fetch ends the same way is inferred from
// 3.1 (the component reports 0x8024402F with the inner code).
var ecpRules = []Rule{
	{Name: "ecp-cab", Classes: []profile.Class{profile.ClassScan}, Code: 0x8024402F, Confidence: "medium", Source: "[AC] (row 24: metadata/ECP cab)",
		match: func(err error) bool { return !transportCause(err) }},
	{Name: "ecp-fetch", Classes: []profile.Class{profile.ClassScan}, Code: 0x8024402F, Confidence: "low", Source: "[AC]; 3.1 (a network failure of the ECP fetch, inferred)",
		match: func(error) bool { return true }},
}

// classifyECP classifies a failed metadata cab: the ECP code, and for a
// transport failure the WinHTTP error beneath it (the inner code).
func classifyECP(err error, class profile.Class, gen Generation, stack Stack) Verdict {
	r := first(ecpRules, err, class, phaseOf(err), gen, stack)
	if r == nil { // another class: WUA's ECP runs in the scan only
		r = &ecpRules[len(ecpRules)-1]
	}
	v := Verdict{Code: r.Code}
	var tr *Rule
	if transportCause(err) {
		v.WinHTTP, tr = winHTTPOf(err, class, gen, stack)
	}
	v.combine(tr, r)
	return v
}

// translation returns the translation rule for a WinHTTP error on WUA's
// WinHTTP path (winhttp-raw matches whatever the others leave).
func translation(w WinHTTPError, class profile.Class, phase profile.Phase, gen Generation, stack Stack) *Rule {
	for i := range translationRules {
		r := &translationRules[i]
		if r.applies(class, phase, gen, stack) && (r.WinHTTP == 0 || r.WinHTTP == w) {
			return r
		}
	}
	return &translationRules[len(translationRules)-1] // not reached: winhttp-raw is last and matches everything
}

// classifyJob classifies a failed download: the job's own code, and the
// update-level code WUA reports.
func classifyJob(err error, gen Generation, stack Stack) Verdict {
	phase := phaseOf(err)
	var v Verdict
	var tr *Rule
	if transportCause(err) {
		v.WinHTTP, tr = winHTTPOf(err, profile.ClassDownload, gen, stack)
		v.JobCode = v.WinHTTP.Code()
	}
	if se, ok := errors.AsType[*StatusError](err); ok {
		v.JobCode = BITSStatusCode(se.Status)
	}
	r := first(jobRules, err, profile.ClassDownload, phase, gen, stack)
	switch {
	case r.Code != 0:
		v.Code = r.Code
	case r.code != nil:
		v.Code = r.code(err, v.WinHTTP)
	default:
		v.Code = v.WinHTTP.Code()
	}
	if v.JobCode == 0 || r.jobLevel {
		v.JobCode = v.Code
	}
	v.combine(tr, r)
	return v
}

// combine records the deciding rules: the weaker confidence, both sources
// (a pass-through rule adds neither to a transport rule's).
func (v *Verdict) combine(rules ...*Rule) {
	var names, sources []string
	for _, r := range rules {
		if r == nil {
			continue
		}
		names = append(names, r.Name)
		if r.passThrough && len(sources) > 0 {
			continue
		}
		if !slices.Contains(sources, r.Source) {
			sources = append(sources, r.Source)
		}
		if v.Confidence == "" || r.Confidence.Weaker(v.Confidence) {
			v.Confidence = r.Confidence
		}
	}
	v.Rule = strings.Join(names, " > ")
	v.Source = strings.Join(sources, "; ")
}
