package codes

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that failures wrap ErrSyntax
// and return 0, and that a parsed code round-trips through its hex form, its
// signed decimal and its text marshalling.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"0x80072efe", "0X80072EFE", "80072EFE", "[80072EFE]", "[0x80072EFE]",
		"-2147012866", "2147954430", "12029", "0", "65535", "65536",
		"WU_E_PT_WINHTTP_NAME_NOT_RESOLVED", "s_ok", "12345678", "2359297",
		"", "0x", "0x1234567890", "xyz", "--5", "[80072EFE", "80072EFEA", "99999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) error %v does not wrap ErrSyntax", s, err)
			}
			if c != 0 {
				t.Fatalf("Parse(%q) = %s with an error, want 0", s, c.Hex())
			}
			if !strings.Contains(err.Error(), strconv.Quote(s)) {
				t.Fatalf("Parse(%q) error %q does not name the input", s, err)
			}
			return
		}
		if got, err := Parse(c.Hex()); err != nil || got != c {
			t.Fatalf("Parse(%q) = %s, but Parse(%q) = %s, %v", s, c.Hex(), c.Hex(), got.Hex(), err)
		}
		// The signed decimal parses back to c, except in the documented
		// ambiguous cases of positive codes with 5 or 8 decimal digits.
		dec := strconv.FormatInt(int64(c.Signed()), 10)
		want, wantErr := c, false
		switch {
		case c.Signed() > maxWin32 && len(dec) <= 5:
			wantErr = true // too large for a Win32 error number
		case c.Signed() >= 0 && len(dec) <= 5:
			want = FromWin32(uint32(c.Signed())) // a Win32 error number
		case c.Signed() >= 0 && len(dec) == 8:
			want = MustParse("0x" + dec) // 8 digits are bare hex
		}
		got, err := Parse(dec)
		if wantErr {
			if !errors.Is(err, ErrSyntax) {
				t.Fatalf("Parse(%q) = %s, %v; want an out-of-range error", dec, got.Hex(), err)
			}
		} else if err != nil || got != want {
			t.Fatalf("Parse(%q) = %s, but Parse(%q) = %s, %v; want %s", s, c.Hex(), dec, got.Hex(), err, want.Hex())
		}
		b, err := c.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var back Code
		if err := back.UnmarshalText(b); err != nil || back != c {
			t.Fatalf("text round trip of %s gave %s, %v", c.Hex(), back.Hex(), err)
		}
		if str := c.String(); !strings.HasPrefix(str, c.Hex()) {
			t.Fatalf("String() = %q does not start with %s", str, c.Hex())
		}
	})
}
