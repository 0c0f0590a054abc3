package codes

import (
	"cmp"
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Info describes one code of the catalog.
type Info struct {
	Code Code
	// Name is the primary name: the wuerror.h/winerror.h constant, the
	// WININET_E_* alias for WinHTTP errors that have one, else the
	// ERROR_WINHTTP_* constant, or WSAExxx for Winsock errors.
	Name string
	// Aliases are other names of the same value (the ERROR_WINHTTP_*
	// constant, the HTTP_E_* name of a BITS code, a renamed constant) and,
	// for FACILITY_WIN32 codes, the decimal error number ("12030").
	Aliases []string
	// Meaning is a one-line English description.
	Meaning string
	// Causes lists the network faults known to produce the code, with the
	// reference's evidence tags; empty when the reference gives none.
	Causes string
	// Source holds the reference tags the code comes from, space-separated:
	// "[WUERR] [L-WUANET]", "[L-WINHTTPERR] [WINHTTP.H] [WINERR]", "arith.".
	Source string
	// Win32 is the Win32/WinHTTP error number for FACILITY_WIN32 failure
	// codes (12030 for 0x80072EFE), else 0.
	Win32 uint32
}

// Lookup returns the catalog entry of c.
func Lookup(c Code) (Info, bool) {
	i, ok := cat.byCode[c]
	if !ok {
		return Info{}, false
	}
	return cat.infos[i].clone(), true
}

// LookupName returns the entry whose primary name or alias is name, compared
// case-insensitively.
func LookupName(name string) (Info, bool) {
	i, ok := cat.byName[strings.ToUpper(name)]
	if !ok {
		return Info{}, false
	}
	return cat.infos[i].clone(), true
}

// All returns every entry of the catalog, sorted by code. The slice is the
// caller's to modify.
func All() []Info {
	out := make([]Info, len(cat.infos))
	for i, in := range cat.infos {
		out[i] = in.clone()
	}
	return out
}

func (in Info) clone() Info {
	in.Aliases = slices.Clone(in.Aliases)
	return in
}

//go:embed catalog.tsv
var catalogTSV string

// generatedTSV names every Win32 system error as HRESULT_FROM_WIN32 and
// the common COM and setup HRESULTs, from golang.org/x/sys/windows's
// constant table (source tag [XSYS]); see internal/gen.
//
//go:generate go run ./internal/gen
//go:embed catalog_generated.tsv
var generatedTSV string

// cat is built once from catalogTSV and generatedTSV and never modified,
// so concurrent reads need no locking.
var cat = mustMerge(mustLoad(catalogTSV), mustLoad(generatedTSV))

// mustMerge adds the generated entries to the hand-written ones: a code or
// a name the hand table has keeps its hand-written entry.
func mustMerge(hand, gen *catalog) *catalog {
	out := &catalog{byCode: map[Code]int{}, byName: map[string]int{}}
	infos := slices.Clone(hand.infos)
	for _, in := range gen.infos {
		if _, dup := hand.byCode[in.Code]; dup {
			continue
		}
		names := append([]string{in.Name}, in.Aliases...)
		for _, n := range names {
			if _, dup := hand.byName[strings.ToUpper(n)]; dup && !isDecimal(n) {
				panic(fmt.Sprintf("codes: generated name %s of %s is the hand table's; regenerate with go generate ./codes", n, in.Code.Hex()))
			}
		}
		infos = append(infos, in)
	}
	slices.SortFunc(infos, func(a, b Info) int { return cmp.Compare(a.Code, b.Code) })
	for i, in := range infos {
		out.byCode[in.Code] = i
		for _, n := range append([]string{in.Name}, in.Aliases...) {
			key := strings.ToUpper(n)
			if j, dup := out.byName[key]; dup && !isDecimal(n) {
				panic(fmt.Sprintf("codes: name %s of %s is also %s's", n, in.Code.Hex(), infos[j].Code.Hex()))
			}
			if _, dup := out.byName[key]; !dup {
				out.byName[key] = i
			}
		}
	}
	out.infos = infos
	return out
}

type catalog struct {
	infos  []Info         // sorted by code
	byCode map[Code]int   // index into infos
	byName map[string]int // upper-cased name or alias → index into infos
}

// catalogHeader is the first non-comment line of catalog.tsv.
const catalogHeader = "code\tsigned\tname\taliases\tsource\tmeaning\tcauses"

const catalogColumns = 7

// mustLoad parses the embedded table. A malformed embedded table is a
// programming error caught by the package's tests, so it panics.
func mustLoad(data string) *catalog {
	c, err := loadCatalog(data)
	if err != nil {
		panic(err)
	}
	return c
}

// loadCatalog parses a catalog table. Blank lines and lines starting with #
// are ignored; the first other line must be the header. Errors name the
// 1-based line.
func loadCatalog(data string) (*catalog, error) {
	c := &catalog{byCode: map[Code]int{}, byName: map[string]int{}}
	header := false
	for n, line := range strings.Split(data, "\n") {
		n++
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !header {
			if line != catalogHeader {
				return nil, fmt.Errorf("codes: catalog line %d: header must be %q", n, catalogHeader)
			}
			header = true
			continue
		}
		in, err := parseRow(line)
		if err != nil {
			return nil, fmt.Errorf("codes: catalog line %d: %w", n, err)
		}
		if k := len(c.infos); k > 0 && in.Code <= c.infos[k-1].Code {
			return nil, fmt.Errorf("codes: catalog line %d: %s is not above the previous code %s; keep rows sorted by code, one per code",
				n, in.Code.Hex(), c.infos[k-1].Code.Hex())
		}
		idx := len(c.infos)
		for _, name := range append([]string{in.Name}, in.Aliases...) {
			key := strings.ToUpper(name)
			if j, dup := c.byName[key]; dup {
				if j == idx {
					return nil, fmt.Errorf("codes: catalog line %d: name %s listed twice", n, name)
				}
				return nil, fmt.Errorf("codes: catalog line %d: name %s already used by %s", n, name, c.infos[j].Code.Hex())
			}
			c.byName[key] = idx
		}
		c.byCode[in.Code] = idx
		c.infos = append(c.infos, in)
	}
	if !header {
		return nil, fmt.Errorf("codes: catalog: no header line")
	}
	return c, nil
}

// parseRow parses and checks one data line of the table.
func parseRow(line string) (Info, error) {
	f := strings.Split(line, "\t")
	if len(f) != catalogColumns {
		return Info{}, fmt.Errorf("%d tab-separated columns, want %d", len(f), catalogColumns)
	}
	for i, s := range f {
		if s != strings.TrimSpace(s) {
			return Info{}, fmt.Errorf("column %d has leading or trailing white space", i+1)
		}
	}
	hexCol, signedCol, name, aliasCol, source, meaning, causes := f[0], f[1], f[2], f[3], f[4], f[5], f[6]

	if len(hexCol) != 10 || !strings.HasPrefix(hexCol, "0x") || !isHex(hexCol[2:]) {
		return Info{}, fmt.Errorf("code %q: want 0x and 8 hex digits", hexCol)
	}
	code := hexValue(hexCol[2:])
	if hexCol != code.Hex() {
		return Info{}, fmt.Errorf("code %q: write it as %s", hexCol, code.Hex())
	}
	signed, err := strconv.ParseInt(signedCol, 10, 32)
	if err != nil || int32(signed) != code.Signed() {
		return Info{}, fmt.Errorf("signed %q does not match %s: want %d", signedCol, hexCol, code.Signed())
	}
	if !isConstName(name) {
		return Info{}, fmt.Errorf("name %q: want an upper-case constant name", name)
	}
	win32, isWin32 := code.Win32()
	var aliases []string
	if aliasCol != "" {
		for _, a := range strings.Split(aliasCol, ",") {
			switch {
			case isConstName(a):
				if strings.EqualFold(a, name) {
					return Info{}, fmt.Errorf("alias %s repeats the name", a)
				}
			case isDecimal(a):
				if !isWin32 || a != strconv.FormatUint(uint64(win32), 10) {
					return Info{}, fmt.Errorf("decimal alias %s is not the Win32 error number of %s", a, hexCol)
				}
			default:
				return Info{}, fmt.Errorf("alias %q: want an upper-case constant name or a Win32 error number", a)
			}
			aliases = append(aliases, a)
		}
	}
	if err := checkSource(source); err != nil {
		return Info{}, err
	}
	if meaning == "" {
		return Info{}, fmt.Errorf("%s has no meaning", name)
	}
	in := Info{Code: code, Name: name, Aliases: aliases, Meaning: meaning, Causes: causes, Source: source}
	if isWin32 {
		in.Win32 = win32
	}
	return in, nil
}

// checkSource accepts space-separated reference tags such as [WUERR] or
// [L-WINHTTPERR], and the tag arith. used by the reference for values it
// computed.
func checkSource(s string) error {
	if s == "" {
		return fmt.Errorf("empty source")
	}
	for _, tag := range strings.Split(s, " ") {
		if tag == "arith." {
			continue
		}
		body, ok := strings.CutPrefix(tag, "[")
		body, ok2 := strings.CutSuffix(body, "]")
		if !ok || !ok2 || body == "" || strings.Trim(body, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.") != "" {
			return fmt.Errorf("source tag %q: want [TAG] or arith", tag)
		}
	}
	return nil
}

// isConstName reports whether s looks like a C constant: upper-case letters,
// digits and underscores, starting with a letter.
func isConstName(s string) bool {
	if s == "" || s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		b := s[i]
		if !(b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}
