package observe

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const journalJSONL = `{"seq":1,"time":"2020-05-08T10:00:00Z","event":"scenario","scenario":"nx","detail":"1 faults, seed 1"}
{"seq":2,"time":"2020-05-08T10:00:01.5Z","event":"dns.query","service":"dns","host":"fe3.delivery.mp.microsoft.com","rcode":"NXDOMAIN"}
{"seq":3,"time":"2020-05-08T10:00:01.5Z","event":"fault","scenario":"nx","service":"dns","host":"fe3.delivery.mp.microsoft.com","phase":"resolve","fault":"dns.nxdomain","rule":1,"detail":"NXDOMAIN"}
not json at all
{"seq":4,"time":"2020-05-08T10:00:14Z","event":"fault","scenario":"nx","conn":7,"fault":"tcp.reset","rule":2,"phase":"body","detail":"reset after 512 bytes"}

{"seq":5,"time":"2020-05-08T10:10:00Z","event":"fault","fault":"tcp.stall","rule":3}
{"seq":6,"ti`

func TestReadJournalAndCorrelate(t *testing.T) {
	ev, warns, err := ReadJournal(strings.NewReader(journalJSONL))
	if err != nil {
		t.Fatal(err)
	}
	if len(ev) != 5 || len(warns) != 2 {
		t.Fatalf("%d events, warnings %v", len(ev), warns)
	}
	res := parseFileInternal(t, "etw-timestamped.log")
	cor := Correlate(res.Entries, ev, 5*time.Second)
	got := map[string]string{}
	for _, c := range cor {
		k := c.Found.Code.Hex() + "@" + c.Entry.Time.Format("15:04:05")
		if c.Fault != nil {
			got[k] = c.Fault.Fault + " " + c.Offset.String()
		} else {
			got[k] = "-"
		}
	}
	want := map[string]string{
		"0x80072F8F@10:00:02": "dns.nxdomain 500.2ms", // the nearest firing, 0.5 s before
		"0x80072F8F@10:00:03": "dns.nxdomain 1.5003s",
		"0x80072EFE@10:00:05": "dns.nxdomain 3.5005s", // 3.5 s after the NXDOMAIN, 9 s before the reset
		"0x803D0013@10:00:08": "-",                    // 6.5 s and 6 s away: outside the window
		"0x8024402C@10:00:14": "tcp.reset 1.4ms",
		"0x8024402C@10:00:15": "tcp.reset 1.0015s",
		"0x80D0000A@10:00:17": "tcp.reset 3.0017s",
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: got %q, want %q", k, got[k], w)
		}
	}
	// An entry without a time never matches.
	none := Correlate([]Entry{{Codes: []Found{{Code: 0x8024402C}}}}, ev, time.Hour)
	if len(none) != 1 || none[0].Fault != nil {
		t.Errorf("untimed entry matched: %+v", none)
	}
}

func parseFileInternal(t *testing.T, name string) *LogResult {
	return parseFile(t, name, LogOptions{})
}

// GET /journal answers a JSON array (indented); ReadJournal reads it as it
// reads the streamed lines, and correlates the same.
func TestReadJournalArray(t *testing.T) {
	lines, _, err := ReadJournal(strings.NewReader(journalJSONL))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.MarshalIndent(lines, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	ev, warns, err := ReadJournal(strings.NewReader("\n" + string(b) + "\n"))
	if err != nil || len(warns) != 0 || len(ev) != len(lines) {
		t.Fatalf("%d events of %d, warnings %v, err %v", len(ev), len(lines), warns, err)
	}
	res := parseFileInternal(t, "etw-timestamped.log")
	if a, b := len(Correlate(res.Entries, ev, 5*time.Second)), len(Correlate(res.Entries, lines, 5*time.Second)); a != b || a == 0 {
		t.Errorf("array gives %d correlations, lines %d", a, b)
	}
	// An array cut short keeps the events before the cut and says so.
	ev, warns, err = ReadJournal(strings.NewReader(string(b[:len(b)/2])))
	if err != nil || len(ev) == 0 || len(ev) >= len(lines) || len(warns) != 1 {
		t.Errorf("cut array: %d events, warnings %v, err %v", len(ev), warns, err)
	}
	if _, _, err := ReadJournal(strings.NewReader("[")); err != nil {
		t.Errorf("lone bracket: %v", err)
	}
}
