package client

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/wufault/wufault/client/profile"
)

// The errors below are the evidence the client collects: what its
// resolver, sockets, TLS stack, HTTP parser, SOAP parser and download job
// saw. Classification (classify.go) reads them with errors.Is and
// errors.As only.

// TransportError is a failed HTTP exchange: the phase it failed in, the
// URL, the proxy it went through, and the cause.
type TransportError struct {
	Phase profile.Phase
	URL   string
	Proxy string // host:port of the proxy, empty when direct
	Err   error
}

func (e *TransportError) Error() string {
	via := ""
	if e.Proxy != "" {
		via = " via proxy " + e.Proxy
	}
	return fmt.Sprintf("%s %s%s: %v", e.Phase, e.URL, via, e.Err)
}

func (e *TransportError) Unwrap() error { return e.Err }

// NameError is a name the resolver could not turn into an address.
type NameError struct {
	Host string
	// Reason is NXDOMAIN, NODATA, SERVFAIL, REFUSED, timeout (no server
	// answered within the DNS client's retry schedule), resolve-timeout
	// (WinHTTP's resolve timeout ran out first) or no-servers.
	Reason string
	// Proxy is true when the name is the proxy's.
	Proxy bool
	// Cached is true when the answer came from the negative cache.
	Cached bool
}

// Reasons of a NameError.
const (
	ReasonNXDomain       = "NXDOMAIN"
	ReasonNoData         = "NODATA"
	ReasonServFail       = "SERVFAIL"
	ReasonRefused        = "REFUSED"
	ReasonTimeout        = "timeout"
	ReasonResolveTimeout = "resolve-timeout"
	ReasonNoServers      = "no-servers"
)

func (e *NameError) Error() string {
	s := "lookup " + e.Host + ": " + e.Reason
	if e.Proxy {
		s = "proxy " + s
	}
	if e.Cached {
		s += " (cached)"
	}
	return s
}

// ErrClientCertNeeded is returned by the TLS handshake when the server
// asks for a client certificate: WinHTTP fails at once with 12044 when it
// has none to offer.
var ErrClientCertNeeded = errors.New("server requested a client certificate")

// ErrLoginFailure is an authentication exchange (NTLM, Negotiate) that
// the proxy rejected after the client answered its challenge.
var ErrLoginFailure = errors.New("proxy rejected the authentication exchange")

// RevocationError is a failed revocation check of the server certificate.
type RevocationError struct {
	Serial string
	// Offline is true when the revocation information could not be
	// fetched (CRYPT_E_REVOCATION_OFFLINE); false when the certificate is
	// revoked (CRYPT_E_REVOKED).
	Offline bool
	Err     error
}

func (e *RevocationError) Error() string {
	if e.Offline {
		return "revocation check of certificate " + e.Serial + " offline: " + e.Err.Error()
	}
	return "certificate " + e.Serial + " is revoked"
}

func (e *RevocationError) Unwrap() error { return e.Err }

// URLError is a URL WinHTTP cannot use: no http or https scheme
// (12006), or not a URL at all (12005).
type URLError struct {
	URL string
	// Scheme is true when the scheme is missing or not http/https.
	Scheme bool
	Err    error
}

func (e *URLError) Error() string {
	if e.Scheme {
		return fmt.Sprintf("url %q: scheme is not http or https", e.URL)
	}
	return fmt.Sprintf("url %q: %v", e.URL, e.Err)
}

func (e *URLError) Unwrap() error { return e.Err }

// RedirectError is a redirect WinHTTP refuses to follow: too many, or
// from HTTPS to HTTP.
type RedirectError struct {
	URL    string
	Reason string
}

func (e *RedirectError) Error() string { return "redirect from " + e.URL + ": " + e.Reason }

// ProtocolError is a response the HTTP parser could not read although
// the socket delivered it: a garbage status line, a header line without
// a colon, an HTTP/0.9 answer, a broken chunk.
type ProtocolError struct {
	Phase profile.Phase
	Err   error
}

func (e *ProtocolError) Error() string {
	return "invalid response " + string(e.Phase) + ": " + e.Err.Error()
}
func (e *ProtocolError) Unwrap() error { return e.Err }

// Errors of responses whose headers exceed WinHTTP's limits.
var (
	ErrHeaderCount = errors.New("too many response headers")
	ErrHeaderSize  = errors.New("response headers exceed the size limit")
)

// ProxyListError is a system proxy list WinHTTP cannot parse
// (WU_E_INVALID_PROXY_SERVER).
type ProxyListError struct {
	List string
	Err  error
}

func (e *ProxyListError) Error() string { return fmt.Sprintf("proxy list %q: %v", e.List, e.Err) }
func (e *ProxyListError) Unwrap() error { return e.Err }

// StatusError is an HTTP answer other than success. Proxy is true when
// the proxy answered it (to CONNECT, or a 407).
type StatusError struct {
	Status      int
	ContentType string
	Proxy       bool
}

func (e *StatusError) Error() string {
	s := "http status " + strconv.Itoa(e.Status)
	if e.Proxy {
		s = "proxy answered " + s
	}
	return s
}

// SOAPFault is a SOAP fault the server returned.
type SOAPFault struct {
	// Code is the fault code without its prefix: Client, Server,
	// VersionMismatch, MustUnderstand, or another name (WCF's
	// InternalServiceFault).
	Code string
	// String is the faultstring.
	String string
	// ErrorCode is the WSUS detail ErrorCode (InvalidCookie,
	// InternalServerError…), empty when absent.
	ErrorCode string
	// Status is the HTTP status it came with.
	Status int
}

func (e *SOAPFault) Error() string {
	s := "soap fault " + e.Code
	if e.ErrorCode != "" {
		s += " (" + e.ErrorCode + ")"
	}
	if e.String != "" {
		s += ": " + e.String
	}
	return s
}

// SOAPParseError is a response body that is not the SOAP envelope the
// call expects.
type SOAPParseError struct {
	Method string
	Err    error
}

func (e *SOAPParseError) Error() string { return "parse " + e.Method + " response: " + e.Err.Error() }
func (e *SOAPParseError) Unwrap() error { return e.Err }

// ContentTypeError is a WinHTTP-fetched file with an unexpected
// Content-Type.
type ContentTypeError struct {
	URL string
	Got string
}

func (e *ContentTypeError) Error() string {
	return fmt.Sprintf("%s: unexpected content type %q", e.URL, e.Got)
}

// CabError is a cabinet (wuident.cab, wuredir.cab) that is not a
// well-formed cabinet holding the expected file.
type CabError struct {
	File string
	Err  error
}

func (e *CabError) Error() string { return e.File + ": " + e.Err.Error() }
func (e *CabError) Unwrap() error { return e.Err }

// ECPError is a metadata (ECP) cab the client could not use: the fetch
// failed, or its status, digest, cabinet or metadata file was wrong.
// Err is the inner failure (WUA logs it beside 0x8024402F, [AC]).
type ECPError struct {
	URL string
	Err error
}

func (e *ECPError) Error() string { return "metadata (ECP) cab: " + e.Err.Error() }
func (e *ECPError) Unwrap() error { return e.Err }

// SLSError is an SLS discovery answer the client cannot read (not XML, or
// no client web service URL in it).
type SLSError struct {
	URL string
	Err error
}

func (e *SLSError) Error() string { return "SLS answer " + e.URL + ": " + e.Err.Error() }
func (e *SLSError) Unwrap() error { return e.Err }

// ErrSameRedirectorID is the legacy client's redirector recovery getting
// back the redirectorId it already had: the redirector cannot send it
// elsewhere (WU_E_PT_SAME_REDIR_ID).
var ErrSameRedirectorID = errors.New("redirector recovery returned the same redirectorId")

// ErrMaxRoundTrips is returned when SyncUpdates keeps answering Truncated
// past WUA's limit of 200 round trips.
var ErrMaxRoundTrips = errors.New("exceeded max server round trips")

// RangeError is a Range request answered with something other than the
// requested range (the proxy or server ignored Range).
type RangeError struct {
	Status int
	Want   string // the Range sent
	Got    string // Content-Range received, or the body size
}

func (e *RangeError) Error() string {
	return fmt.Sprintf("range %s answered with status %d (%s)", e.Want, e.Status, e.Got)
}

// DigestError is downloaded content whose digest differs from the one in
// the update metadata.
type DigestError struct {
	URL       string
	Algorithm string
	Want, Got string
}

func (e *DigestError) Error() string {
	return fmt.Sprintf("%s: %s digest %s, want %s", e.URL, e.Algorithm, e.Got, e.Want)
}

// JobError is a download job (BITS or DO) that gave up: the last error of
// its attempts, whether the job ran out of its no-progress time, and how
// many attempts it made.
type JobError struct {
	Stack      Stack
	URL        string
	Attempts   int
	NoProgress bool
	Err        error
}

func (e *JobError) Error() string {
	s := fmt.Sprintf("%s job for %s failed after %d attempt(s)", e.Stack, e.URL, e.Attempts)
	if e.NoProgress {
		s += " (no progress)"
	}
	return s + ": " + e.Err.Error()
}

func (e *JobError) Unwrap() error { return e.Err }
