package observe

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/wufault/wufault/codes"
)

func parseFile(t *testing.T, name string, o LogOptions) *LogResult {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := ParseLog(f, name, o)
	if err != nil {
		t.Fatalf("ParseLog(%s): %v", name, err)
	}
	return res
}

// codeList renders the codes of the entries as "line:code[field]" with a
// trailing "*" for derived codes and "!" for final entries.
func codeList(res *LogResult) []string {
	var out []string
	for _, ec := range res.Codes() {
		s := strings.TrimPrefix(ec.Found.Code.Hex(), "0x") + "@" + itoa(ec.Entry.Line) + "[" + ec.Found.Field + "]"
		if ec.Found.Derived {
			s += "*"
		}
		if ec.Entry.Final {
			s += "!"
		}
		out = append(out, s)
	}
	return out
}

func itoa(n int) string { return fmt.Sprintf("%02d", n) }

func TestLegacyLog(t *testing.T) {
	res := parseFile(t, "legacy.log", LogOptions{})
	if res.Format != FormatText && res.Format != FormatLegacy {
		t.Errorf("format %q", res.Format)
	}
	want := []string{
		"80072EE2@01[hr]",      // hr = 80072ee2 (bare, lower case)
		"80072EE2@02[hr]",      // hr = 0x80072EE2
		"8024400E@03[error]",   // error = 0x8024400E (soap fields kept as fields)
		"80244021@04[error]",   // GetConfig failure … HTTP status code = 502
		"80244021@05[pterror]", // PTError: 0x80244021
		"80072EEF@06[hr]",      // with the proxy list
		"80072EEF@07[error]",   // WinHttp: SendRequestUsingProxy failed
		"80072EEF@08[error]",   // Setup FATAL
		"80190194@09[hr]",      // BITS job; the GUID fragments are not codes
		"80244019@10[error]",   // DnldMgr Error 0x80244019
		"80246003@11[error]",   // ECP digest
		"80244010@12[trips]",   // Exceeded max server round trips: 0x80244010
	}
	got := codeList(res)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("codes:\n got %v\nwant %v", got, want)
	}
	e := res.Entries
	if len(e) < 12 {
		t.Fatalf("%d entries", len(e))
	}
	if e[0].Format != FormatLegacy || e[0].Component != "Misc" || e[0].PID != "800" || e[0].TID != "634" {
		t.Errorf("line 1 fields: %+v", e[0])
	}
	if want := time.Date(2010, 11, 23, 11, 3, 45, 106e6, time.UTC); !e[0].Time.Equal(want) {
		t.Errorf("line 1 time %v, want %v", e[0].Time, want)
	}
	if e[0].BypassList != "(null)" || e[0].AuthSchemes != "" {
		t.Errorf("line 1 lists: bypass %q auth %q", e[0].BypassList, e[0].AuthSchemes)
	}
	if e[1].HTTPStatus != 0 || e[1].Component != "PT" {
		t.Errorf("line 2: %+v", e[1])
	}
	if e[2].SOAPClientError == nil || *e[2].SOAPClientError != 7 || e[2].SOAPErrorCode == nil || *e[2].SOAPErrorCode != 400 || e[2].HTTPStatus != 200 {
		t.Errorf("line 3 soap fields: %+v", e[2])
	}
	if e[2].TID != "afc" || !e[2].Time.Equal(time.Date(2009, 3, 27, 11, 55, 29, 193e6, time.UTC)) {
		t.Errorf("line 3 tid/time: %q %v", e[2].TID, e[2].Time)
	}
	if e[3].HTTPStatus != 502 || *e[3].SOAPClientError != 10 || *e[3].SOAPErrorCode != 0 || e[3].Component != "PT" || !e[3].Time.IsZero() {
		t.Errorf("line 4: %+v", e[3])
	}
	if e[5].ProxyList != "Test:80" || e[5].AuthSchemes != "NTLM;Negotiate (NTLM or Kerberos);" {
		t.Errorf("line 6 proxy %q auth %q", e[5].ProxyList, e[5].AuthSchemes)
	}
	if e[6].URL != "http://update.microsoft.com/v6/windowsupdate/redir/wuredir.cab" {
		t.Errorf("line 7 url %q", e[6].URL)
	}
	if e[8].BGErrorContext == nil || *e[8].BGErrorContext != 5 || e[8].Component != "DnldMgr" {
		t.Errorf("line 9: %+v", e[8])
	}
	if e[10].PID != "1060" || e[10].TID != "15a8" || e[10].Component != "PT" {
		t.Errorf("line 11: %+v", e[10])
	}
}

func TestETWLog(t *testing.T) {
	for _, name := range []string{"etw.log", "etw-timestamped.log", "etw-utf16le.log"} {
		t.Run(name, func(t *testing.T) {
			res := parseFile(t, name, LogOptions{})
			want := []string{
				"80072F8F@02[failed]",
				"80072F8F@03[hr]",
				"80072EFE@05[failed]",
				"803D0013@08[errorcode]",
				"80244007@10[hr]",
				"80244007@11[pterror]",
				"80244007@12[failed]",
				"8024402C@14[returned]",
				"8024402C@15[code]!",
				"800706D9@16[error]",
				"80D0000A@17[error]",
			}
			if got := codeList(res); strings.Join(got, " ") != strings.Join(want, " ") {
				t.Errorf("codes:\n got %v\nwant %v", got, want)
			}
			var ws *Entry
			for i := range res.Entries {
				if res.Entries[i].Line == 13 {
					ws = &res.Entries[i]
				}
			}
			if ws == nil || ws.ProxyList != "(null)" || ws.BypassList != "(null)" || ws.Component != "WebServices" {
				t.Errorf("WS Proxy List line: %+v", ws)
			}
			f := res.Final()
			if f == nil || f.Codes[0].Code != 0x8024402C || f.Component != "Agent" {
				t.Errorf("final: %+v", f)
			}
			if name != "etw.log" {
				if res.Format != FormatETW {
					t.Errorf("format %q, want etw", res.Format)
				}
				if want := time.Date(2020, 5, 8, 10, 0, 15, 15000*100, time.UTC); !f.Time.Equal(want) || f.PID != "1276" || f.TID != "3628" {
					t.Errorf("final time %v pid %q tid %q, want %v", f.Time, f.PID, f.TID, want)
				}
			}
			if name == "etw-utf16le.log" && res.Encoding != EncodingUTF16LE {
				t.Errorf("encoding %q", res.Encoding)
			}
			if len(res.Warnings) != 0 {
				t.Errorf("warnings: %v", res.Warnings)
			}
		})
	}
}

func TestETWDateSeparators(t *testing.T) {
	for _, line := range []string{
		"2018.10.21 12:08:49.8046643 1276 3628 Agent Exit code = 0x8024402C",
		"2020/05/08 12:08:49.8046643 1276 3628 Agent Exit code = 0x8024402C",
		"2018-10-21 12:08:49.8046643 1276 3628 Agent Exit code = 0x8024402C",
	} {
		e, ok := parseLine(line, LogOptions{Location: time.UTC})
		if !ok || e.Format != FormatETW || e.Time.IsZero() || e.Time.Nanosecond() != 804664300 || len(e.Codes) != 1 || !e.Final {
			t.Errorf("%q: %+v", line, e)
		}
	}
}

func TestUTF16WithoutBOM(t *testing.T) {
	res := parseFile(t, "legacy-utf16le-nobom.log", LogOptions{})
	if res.Encoding != EncodingUTF16LE {
		t.Errorf("encoding %q", res.Encoding)
	}
	if got := len(res.Codes()); got != 12 {
		t.Errorf("%d codes, want 12", got)
	}
}

func TestUTF16BigEndian(t *testing.T) {
	var b bytes.Buffer
	b.Write([]byte{0xFE, 0xFF})
	for _, u := range utf16.Encode([]rune("Agent           Exit code = 0x8024402C\r\n")) {
		b.Write([]byte{byte(u >> 8), byte(u)})
	}
	res, err := ParseLog(&b, "be.log", LogOptions{})
	if err != nil || res.Encoding != EncodingUTF16BE || len(res.Codes()) != 1 {
		t.Fatalf("err %v, result %+v", err, res)
	}
}

func TestReportingEventsLog(t *testing.T) {
	res := parseFile(t, "reporting.log", LogOptions{})
	if len(res.Entries) != 1 {
		t.Fatalf("entries: %+v", res.Entries)
	}
	e := res.Entries[0]
	want := time.Date(2015, 3, 23, 23, 39, 34, 484e6, time.UTC)
	if e.Format != FormatReporting || e.Component != "AGENT_DOWNLOAD_FAILED" || !e.Time.Equal(want) || len(e.Codes) != 1 || e.Codes[0].Code != 0x80200056 {
		t.Errorf("entry %+v (time %v, want %v)", e, e.Time.UTC(), want)
	}
}

func TestLocation(t *testing.T) {
	loc := time.FixedZone("lab", 2*3600)
	res := parseFile(t, "legacy.log", LogOptions{Location: loc})
	if want := time.Date(2010, 11, 23, 9, 3, 45, 106e6, time.UTC); !res.Entries[0].Time.Equal(want) {
		t.Errorf("time %v, want %v", res.Entries[0].Time.UTC(), want)
	}
}

func TestFindCodesSpellings(t *testing.T) {
	cases := []struct {
		text string
		want []codes.Code
	}{
		{"error = 0x80244021", []codes.Code{0x80244021}},
		{"hr=0X80244007", []codes.Code{0x80244007}},
		{"failed with hr = 80072ee2.", []codes.Code{0x80072EE2}},
		{"*FAILED* [80072F8F] WinHttp", []codes.Code{0x80072F8F}},
		{"error=-2145107946", []codes.Code{0x80244016}},
		{"Exit code = 0x00000000", []codes.Code{codes.OK}},
		{"updateId = {9829AC5C-0B3E-4C2A-9D3F-0123456789AB}.100", nil},
		{"hash A2E8C22844A4E6926F9C841B0D5AEEC8400811B6", nil},
		{"size 12345678 bytes", nil},                          // a bare 8-digit number outside the WU facilities
		{"value 80240022 reported", []codes.Code{0x80240022}}, // bare, but in a WU facility
		{"hr = 12345678", nil},                                // labelled, but not a failure code
		{"status 0x80190194 and 0x80244019", []codes.Code{0x80190194, 0x80244019}},
		{"", nil},
	}
	for _, c := range cases {
		var got []codes.Code
		for _, f := range findCodes(c.text) {
			got = append(got, f.Code)
		}
		if len(got) != len(c.want) {
			t.Errorf("findCodes(%q) = %v, want %v", c.text, got, c.want)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("findCodes(%q) = %v, want %v", c.text, got, c.want)
			}
		}
	}
}

func TestDerivedCodes(t *testing.T) {
	// Lines with only the structured fields: the code follows from them.
	cases := []struct {
		text string
		want codes.Code
	}{
		{"PT WARNING: SyncUpdates failure, soap client error = 10, soap error code = 0, HTTP status code = 407", 0x8024400A},
		{"PT WARNING: soap error code = 300", 0x8024400D},
		{"PT WARNING: GetCookie failure, HTTP status code = 407", 0x8024401B},
	}
	for _, c := range cases {
		e, _ := parseLine(c.text, LogOptions{Location: time.UTC})
		if len(e.Codes) != 1 || e.Codes[0].Code != c.want || !e.Codes[0].Derived {
			t.Errorf("%q: codes %+v, want derived %s", c.text, e.Codes, c.want)
		}
	}
}

func TestGarbageLogs(t *testing.T) {
	cases := []struct {
		name    string
		in      []byte
		wantErr error
	}{
		{"empty", nil, nil},
		{"binary", bytes.Repeat([]byte{0x00, 0xFF, 0x13, 0x88, 0x9A}, 3000), ErrNotALog},
		{"long line", append(bytes.Repeat([]byte("A"), 200<<10), []byte("\nAgent Exit code = 0x8024402C\n")...), nil},
		{"odd utf16", []byte{0xFF, 0xFE, 'A', 0, 'g', 0, 'e'}, nil},
		{"xml garbage", []byte("<Event><System><EventID>25</EventID"), ErrNotALog},
		{"only a bom", []byte{0xEF, 0xBB, 0xBF}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := ParseLog(bytes.NewReader(c.in), c.name, LogOptions{})
			if res == nil {
				t.Fatal("nil result")
			}
			if c.wantErr == nil && err != nil || c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("err %v, want %v", err, c.wantErr)
			}
		})
	}
	res, _ := ParseLog(bytes.NewReader(append(bytes.Repeat([]byte("A"), 200<<10), []byte("\nAgent Exit code = 0x8024402C\n")...)), "long", LogOptions{})
	if len(res.Codes()) != 1 || len(res.Warnings) != 1 {
		t.Errorf("long line: codes %d warnings %v", len(res.Codes()), res.Warnings)
	}
}

func TestEventXML(t *testing.T) {
	res := parseFile(t, "events-operational.xml", LogOptions{})
	if res.Format != FormatEvent || res.Lines != 4 {
		t.Fatalf("format %q lines %d", res.Format, res.Lines)
	}
	got := codeList(res)
	want := []string{"8024402C@01[errorcode]!", "80072EFE@02[errorcode]", "80072EE2@04[error]!"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("codes %v, want %v", got, want)
	}
	e := res.Entries[0]
	if e.EventID != 25 || e.Channel != "Microsoft-Windows-WindowsUpdateClient/Operational" || e.Component != "WindowsUpdateClient" ||
		!e.Time.Equal(time.Date(2024, 5, 10, 9, 12, 13, 504652200, time.UTC)) || !strings.Contains(e.Text, "failed to check for updates") {
		t.Errorf("event 25: %+v", e)
	}

	res = parseFile(t, "events-system.xml", LogOptions{})
	got = codeList(res)
	want = []string{"8024402C@01[errorcode]", "80246002@02[errorcode]"}
	if strings.Join(got, " ") != strings.Join(want, " ") || len(res.Warnings) != 1 {
		t.Errorf("system: codes %v, want %v; warnings %v", got, want, res.Warnings)
	}

	res = parseFile(t, "events-bits.xml", LogOptions{})
	got = codeList(res)
	want = []string{"80190194@02[hr]", "80072EE7@03[hr]"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("bits: codes %v, want %v", got, want)
	}
	if e := res.Entries[0]; e.EventID != 60 || e.ProxyList != "lab-proxy:8080" || !strings.HasPrefix(e.URL, "http://download.windowsupdate.com/") {
		t.Errorf("bits 60: %+v", e)
	}
}

func TestEventXMLTruncatedAndUTF16(t *testing.T) {
	b, err := os.ReadFile("testdata/events-operational.xml")
	if err != nil {
		t.Fatal(err)
	}
	cut := b[:len(b)*2/3]
	res, err := ParseLog(bytes.NewReader(cut), "cut.xml", LogOptions{})
	if err != nil || len(res.Entries) != 2 || len(res.Warnings) == 0 {
		t.Errorf("truncated: err %v, %d entries, warnings %v", err, len(res.Entries), res.Warnings)
	}
	var u bytes.Buffer
	u.Write([]byte{0xFF, 0xFE})
	for _, c := range utf16.Encode([]rune(string(b))) {
		u.Write([]byte{byte(c), byte(c >> 8)})
	}
	res, err = ParseLog(&u, "utf16.xml", LogOptions{})
	if err != nil || len(res.Codes()) != 3 {
		t.Errorf("utf-16: err %v, codes %d", err, len(res.Codes()))
	}
}

// Lines the parser used to miss: a component after a hex PID and TID with
// no timestamp, a bracketed component, tracefmt's ETW rendering with its
// MM/DD/YYYY-HH:MM:SS.fff time, and BITS's "using proxy = host:port".
func TestLogParserGaps(t *testing.T) {
	loc := LogOptions{Location: time.UTC}
	e, ok := parseLine("03E4 1668 Misc Send request failed, hr:0x80072ee2", loc)
	if !ok || e.Component != "Misc" || e.PID != "03E4" || e.TID != "1668" || len(e.Codes) != 1 || e.Codes[0].Code != 0x80072EE2 {
		t.Errorf("timestamp-less hex PID: %+v", e)
	}
	e, ok = parseLine("[DownloadManager] BITS job {C6E2F6DC-5B78-4608-B6F1-0678C23614BD} failed, error = 0x80200013", loc)
	if !ok || e.Component != "DownloadManager" || len(e.Codes) != 1 {
		t.Errorf("bracketed component: %+v", e)
	}
	e, ok = parseLine("DownloadManager [0]12F4.1FE8::09/29/2017-13:45:08.530 [agent]DO job {C6E2F6DC-5B78-4608-B6F1-0678C23614BD} hit a transient error, updateId = 5537BD35-BB74-40B2-A8C3-B696D3C97CBA.201 <NULL>, error = 0x80D0000A", loc)
	want := time.Date(2017, 9, 29, 13, 45, 8, 530_000_000, time.UTC)
	if !ok || e.Format != FormatETW || e.Component != "DownloadManager" || !e.Time.Equal(want) || e.PID != "12F4" || e.TID != "1FE8" || len(e.Codes) != 1 || e.Codes[0].Code != 0x80D0000A {
		t.Errorf("tracefmt ETW line: %+v (time %s)", e, e.Time)
	}
	e, ok = parseLine("2018-10-21 12:08:49:804 1012 1a4 BITS job 7 transfer using proxy = proxy.corp.example:8080", loc)
	if !ok || e.ProxyList != "proxy.corp.example:8080" {
		t.Errorf("BITS proxy: %+v", e)
	}
}
