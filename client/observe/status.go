package observe

import "github.com/wufault/wufault/codes"

// statusCodes is reference/wu-codes.md section 3.2: the WU_E_PT_HTTP_STATUS_*
// code WUA reports for an HTTP status on the scan path (and, observed for
// 404, at update level for downloads) [H] [L-WUANET].
var statusCodes = map[int]codes.Code{
	400: 0x80244016, // [ISA-4016]
	401: 0x80244017, // [L-SCAN]
	403: 0x80244018, // [LU11] [L-SCAN]
	404: 0x80244019, // [LU12] [GG]
	405: 0x8024401A,
	407: 0x8024401B, // [KTC] [L-WUCOMMON] [L-SCAN]
	408: 0x8024401C,
	409: 0x8024401D,
	410: 0x8024401E,
	500: 0x8024401F,
	501: 0x80244020, // errata 2: 501, not "same as 500"
	502: 0x80244021, // [HJ] [L-SCAN]
	503: 0x80244022, // [L-WUCOMMON]
	504: 0x80244023, // errata 2: 504, not "same as 503"
	505: 0x80244024,
}

// StatusCode returns the Windows Update code WUA reports for an HTTP
// status on the scan path (reference section 3.2): 0x8024401B for 407,
// 0x80244019 for 404, WU_E_PT_HTTP_STATUS_NOT_MAPPED 0x8024402B for any
// other non-success status (inferred from the header text). Success and
// informational statuses (below 300) and redirects (3xx, which WinHTTP
// follows) give 0, false.
func StatusCode(status int) (codes.Code, bool) {
	if c, ok := statusCodes[status]; ok {
		return c, true
	}
	if status >= 400 && status <= 599 {
		return 0x8024402B, true
	}
	return 0, false
}

// StatusConfidence is the confidence reference section 4 row 21 gives the
// status mapping: High for 403, 404, 407, 502 and 503 (observed), Medium
// for 500 and 504, Low for the rest (header text only).
func StatusConfidence(status int) Confidence {
	switch status {
	case 403, 404, 407, 502, 503:
		return High
	case 400, 500, 504:
		return Medium
	}
	return Low
}

// BITSStatusCode returns the BITS job error for an HTTP status on the
// download path: BG_E_HTTP_ERROR_nnn = 0x80190000 + status [L-BITS].
func BITSStatusCode(status int) (codes.Code, bool) {
	if status < 400 || status > 599 {
		return 0, false
	}
	return codes.Code(0x80190000 + uint32(status)), true
}
