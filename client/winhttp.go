package client

import (
	"strconv"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// WinHTTPError is a WinHTTP error number (winhttp.h), the error a WinHTTP
// call fails with. Code turns it into the HRESULT WUA passes through,
// HRESULT_FROM_WIN32(n) = 0x80070000|n ([L-WINHTTPERR], [WINHTTP.H]).
type WinHTTPError uint32

// The WinHTTP errors the emulated client raises (reference/wu-codes.md
// section 1).
const (
	WinHTTPTimeout               WinHTTPError = 12002 // ERROR_WINHTTP_TIMEOUT
	WinHTTPInvalidURL            WinHTTPError = 12005 // ERROR_WINHTTP_INVALID_URL
	WinHTTPUnrecognizedScheme    WinHTTPError = 12006 // ERROR_WINHTTP_UNRECOGNIZED_SCHEME
	WinHTTPNameNotResolved       WinHTTPError = 12007 // ERROR_WINHTTP_NAME_NOT_RESOLVED
	WinHTTPLoginFailure          WinHTTPError = 12015 // ERROR_WINHTTP_LOGIN_FAILURE
	WinHTTPCannotConnect         WinHTTPError = 12029 // ERROR_WINHTTP_CANNOT_CONNECT
	WinHTTPConnectionError       WinHTTPError = 12030 // ERROR_WINHTTP_CONNECTION_ERROR
	WinHTTPClientAuthCertNeeded  WinHTTPError = 12044 // ERROR_WINHTTP_CLIENT_AUTH_CERT_NEEDED
	WinHTTPInvalidServerResponse WinHTTPError = 12152 // ERROR_WINHTTP_INVALID_SERVER_RESPONSE
	WinHTTPRedirectFailed        WinHTTPError = 12156 // ERROR_WINHTTP_REDIRECT_FAILED
	WinHTTPSecureFailure         WinHTTPError = 12175 // ERROR_WINHTTP_SECURE_FAILURE
	WinHTTPHeaderCountExceeded   WinHTTPError = 12181 // ERROR_WINHTTP_HEADER_COUNT_EXCEEDED
	WinHTTPHeaderSizeOverflow    WinHTTPError = 12182 // ERROR_WINHTTP_HEADER_SIZE_OVERFLOW
	WinHTTPChunkedHeaderOverflow WinHTTPError = 12183 // ERROR_WINHTTP_CHUNKED_ENCODING_HEADER_SIZE_OVERFLOW
)

// Code returns the HRESULT of the error: HRESULT_FROM_WIN32(e).
func (e WinHTTPError) Code() codes.Code {
	if e == 0 {
		return codes.OK
	}
	return codes.FromWin32(uint32(e))
}

// WUACode returns the HRESULT WUA's own WinHTTP wrappers (self-update,
// redirector) report for the error, by the translation rules of
// classify.go (reference 3.3): 12007 becomes 0x8024402C, every other error
// passes through raw. The scan's WWSAPI stack of modern clients also turns
// a timeout into 0x8024401C; Classify, which knows the class and the
// generation, applies that too.
func (e WinHTTPError) WUACode() codes.Code {
	if e == 0 {
		return codes.OK
	}
	if r := translation(e, profile.ClassSelfUpdate, "", "", ""); r.Code != 0 {
		return r.Code
	}
	return e.Code()
}

// String returns the number and the winhttp.h name, "12030
// (ERROR_WINHTTP_CONNECTION_ERROR)", or the number alone for an unnamed
// one.
func (e WinHTTPError) String() string {
	n := strconv.FormatUint(uint64(e), 10)
	if info, ok := codes.Lookup(e.Code()); ok {
		for _, a := range info.Aliases {
			if len(a) > 14 && a[:14] == "ERROR_WINHTTP_" {
				return n + " (" + a + ")"
			}
		}
		return n + " (" + info.Name + ")"
	}
	return n
}
