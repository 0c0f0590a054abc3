package codes

import (
	"bufio"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestEmbeddedCatalog guards the panic in mustLoad: a malformed embedded
// table fails here with its line number.
func TestEmbeddedCatalog(t *testing.T) {
	c, err := loadCatalog(catalogTSV)
	if err != nil {
		t.Fatal(err)
	}
	g, err := loadCatalog(generatedTSV)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.infos) < 250 || len(g.infos) < 3000 || len(All()) != len(mustMerge(c, g).infos) {
		t.Errorf("hand table %d entries, generated %d, All() %d", len(c.infos), len(g.infos), len(All()))
	}
}

func TestLoadCatalogRejects(t *testing.T) {
	const head = "# comment\n" + catalogHeader + "\n"
	const good = "0x80072EFE\t-2147012866\tWININET_E_CONNECTION_ABORTED\tERROR_WINHTTP_CONNECTION_ERROR,12030\t[WINERR]\tReset.\t"
	// edited is the table with one change to the good row.
	edited := func(from, to string) string { return head + strings.Replace(good, from, to, 1) }
	tests := []struct {
		name string
		data string
		want string // fragment of the error, after "line N:"
	}{
		{"no header", good + "\n", "line 1: header"},
		{"empty", "# only a comment\n", "no header"},
		{"too few columns", head + "0x80072EFE\t-2147012866\tX\n", "line 3: 3 tab-separated columns"},
		{"too many columns", head + good + "\textra\n", "line 3: 8 tab-separated columns"},
		{"lower-case hex", edited("0x80072EFE", "0x80072efe"), "line 3: code \"0x80072efe\": write it as 0x80072EFE"},
		{"short hex", edited("0x80072EFE", "0x2EFE"), "line 3: code \"0x2EFE\""},
		{"signed mismatch", edited("-2147012866", "-2147012865"), "line 3: signed \"-2147012865\" does not match"},
		{"signed unsigned", edited("-2147012866", "2147954430"), "line 3: signed"},
		{"bad name", edited("WININET_E_CONNECTION_ABORTED", "wininet_e_connection_aborted"), "line 3: name"},
		{"bad alias", edited(",12030", ",12 030"), "line 3: alias"},
		{"wrong decimal alias", edited(",12030", ",12029"), "line 3: decimal alias 12029"},
		{"decimal alias off win32", head + "0x8024402C\t-2145107924\tWU_E_PT_WINHTTP_NAME_NOT_RESOLVED\t12007\t[WUERR]\tDNS.\t\n", "line 3: decimal alias 12007"},
		{"alias repeats name", edited("ERROR_WINHTTP_CONNECTION_ERROR", "WININET_E_CONNECTION_ABORTED"), "line 3: alias WININET_E_CONNECTION_ABORTED repeats the name"},
		{"alias twice", edited(",12030", ",ERROR_WINHTTP_CONNECTION_ERROR"), "line 3: name ERROR_WINHTTP_CONNECTION_ERROR listed twice"},
		{"empty alias", edited(",12030", ","), "line 3: alias \"\""},
		{"bad source", edited("[WINERR]", "WINERR"), "line 3: source tag \"WINERR\""},
		{"empty source", edited("[WINERR]", ""), "line 3: empty source"},
		{"no meaning", edited("Reset.", ""), "line 3: WININET_E_CONNECTION_ABORTED has no meaning"},
		{"padded column", edited("Reset.", "Reset. "), "line 3: column 6"},
		{"duplicate code", head + good + "\n" + good + "\n", "line 4: 0x80072EFE is not above the previous code"},
		{"unsorted", head + good + "\n0x80072EFD\t-2147012867\tWININET_E_CANNOT_CONNECT\t\t[WINERR]\tRefused.\t\n", "line 4: 0x80072EFD is not above"},
		{"duplicate name", head + good + "\n0x80072EFF\t-2147012865\tERROR_WINHTTP_CONNECTION_ERROR\t\t[WINERR]\tX.\t\n", "line 4: name ERROR_WINHTTP_CONNECTION_ERROR already used by 0x80072EFE"},
		{"duplicate name other case", head + good + "\n0x80072EFF\t-2147012865\tWININET_E_CONNECTION_RESET\tWININET_E_CONNECTION_ABORTED\t[WINERR]\tX.\t\n", "line 4: name WININET_E_CONNECTION_ABORTED already used"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadCatalog(tt.data)
			if err == nil {
				t.Fatalf("loadCatalog accepted:\n%s", tt.data)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
		})
	}
	// And the accepted direction: comments, blank lines, CRLF, an empty
	// causes column and no aliases are fine.
	ok := "\r\n# c\r\n" + catalogHeader + "\r\n\r\n" + good + "\r\n# between\n0x80072EFF\t-2147012865\tWININET_E_CONNECTION_RESET\t\t[WINERR] arith.\tReset (WinINet).\tCauses.\n"
	c, err := loadCatalog(ok)
	if err != nil {
		t.Fatalf("loadCatalog(valid) error: %v", err)
	}
	if len(c.infos) != 2 || c.infos[0].Win32 != 12030 || len(c.infos[1].Aliases) != 0 || c.infos[1].Causes != "Causes." {
		t.Errorf("loadCatalog(valid) = %+v", c.infos)
	}
}

func TestMustLoadPanicNamesLine(t *testing.T) {
	defer func() {
		r := recover()
		if err, ok := r.(error); !ok || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("mustLoad panicked with %v, want an error naming line 2", r)
		}
	}()
	mustLoad(catalogHeader + "\nnot a row\n")
	t.Error("mustLoad did not panic")
}

// TestSignedColumn re-reads the embedded table independently of
// loadCatalog and checks that every row's signed decimal is the int32 of its
// code, and that the row is what Lookup returns.
func TestSignedColumn(t *testing.T) {
	rows := 0
	for n, line := range strings.Split(catalogTSV+"\n"+generatedTSV, "\n") {
		if line == "" || line[0] == '#' || line == catalogHeader {
			continue
		}
		f := strings.Split(line, "\t")
		u, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 32)
		if err != nil {
			t.Errorf("line %d: code %q: %v", n+1, f[0], err)
			continue
		}
		s, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil || s != int64(int32(uint32(u))) {
			t.Errorf("line %d: signed %s, want %d for %s", n+1, f[1], int32(uint32(u)), f[0])
		}
		if in, ok := Lookup(Code(u)); !ok || in.Name != f[2] || in.Meaning != f[5] {
			t.Errorf("line %d: Lookup(%s) = %+v, %v; want name %s", n+1, f[0], in, ok, f[2])
		}
		rows++
	}
	if rows != len(All()) {
		t.Errorf("table has %d rows, catalog %d entries", rows, len(All()))
	}
}

func TestErrata(t *testing.T) {
	lookup := func(c Code) Info {
		t.Helper()
		in, ok := Lookup(c)
		if !ok {
			t.Fatalf("Lookup(%s) failed", c.Hex())
		}
		return in
	}
	if in := lookup(0x80244020); in.Name != "WU_E_PT_HTTP_STATUS_NOT_SUPPORTED" || !strings.Contains(in.Meaning, "501") {
		t.Errorf("0x80244020 = %s %q; want WU_E_PT_HTTP_STATUS_NOT_SUPPORTED meaning HTTP 501", in.Name, in.Meaning)
	}
	if in := lookup(0x80244023); in.Name != "WU_E_PT_HTTP_STATUS_GATEWAY_TIMEOUT" || !strings.Contains(in.Meaning, "504") {
		t.Errorf("0x80244023 = %s %q; want WU_E_PT_HTTP_STATUS_GATEWAY_TIMEOUT meaning HTTP 504", in.Name, in.Meaning)
	}
	// 0x80072EE7 is name-not-resolved, not a timeout.
	in := lookup(0x80072EE7)
	if in.Name != "WININET_E_NAME_NOT_RESOLVED" || !slices.Contains(in.Aliases, "ERROR_WINHTTP_NAME_NOT_RESOLVED") || in.Win32 != 12007 {
		t.Errorf("0x80072EE7 = %s %v %d; want WININET_E_NAME_NOT_RESOLVED, alias ERROR_WINHTTP_NAME_NOT_RESOLVED, 12007", in.Name, in.Aliases, in.Win32)
	}
	if !strings.Contains(in.Meaning, "resolved") {
		t.Errorf("0x80072EE7 meaning %q does not say name not resolved", in.Meaning)
	}
	for _, w := range []string{"timeout", "timed out", "time out", "time-out"} {
		if strings.Contains(strings.ToLower(in.Meaning), w) {
			t.Errorf("0x80072EE7 meaning %q claims a timeout (%q)", in.Meaning, w)
		}
	}
	if in := lookup(0x8007274C); in.Name != "WSAETIMEDOUT" || in.Win32 != 10060 || !strings.Contains(in.Meaning, "timed out") {
		t.Errorf("0x8007274C = %s %d %q; want WSAETIMEDOUT, 10060, a timeout", in.Name, in.Win32, in.Meaning)
	}
	if c, err := Parse("WSAETIMEDOUT"); err != nil || c != 0x8007274C {
		t.Errorf("Parse(WSAETIMEDOUT) = %v, %v; want 0x8007274C", c, err)
	}
	if in := lookup(0x8007274D); in.Name != "WSAECONNREFUSED" {
		t.Errorf("0x8007274D = %s, want WSAECONNREFUSED", in.Name)
	}
	if in := lookup(0x80072746); in.Name != "WSAECONNRESET" {
		t.Errorf("0x80072746 = %s, want WSAECONNRESET", in.Name)
	}
	// Redirector "unexpected" is 0x802450FF, not 0x80245FFF.
	if in := lookup(0x802450FF); in.Name != "WU_E_REDIRECTOR_UNEXPECTED" {
		t.Errorf("0x802450FF = %s, want WU_E_REDIRECTOR_UNEXPECTED", in.Name)
	}
	if in, ok := Lookup(0x80245FFF); ok {
		t.Errorf("0x80245FFF is in the catalog as %s; it is a misprint", in.Name)
	}
	// 0x80240439 is WU_E_PT_INVALID_FORMAT; WU_E_NOT_INITIALIZED is 0x80240004.
	if in := lookup(0x80240439); in.Name != "WU_E_PT_INVALID_FORMAT" {
		t.Errorf("0x80240439 = %s, want WU_E_PT_INVALID_FORMAT", in.Name)
	}
	if in, _ := LookupName("WU_E_NOT_INITIALIZED"); in.Code != 0x80240004 {
		t.Errorf("WU_E_NOT_INITIALIZED = %s, want 0x80240004", in.Code.Hex())
	}
	// WS_E_* are 0x803D00xx; nothing in 0x804Dxxxx.
	for _, in := range All() {
		if strings.HasPrefix(in.Name, "WS_E_") && in.Code&0xFFFFFF00 != 0x803D0000 {
			t.Errorf("%s = %s, want 0x803D00xx", in.Name, in.Code.Hex())
		}
		if in.Code&0xFFFF0000 == 0x804D0000 {
			t.Errorf("%s = %s is in the 0x804Dxxxx range", in.Name, in.Code.Hex())
		}
	}
	if in := lookup(0x803D0013); in.Name != "WS_E_ENDPOINT_FAULT_RECEIVED" {
		t.Errorf("0x803D0013 = %s, want WS_E_ENDPOINT_FAULT_RECEIVED", in.Name)
	}
	// 0x80D0000A has no name in the reference: it must stay out.
	if in, ok := Lookup(0x80D0000A); ok {
		t.Errorf("0x80D0000A is in the catalog as %s; the reference found no name", in.Name)
	}
	// Names that do not exist.
	for _, name := range []string{"WU_E_PT_NO_TRANSLATION", "ERROR_WINHTTP_CONNECTION_RESET", "TIME_OUT_ERRORS", "12031X"} {
		if in, ok := LookupName(name); ok {
			t.Errorf("LookupName(%q) = %s; the name does not exist", name, in.Code.Hex())
		}
	}
	if in := lookup(0x80240447); in.Name != "WU_E_PT_NO_TRANSLATION_AVAILABLE" {
		t.Errorf("0x80240447 = %s, want WU_E_PT_NO_TRANSLATION_AVAILABLE", in.Name)
	}
	// 0x80072F8F: WinINet name first, WinHTTP SECURE_FAILURE as alias and in the meaning.
	if in := lookup(0x80072F8F); in.Name != "WININET_E_DECODING_FAILED" || !slices.Contains(in.Aliases, "ERROR_WINHTTP_SECURE_FAILURE") || !strings.Contains(in.Meaning, "SECURE_FAILURE") {
		t.Errorf("0x80072F8F = %s %v %q", in.Name, in.Aliases, in.Meaning)
	}
	if got := MustParse("0x80072EFE").String(); got != "0x80072EFE (WININET_E_CONNECTION_ABORTED)" {
		t.Errorf("String() = %q", got)
	}
	if in := lookup(OK); in.Name != "S_OK" || in.Meaning == "" {
		t.Errorf("S_OK = %+v", in)
	}
}

// refLine is one line of a testdata code list: hex, then optional signed
// decimal, then the primary name and required aliases.
type refLine struct {
	line    int
	code    Code
	signed  string // empty in seed004_codes.txt
	name    string
	aliases []string
}

func readCodeList(t *testing.T, path string, withSigned bool) []refLine {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []refLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		minFields := 2
		if withSigned {
			minFields = 3
		}
		if len(f) < minFields {
			t.Fatalf("%s:%d: want at least %d fields: %q", path, n, minFields, line)
		}
		u, err := strconv.ParseUint(strings.TrimPrefix(f[0], "0x"), 16, 32)
		if err != nil || !strings.HasPrefix(f[0], "0x") || len(f[0]) != 10 {
			t.Fatalf("%s:%d: bad code %q", path, n, f[0])
		}
		r := refLine{line: n, code: Code(u)}
		if withSigned {
			r.signed, f = f[1], f[1:]
		}
		r.name, r.aliases = f[1], f[2:]
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSeed004 checks that every code of seed 004 is in the catalog with
// exactly the seed's name, tagged with the page it translates and wuerror.h.
func TestSeed004(t *testing.T) {
	const path = "testdata/seed004_codes.txt"
	list := readCodeList(t, path, false)
	if len(list) != 75 {
		t.Errorf("%s has %d codes, want 75 (9 WU_S_*, 66 WU_E_*)", path, len(list))
	}
	for _, r := range list {
		in, ok := Lookup(r.code)
		if !ok {
			t.Errorf("%s:%d: %s %s is not in the catalog", path, r.line, r.code.Hex(), r.name)
			continue
		}
		if in.Name != r.name {
			t.Errorf("%s:%d: %s is named %s, want %s", path, r.line, r.code.Hex(), in.Name, r.name)
		}
		if !strings.Contains(in.Source, "[L-WUAERR]") || !strings.Contains(in.Source, "[WUERR]") {
			t.Errorf("%s:%d: %s source %q, want [L-WUAERR] and [WUERR]", path, r.line, r.name, in.Source)
		}
		wantFac := FacilityWindowsUpdate
		if in.Code.Facility() != wantFac {
			t.Errorf("%s facility %v, want %v", r.name, in.Code.Facility(), wantFac)
		}
	}
}

// TestReferenceCodes checks every row of wu-codes.md sections 1 and 2.1-2.6,
// as extracted into testdata/reference_codes.txt.
func TestReferenceCodes(t *testing.T) {
	const path = "testdata/reference_codes.txt"
	list := readCodeList(t, path, true)
	if len(list) != 209 {
		t.Errorf("%s has %d codes, want 209", path, len(list))
	}
	for _, r := range list {
		where := fmt.Sprintf("%s:%d: %s", path, r.line, r.code.Hex())
		if want := strconv.FormatInt(int64(r.code.Signed()), 10); r.signed != want {
			t.Errorf("%s: reference signed %s, want %s", where, r.signed, want)
		}
		in, ok := Lookup(r.code)
		if !ok {
			t.Errorf("%s %s is not in the catalog", where, r.name)
			continue
		}
		if in.Name != r.name {
			t.Errorf("%s is named %s, want %s", where, in.Name, r.name)
		}
		for _, a := range r.aliases {
			if !slices.Contains(in.Aliases, a) {
				t.Errorf("%s (%s) lacks alias %s: %v", where, in.Name, a, in.Aliases)
			}
		}
	}
}

// TestWin32Names checks the naming rule for FACILITY_WIN32 codes: the decimal
// alias and Info.Win32 agree with the value, and a WinHTTP constant is the
// primary name only when winerror.h has no WININET_E_* name for the value.
func TestWin32Names(t *testing.T) {
	for _, in := range All() {
		n, isWin32 := in.Code.Win32()
		if in.Win32 != n {
			t.Errorf("%s: Info.Win32 = %d, want %d", in.Code, in.Win32, n)
		}
		if !isWin32 {
			for _, a := range in.Aliases {
				if isDecimal(a) {
					t.Errorf("%s: decimal alias %s on a non-Win32 code", in.Code, a)
				}
			}
			continue
		}
		if !slices.Contains(in.Aliases, strconv.FormatUint(uint64(n), 10)) {
			t.Errorf("%s: no decimal alias %d", in.Code, n)
		}
		winhttp := 0
		for _, a := range in.Aliases {
			if strings.HasPrefix(a, "ERROR_WINHTTP_") {
				winhttp++
			}
			if strings.HasPrefix(a, "WININET_E_") {
				t.Errorf("%s: WININET_E_ name %s is an alias, want it primary", in.Code, a)
			}
		}
		switch {
		case strings.HasPrefix(in.Name, "WININET_E_"), strings.HasPrefix(in.Name, "WSAE"):
		case strings.HasPrefix(in.Name, "ERROR_WINHTTP_"):
			if winhttp != 0 {
				t.Errorf("%s: two ERROR_WINHTTP_ names", in.Code)
			}
		case in.Source == "[XSYS]":
			// Generated: the Win32 or COM name the SDK gives the value.
		default:
			t.Errorf("%s: unexpected primary name %s for a Win32 code", in.Code, in.Name)
		}
	}
	for _, tt := range []struct {
		name string
		want Code
	}{
		{"ERROR_WINHTTP_CONNECTION_ERROR", 0x80072EFE},
		{"12030", 0x80072EFE},
		{"error_winhttp_cannot_connect", 0x80072EFD},
		{"ERROR_WINHTTP_TIMEOUT", 0x80072EE2},
		{"ERROR_WINHTTP_SECURE_FAILURE", 0x80072F8F},
		{"HTTP_E_STATUS_NOT_FOUND", 0x80190194},
	} {
		if in, ok := LookupName(tt.name); !ok || in.Code != tt.want {
			t.Errorf("LookupName(%q) = %s, %v; want %s", tt.name, in.Code.Hex(), ok, tt.want.Hex())
		}
	}
}

func TestAll(t *testing.T) {
	all := All()
	names := map[string]Code{}
	for i, in := range all {
		if i > 0 && in.Code <= all[i-1].Code {
			t.Errorf("All() not strictly sorted at %d: %s after %s", i, in.Code.Hex(), all[i-1].Code.Hex())
		}
		if _, ok := facilityNames[in.Code.Facility()]; !ok {
			t.Errorf("%s: facility %v has no name", in.Code, in.Code.Facility())
		}
		if in.Name == "" || in.Meaning == "" || in.Source == "" {
			t.Errorf("%s: empty name, meaning or source: %+v", in.Code.Hex(), in)
		}
		if strings.ContainsAny(in.Meaning+in.Causes, "\t\n") {
			t.Errorf("%s: meaning or causes spans lines", in.Code)
		}
		if got := in.Code.String(); got != in.Code.Hex()+" ("+in.Name+")" {
			t.Errorf("String() = %q", got)
		}
		for _, name := range append([]string{in.Name}, in.Aliases...) {
			if prev, dup := names[strings.ToUpper(name)]; dup {
				t.Errorf("name %s on both %s and %s", name, prev.Hex(), in.Code.Hex())
			}
			names[strings.ToUpper(name)] = in.Code
			if got, ok := LookupName(strings.ToLower(name)); !ok || got.Code != in.Code {
				t.Errorf("LookupName(%q) = %s, %v; want %s", strings.ToLower(name), got.Code.Hex(), ok, in.Code.Hex())
			}
		}
	}
	// Results are copies: changing them leaves the catalog alone.
	all[0].Name = "CHANGED"
	in, _ := Lookup(0x80072EFE)
	in.Aliases[0] = "CHANGED"
	if again, _ := Lookup(0x80072EFE); again.Aliases[0] == "CHANGED" || All()[0].Name == "CHANGED" {
		t.Error("modifying a returned Info changed the catalog")
	}
	counts := map[Facility]int{}
	for _, in := range all {
		counts[in.Code.Facility()]++
	}
	t.Logf("catalog: %d codes; by facility: %v", len(all), counts)
}

// TestConcurrentUse exercises the read-only catalog from many goroutines,
// for the race detector.
func TestConcurrentUse(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, in := range All() {
				if c, err := Parse(in.Name); err != nil || c != in.Code {
					t.Errorf("Parse(%q) = %v, %v", in.Name, c, err)
					return
				}
				_ = in.Code.String()
				if _, ok := Lookup(in.Code); !ok {
					t.Errorf("Lookup(%s) failed", in.Code)
					return
				}
			}
		}()
	}
	wg.Wait()
}
