package codes

import (
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"testing"
)

// knownPairs are hex/signed pairs quoted in the reference (wu-codes.md) with
// the primary names the catalog must give them.
var knownPairs = []struct {
	hex    string
	signed int32
	name   string
	fac    Facility
}{
	{"0x80072EE2", -2147012894, "WININET_E_TIMEOUT", FacilityWin32},
	{"0x80244016", -2145107946, "WU_E_PT_HTTP_STATUS_BAD_REQUEST", FacilityWindowsUpdate},
	{"0x80072EFE", -2147012866, "WININET_E_CONNECTION_ABORTED", FacilityWin32},
	{"0x8024402C", -2145107924, "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", FacilityWindowsUpdate},
	{"0x80D05001", -2133831679, "DO_E_HTTP_BLOCKSIZE_MISMATCH", FacilityDeliveryOptimization},
	{"0x803D0013", -2143485933, "WS_E_ENDPOINT_FAULT_RECEIVED", FacilityWebServices},
	{"0x80190194", -2145844844, "BG_E_HTTP_ERROR_404", FacilityHTTP},
	{"0x80200053", -2145386413, "BG_E_VALIDATION_FAILED", FacilityBackgroundCopy},
	{"0x80092013", -2146885613, "CRYPT_E_REVOCATION_OFFLINE", FacilitySecurity},
	{"0x800B0109", -2146762487, "CERT_E_UNTRUSTEDROOT", FacilityCert},
	{"0x8007274C", -2147014836, "WSAETIMEDOUT", FacilityWin32},
	{"0x00240005", 2359301, "WU_S_REBOOT_REQUIRED", FacilityWindowsUpdate},
	{"0x00000000", 0, "S_OK", FacilityNull},
}

func TestKnownPairs(t *testing.T) {
	for _, p := range knownPairs {
		t.Run(p.name, func(t *testing.T) {
			c := MustParse(p.hex)
			if got := c.Hex(); got != p.hex {
				t.Errorf("Hex() = %q, want %q", got, p.hex)
			}
			if got := c.Signed(); got != p.signed {
				t.Errorf("%s.Signed() = %d, want %d", p.hex, got, p.signed)
			}
			if want := p.hex + " (" + p.name + ")"; c.String() != want {
				t.Errorf("String() = %q, want %q", c.String(), want)
			}
			if got := c.Facility(); got != p.fac {
				t.Errorf("%s.Facility() = %v, want %v", p.hex, got, p.fac)
			}
			// The other direction: signed decimal and name both parse back.
			if got, err := Parse(strconv.Itoa(int(p.signed))); err != nil || got != c {
				t.Errorf("Parse(%d) = %v, %v; want %v", p.signed, got, err, c)
			}
			if got, err := Parse(p.name); err != nil || got != c {
				t.Errorf("Parse(%q) = %v, %v; want %v", p.name, got, err, c)
			}
		})
	}
}

func TestHex(t *testing.T) {
	tests := []struct {
		c    Code
		want string
	}{
		{0, "0x00000000"},
		{0xABC, "0x00000ABC"},
		{0x80072EFE, "0x80072EFE"},
		{0xFFFFFFFF, "0xFFFFFFFF"},
		{0x0024000A, "0x0024000A"},
	}
	for _, tt := range tests {
		if got := tt.c.Hex(); got != tt.want {
			t.Errorf("Code(%d).Hex() = %q, want %q", uint32(tt.c), got, tt.want)
		}
	}
}

func TestStringUnknown(t *testing.T) {
	for _, c := range []Code{0x12345678, 0x80D0000A, 0xFFFFFFFF, 0x80245FFF} {
		if c.Known() {
			t.Errorf("%s.Known() = true, want false", c.Hex())
		}
		if got := c.String(); got != c.Hex() {
			t.Errorf("String() = %q, want %q", got, c.Hex())
		}
	}
	if !Code(0x80072EFE).Known() {
		t.Error("0x80072EFE.Known() = false, want true")
	}
}

func TestFacilityString(t *testing.T) {
	tests := []struct {
		c    Code
		want string
	}{
		{0x80072EFE, "WIN32"},
		{0x8024402C, "WINDOWSUPDATE"},
		{0x00240001, "WINDOWSUPDATE"},
		{0x80190194, "HTTP"},
		{0x80200010, "BACKGROUNDCOPY"},
		{0x80D02002, "DELIVERY_OPTIMIZATION"},
		{0x803D0006, "WEBSERVICES"},
		{0x80092013, "SECURITY"},
		{0x800B0101, "CERT"},
		{0, "NULL"},
		{0x81230000, "0x123"},
		{0xFFFF0000, "0x1FFF"},
	}
	for _, tt := range tests {
		if got := tt.c.Facility().String(); got != tt.want {
			t.Errorf("%s.Facility().String() = %q, want %q", tt.c.Hex(), got, tt.want)
		}
	}
}

func TestWin32(t *testing.T) {
	tests := []struct {
		c      Code
		want   uint32
		wantOK bool
	}{
		{0x80072EFE, 12030, true},
		{0x80072EFD, 12029, true},
		{0x8007274C, 10060, true},
		{0x8007FFFF, 0xFFFF, true},
		{0x8024402C, 0, false},
		{0x00072EFE, 0, false}, // success bit: not HRESULT_FROM_WIN32
		{0xC0072EFE, 0, false},
		{OK, 0, false},
	}
	for _, tt := range tests {
		got, ok := tt.c.Win32()
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("%s.Win32() = %d, %v; want %d, %v", tt.c.Hex(), got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestFromWin32(t *testing.T) {
	tests := []struct {
		n    uint32
		want Code
	}{
		{0, OK},
		{12030, 0x80072EFE},
		{12029, 0x80072EFD},
		{12007, 0x80072EE7},
		{10060, 0x8007274C},
		{0xFFFF, 0x8007FFFF},
		{0x12EFE, 0x80072EFE},    // HRESULT_FROM_WIN32 keeps 16 bits
		{0x80072EFE, 0x80072EFE}, // already an HRESULT: unchanged
		{0x8024402C, 0x8024402C}, // likewise
		{0x7FFFFFFF, 0x8007FFFF},
	}
	for _, tt := range tests {
		if got := FromWin32(tt.n); got != tt.want {
			t.Errorf("FromWin32(%#x) = %s, want %s", tt.n, got.Hex(), tt.want.Hex())
		}
	}
	for n := uint32(1); n <= 0xFFFF; n++ {
		if got, ok := FromWin32(n).Win32(); !ok || got != n {
			t.Fatalf("FromWin32(%d).Win32() = %d, %v; want %d, true", n, got, ok, n)
		}
	}
}

func TestText(t *testing.T) {
	b, err := Code(0x80072EFE).MarshalText()
	if err != nil || string(b) != "0x80072EFE" {
		t.Fatalf("MarshalText() = %q, %v; want \"0x80072EFE\"", b, err)
	}
	var c Code
	if err := c.UnmarshalText([]byte("[80072efd]")); err != nil || c != 0x80072EFD {
		t.Fatalf("UnmarshalText([80072efd]) = %v, %v; want 0x80072EFD", c.Hex(), err)
	}
	c = 0x8024402C
	if err := c.UnmarshalText([]byte("0x")); !errors.Is(err, ErrSyntax) {
		t.Fatalf("UnmarshalText(0x) error = %v, want ErrSyntax", err)
	}
	if c != 0x8024402C {
		t.Errorf("failed UnmarshalText changed the code to %s", c.Hex())
	}
}

func TestJSON(t *testing.T) {
	type doc struct {
		Code  Code   `json:"code"`
		Codes []Code `json:"codes"`
	}
	in := doc{Code: 0x80072EFE, Codes: []Code{0x8024402C, OK}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"code":"0x80072EFE","codes":["0x8024402C","0x00000000"]}`
	if string(b) != want {
		t.Errorf("json.Marshal = %s, want %s", b, want)
	}
	var out doc
	if err := json.Unmarshal([]byte(`{"code":"-2147012866","codes":["WU_E_PT_WINHTTP_NAME_NOT_RESOLVED","12029"]}`), &out); err != nil {
		t.Fatal(err)
	}
	if out.Code != 0x80072EFE || len(out.Codes) != 2 || out.Codes[0] != 0x8024402C || out.Codes[1] != 0x80072EFD {
		t.Errorf("json.Unmarshal = %+v", out)
	}
	if err := json.Unmarshal([]byte(`{"code":"nope"}`), &out); !errors.Is(err, ErrSyntax) {
		t.Errorf("json.Unmarshal(nope) error = %v, want ErrSyntax", err)
	}
}

func TestSourceTags(t *testing.T) {
	got := SourceTags(`[H] 12175; [L-2F8F] (clock); [H]; [MS-WUSP] 3.1.5, "[x]" [KB3175743]`)
	want := []string{"H", "L-2F8F", "MS-WUSP", "KB3175743"}
	if !slices.Equal(got, want) {
		t.Errorf("SourceTags = %q, want %q", got, want)
	}
}
