package codes

import (
	"strconv"
	"strings"
)

// A Code is a 32-bit HRESULT as Windows Update and the components under it
// report it: 0x80072EFE, 0x8024402C, 0x00240005.
//
// The zero value is OK (S_OK). A Code marshals as text in canonical hex form,
// so YAML and JSON files carry "0x80072EFE", and unmarshals from any spelling
// Parse accepts.
type Code uint32

// OK is S_OK, 0x00000000: success.
const OK Code = 0

// win32Base is HRESULT_FROM_WIN32(0) without the zero special case:
// SEVERITY_ERROR | FACILITY_WIN32<<16.
const win32Base = 0x80070000

// String returns the canonical hex form followed by the primary name in
// parentheses, "0x80072EFE (WININET_E_CONNECTION_ABORTED)", or only the hex
// form, "0x12345678", when the code is not in the catalog.
func (c Code) String() string {
	if i, ok := cat.byCode[c]; ok {
		return c.Hex() + " (" + cat.infos[i].Name + ")"
	}
	return c.Hex()
}

// Hex returns the canonical hex form: a lower-case "0x" and exactly eight
// upper-case hex digits, "0x80072EFE".
func (c Code) Hex() string {
	const digits = "0123456789ABCDEF"
	var b [10]byte
	b[0], b[1] = '0', 'x'
	for i := 9; i >= 2; i-- {
		b[i] = digits[c&0xF]
		c >>= 4
	}
	return string(b[:])
}

// Signed returns the code as a signed 32-bit integer, the form .NET,
// PowerShell and some Microsoft pages print: 0x80072EFE is -2147012866.
func (c Code) Signed() int32 { return int32(c) }

// Facility returns the facility field, HRESULT_FACILITY: bits 16-28.
func (c Code) Facility() Facility { return Facility(c>>16) & 0x1FFF }

// Win32 returns the Win32 (or WinHTTP, WinINet, Winsock) error number n of a
// failure code built as HRESULT_FROM_WIN32(n), that is 0x8007xxxx:
// 0x80072EFE gives 12030, true. Any other code gives 0, false.
func (c Code) Win32() (uint32, bool) {
	if c&0xFFFF0000 != win32Base {
		return 0, false
	}
	return uint32(c & 0xFFFF), true
}

// Known reports whether c is in the catalog.
func (c Code) Known() bool {
	_, ok := cat.byCode[c]
	return ok
}

// MarshalText implements encoding.TextMarshaler with the canonical hex form.
func (c Code) MarshalText() ([]byte, error) { return []byte(c.Hex()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with Parse.
func (c *Code) UnmarshalText(b []byte) error {
	v, err := Parse(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// FromWin32 converts a Win32 error number to an HRESULT as the
// HRESULT_FROM_WIN32 macro does: 0 gives OK, n in 1..0xFFFF gives
// 0x80070000|n (12030 gives 0x80072EFE). Like the macro, a value that is
// already an HRESULT (high bit set) is returned unchanged, and larger positive
// values keep only their low 16 bits.
func FromWin32(n uint32) Code {
	if int32(n) <= 0 {
		return Code(n)
	}
	return Code(n&0xFFFF | win32Base)
}

// A Facility is the facility field of an HRESULT.
type Facility uint16

// Facilities of the codes in the catalog (winerror.h FACILITY_* values).
const (
	FacilityNull                 Facility = 0
	FacilityRPC                  Facility = 1
	FacilityDispatch             Facility = 2
	FacilityStorage              Facility = 3
	FacilityITF                  Facility = 4
	FacilityWin32                Facility = 7
	FacilityWindows              Facility = 8
	FacilitySecurity             Facility = 9
	FacilityCert                 Facility = 0xB
	FacilitySetupAPI             Facility = 0xF
	FacilitySXS                  Facility = 0x17
	FacilityHTTP                 Facility = 0x19
	FacilityBackgroundCopy       Facility = 0x20
	FacilityWindowsUpdate        Facility = 0x24
	FacilityWebServices          Facility = 0x3D
	FacilityDeliveryOptimization Facility = 0xD0
)

var facilityNames = map[Facility]string{
	FacilityNull:                 "NULL",
	FacilityRPC:                  "RPC",
	FacilityDispatch:             "DISPATCH",
	FacilityStorage:              "STORAGE",
	FacilityITF:                  "ITF",
	FacilityWin32:                "WIN32",
	FacilityWindows:              "WINDOWS",
	FacilitySecurity:             "SECURITY",
	FacilityCert:                 "CERT",
	FacilitySetupAPI:             "SETUPAPI",
	FacilitySXS:                  "SXS",
	FacilityHTTP:                 "HTTP",
	FacilityBackgroundCopy:       "BACKGROUNDCOPY",
	FacilityWindowsUpdate:        "WINDOWSUPDATE",
	FacilityWebServices:          "WEBSERVICES",
	FacilityDeliveryOptimization: "DELIVERY_OPTIMIZATION",
}

// String returns the winerror.h name without its FACILITY_ prefix ("WIN32",
// "WINDOWSUPDATE", "DELIVERY_OPTIMIZATION"), or "0x" and the number in
// upper-case hex ("0x1FF") for a facility this package does not name.
func (f Facility) String() string {
	if s, ok := facilityNames[f]; ok {
		return s
	}
	return "0x" + strings.ToUpper(strconv.FormatUint(uint64(f), 16))
}
