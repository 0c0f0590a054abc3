package codes

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want Code
	}{
		{"prefixed lower", "0x80072efe", 0x80072EFE},
		{"prefixed upper X", "0X80072EFE", 0x80072EFE},
		{"prefixed mixed case", "0x80072eFe", 0x80072EFE},
		{"prefixed short", "0x0", OK},
		{"prefixed short nonzero", "0x2efe", 0x00002EFE},
		{"bare hex", "80072EFE", 0x80072EFE},
		{"bare hex lower", "80072ee2", 0x80072EE2},
		{"bare hex all decimal digits", "80244019", 0x80244019},
		{"bare hex leading letter", "DEADBEEF", 0xDEADBEEF},
		{"bracketed bare", "[80072EFE]", 0x80072EFE},
		{"bracketed prefixed", "[0x80072EFE]", 0x80072EFE},
		{"bracketed lower", "[80072f8f]", 0x80072F8F},
		{"signed decimal", "-2147012866", 0x80072EFE},
		{"signed decimal ISA blog", "-2145107946", 0x80244016},
		{"signed min", "-2147483648", 0x80000000},
		{"signed minus one", "-1", 0xFFFFFFFF},
		{"unsigned decimal", "2147954430", 0x80072EFE},
		{"unsigned max", "4294967295", 0xFFFFFFFF},
		{"unsigned 7 digits", "2359301", 0x00240005},
		{"unsigned 6 digits", "100000", 0x000186A0},
		{"win32 number", "12029", 0x80072EFD},
		{"win32 number 12030", "12030", 0x80072EFE},
		{"win32 winsock", "10060", 0x8007274C},
		{"win32 max", "65535", 0x8007FFFF},
		{"win32 one digit", "5", 0x80070005},
		{"zero", "0", OK},
		{"name", "WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", 0x8024402C},
		{"name lower case", "wu_e_pt_winhttp_name_not_resolved", 0x8024402C},
		{"winhttp alias", "ERROR_WINHTTP_CONNECTION_ERROR", 0x80072EFE},
		{"wininet name", "WININET_E_CONNECTION_ABORTED", 0x80072EFE},
		{"S_OK", "S_OK", OK},
		{"success code name", "WU_S_REBOOT_REQUIRED", 0x00240005},
		{"spaces around", "  0x80072EFE\t\n", 0x80072EFE},
		{"spaces around bracket", " [80072EFE] ", 0x80072EFE},
		{"spaces around name", " S_OK ", OK},
		{"unknown but well formed", "0x80D0000A", 0x80D0000A},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) = %s, want %s", tt.in, got.Hex(), tt.want.Hex())
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"blank", "   "},
		{"prefix only", "0x"},
		{"prefix only upper", "0X"},
		{"prefixed 10 digits", "0x1234567890"},
		{"prefixed 9 digits", "0x80072EFE0"},
		{"prefixed bad digit", "0x8007ZEFE"},
		{"prefixed inner space", "0x 80072EFE"},
		{"prefixed sign", "0x-1"},
		{"double prefix", "0x0x80072EFE"},
		{"unknown word", "xyz"},
		{"unknown name", "WU_E_PT_NO_TRANSLATION"},
		{"misleading label", "TIME_OUT_ERRORS"},
		{"double minus", "--5"},
		{"plus sign", "+5"},
		{"minus only", "-"},
		{"minus hex", "-0x5"},
		{"minus space", "- 5"},
		{"unclosed bracket", "[80072EFE"},
		{"unopened bracket", "80072EFE]"},
		{"empty brackets", "[]"},
		{"lone bracket", "["},
		{"bracketed 7 digits", "[80072EF]"},
		{"bracketed 9 digits", "[80072EFE0]"},
		{"bracketed decimal", "[-2147012866]"},
		{"bracketed name", "[S_OK]"},
		{"bracketed prefix only", "[0x]"},
		{"bracket spaces inside", "[ 80072EFE ]"},
		{"9 hex digits", "80072EFEA"},
		{"7 hex digits", "80072EF"},
		{"hex with space", "8007 2EFE"},
		{"11 digit decimal", "99999999999"},
		{"uint32 overflow", "4294967296"},
		{"int32 underflow", "-2147483649"},
		{"win32 out of range", "99999"},
		{"win32 just out of range", "65536"},
		{"leading zero", "012029"},
		{"leading zeros short", "00005"},
		{"negative leading zero", "-02147012866"},
		{"decimal point", "12.5"},
		{"hex suffix", "80072EFEh"},
		{"trailing garbage", "0x80072EFE)"},
		{"two codes", "0x80072EFE 0x80072EFD"},
		{"non ascii digit", "１２０２９"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.in)
			if err == nil {
				t.Fatalf("Parse(%q) = %s, want an error", tt.in, got.Hex())
			}
			if got != 0 {
				t.Errorf("Parse(%q) returned %s with its error, want 0", tt.in, got.Hex())
			}
			if !errors.Is(err, ErrSyntax) {
				t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", tt.in, err)
			}
			msg := err.Error()
			if !strings.Contains(msg, strconv.Quote(tt.in)) {
				t.Errorf("error %q does not name the input %q", msg, tt.in)
			}
			if r := []rune(msg)[0]; unicode.IsUpper(r) {
				t.Errorf("error %q starts with an upper-case letter", msg)
			}
		})
	}
}

func TestMustParse(t *testing.T) {
	if got := MustParse("0x80072EFE"); got != 0x80072EFE {
		t.Errorf("MustParse = %s, want 0x80072EFE", got.Hex())
	}
	defer func() {
		r := recover()
		err, ok := r.(error)
		if !ok || !errors.Is(err, ErrSyntax) {
			t.Errorf("MustParse(bad) panicked with %v, want an ErrSyntax error", r)
		}
	}()
	MustParse("bad code")
	t.Error("MustParse(bad) did not panic")
}

// TestParseEveryCatalogSpelling parses every code of the catalog in every
// spelling, and every name and alias, in both cases.
func TestParseEveryCatalogSpelling(t *testing.T) {
	for _, in := range All() {
		c := in.Code
		h := c.Hex()[2:]
		spellings := []string{
			c.Hex(), "0X" + h, "0x" + strings.ToLower(h), h, strings.ToLower(h),
			"[" + h + "]", "[" + c.Hex() + "]",
			strconv.FormatInt(int64(c.Signed()), 10),
			in.Name, strings.ToLower(in.Name),
		}
		if c.Signed() < 0 {
			spellings = append(spellings, strconv.FormatUint(uint64(c), 10))
		}
		spellings = append(spellings, in.Aliases...)
		for _, s := range spellings {
			got, err := Parse(s)
			if err != nil || got != c {
				t.Errorf("Parse(%q) = %s, %v; want %s", s, got.Hex(), err, c)
			}
		}
	}
}
