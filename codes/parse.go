package codes

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrSyntax is wrapped by every error Parse returns, so callers can test
// errors.Is(err, codes.ErrSyntax).
var ErrSyntax = errors.New("invalid code syntax")

// maxWin32 is the largest Win32 error number: HRESULT_FROM_WIN32 keeps 16 bits.
const maxWin32 = 0xFFFF

// Parse reads a code in any of the spellings found in Windows Update logs,
// event payloads, Microsoft pages and scenario files. Surrounding white space
// is ignored. Accepted forms:
//
//	0x80072efe, 0X80072EFE   0x or 0X and 1 to 8 hex digits, any case
//	80072EFE                 exactly 8 hex digits, no prefix (as in "hr = 80072ee2");
//	                         8 decimal digits are read as hex too
//	[80072EFE], [0x80072EFE] either of the above in brackets (Get-WindowsUpdateLog)
//	-2147012866              signed 32-bit decimal (.NET, PowerShell)
//	2147954430               unsigned 32-bit decimal of 6, 7, 9 or 10 digits
//	12029                    decimal of at most 5 digits: a Win32/WinHTTP error
//	                         number (at most 65535), converted with FromWin32
//	WU_E_PT_WINHTTP_NAME_NOT_RESOLVED
//	                         a primary name or alias from the catalog, any case
//
// Decimals take no sign other than a leading "-" and no leading zeros, and a
// value that does not fit is an error, never wrapped around. Every error
// names the input and wraps ErrSyntax.
//
// Decimal spellings of positive codes below 100000 or of exactly 8 digits
// are ambiguous by design and read as above: 12029 is the Win32 number, not
// 0x00002EFD; 65536 to 99999 are out-of-range Win32 numbers, so an error;
// 10000000 is hex. Only success codes that do not occur in practice are
// affected; use the hex form for them.
func Parse(s string) (Code, error) {
	c, reason := parse(strings.TrimSpace(s))
	if reason != "" {
		return 0, fmt.Errorf("codes: parse %q: %s: %w", s, reason, ErrSyntax)
	}
	return c, nil
}

// MustParse is like Parse but panics on error. It is meant for tables of
// constant codes in tests and package-level variables.
func MustParse(s string) Code {
	c, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return c
}

// parse does the work of Parse on trimmed input. It returns a non-empty
// reason when t is not a code.
func parse(t string) (Code, string) {
	switch {
	case t == "":
		return 0, "empty input"
	case t[0] == '[':
		if len(t) < 2 || t[len(t)-1] != ']' {
			return 0, "missing closing bracket"
		}
		in := t[1 : len(t)-1]
		if hasHexPrefix(in) {
			return parsePrefixedHex(in)
		}
		if len(in) == 8 && isHex(in) {
			return hexValue(in), ""
		}
		return 0, "brackets must hold 8 hex digits, with or without 0x"
	case t[0] == ']':
		return 0, "unexpected closing bracket"
	case hasHexPrefix(t):
		return parsePrefixedHex(t)
	case t[0] == '-':
		return parseNegative(t)
	case len(t) == 8 && isHex(t):
		return hexValue(t), ""
	case isDecimal(t):
		return parseUnsigned(t)
	}
	if i, ok := cat.byName[strings.ToUpper(t)]; ok {
		return cat.infos[i].Code, ""
	}
	if isNameLike(t) {
		return 0, "unknown code name"
	}
	return 0, "not a hex, decimal or named code"
}

func parsePrefixedHex(t string) (Code, string) {
	d := t[2:]
	switch {
	case d == "":
		return 0, "no hex digits after " + t[:2]
	case !isHex(d):
		return 0, "invalid hex digit"
	case len(d) > 8:
		return 0, "more than 8 hex digits"
	}
	return hexValue(d), ""
}

func parseNegative(t string) (Code, string) {
	d := t[1:]
	if !isDecimal(d) {
		return 0, "invalid signed decimal"
	}
	if len(d) > 1 && d[0] == '0' {
		return 0, "leading zero in decimal"
	}
	v, err := strconv.ParseInt(t, 10, 32)
	if err != nil {
		return 0, "signed decimal out of int32 range"
	}
	return Code(uint32(int32(v))), ""
}

func parseUnsigned(t string) (Code, string) {
	if len(t) > 1 && t[0] == '0' {
		return 0, "leading zero in decimal"
	}
	v, err := strconv.ParseUint(t, 10, 32)
	if err != nil {
		return 0, "decimal out of uint32 range"
	}
	if len(t) <= 5 {
		if v > maxWin32 {
			return 0, "win32 error number out of range (max 65535)"
		}
		return FromWin32(uint32(v)), ""
	}
	return Code(v), ""
}

func hasHexPrefix(s string) bool {
	return len(s) >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')
}

// hexValue converts 1 to 8 hex digits already checked by isHex.
func hexValue(s string) Code {
	var v uint32
	for i := 0; i < len(s); i++ {
		v = v<<4 | uint32(unhex(s[i]))
	}
	return Code(v)
}

func unhex(b byte) byte {
	switch {
	case b >= '0' && b <= '9':
		return b - '0'
	case b >= 'a' && b <= 'f':
		return b - 'a' + 10
	default:
		return b - 'A' + 10
	}
}

func isHex(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		b := s[i]
		if !(b >= '0' && b <= '9' || b >= 'a' && b <= 'f' || b >= 'A' && b <= 'F') {
			return false
		}
	}
	return true
}

func isDecimal(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isNameLike reports whether s is spelled like a constant name (letters,
// digits and underscores, starting with a letter), to word the error.
func isNameLike(s string) bool {
	for i := 0; i < len(s); i++ {
		b := s[i]
		letter := b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b == '_'
		if !letter && (i == 0 || b < '0' || b > '9') {
			return false
		}
	}
	return s != ""
}
