package observe

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"
)

// JournalEvent is one line of the world's journal as the control API
// streams it (JSON lines, the fields of simulate.Event). Unknown fields
// are ignored, so the journal may grow.
type JournalEvent struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"event"`
	Scenario string    `json:"scenario,omitempty"`
	Conn     uint64    `json:"conn,omitempty"`
	Req      uint64    `json:"req,omitempty"`
	Service  string    `json:"service,omitempty"`
	Client   string    `json:"client,omitempty"`
	Host     string    `json:"host,omitempty"`
	Method   string    `json:"method,omitempty"`
	Path     string    `json:"path,omitempty"`
	Class    string    `json:"class,omitempty"`
	Phase    string    `json:"phase,omitempty"`
	Fault    string    `json:"fault,omitempty"`
	Rule     int       `json:"rule,omitempty"`
	Status   int       `json:"status,omitempty"`
	Rcode    string    `json:"rcode,omitempty"`
	Bytes    int64     `json:"bytes,omitempty"`
	Code     string    `json:"code,omitempty"`
	Detail   string    `json:"detail,omitempty"`
}

// Journal event kinds this package looks at (simulate's EventFault and
// EventReport).
const (
	JournalFault  = "fault"
	JournalReport = "report"
)

// ReadJournal reads the journal as the control API gives it: JSON lines
// (GET /journal/stream) or one JSON array (GET /journal). In lines, blank
// lines are skipped and a line that is not an event is skipped with a
// warning (a journal cut mid-line still gives every complete event); at
// most 1 MiB is read per line. An array cut short gives the events before
// the cut, with a warning.
func ReadJournal(r io.Reader) ([]JournalEvent, []string, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		b, err := br.Peek(1)
		if err != nil {
			break
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		case '[':
			return readJournalArray(br)
		}
		break
	}
	lr := newLineReader(br, 1<<20)
	var out []JournalEvent
	var warnings []string
	bad := 0
	for {
		line, err := lr.next()
		if line != "" {
			var e JournalEvent
			if jerr := json.Unmarshal([]byte(line), &e); jerr != nil || e.Kind == "" {
				bad++
				if bad <= 3 {
					msg := "not an event"
					if jerr != nil {
						msg = jerr.Error()
					}
					warnings = append(warnings, fmt.Sprintf("journal line %d: %s (skipped)", lr.n, msg))
				}
			} else {
				out = append(out, e)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return out, warnings, fmt.Errorf("observe: read journal: %w", err)
		}
	}
	if bad > 3 {
		warnings = append(warnings, fmt.Sprintf("journal: %d lines in all were skipped", bad))
	}
	return out, warnings, nil
}

// readJournalArray reads a JSON array of events, one element at a time.
func readJournalArray(r io.Reader) ([]JournalEvent, []string, error) {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return nil, nil, fmt.Errorf("observe: read journal: %w", err)
	}
	var out []JournalEvent
	var warnings []string
	skipped := 0
	for n := 1; dec.More(); n++ {
		var e JournalEvent
		if err := dec.Decode(&e); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				skipped++
				continue
			}
			warnings = append(warnings, fmt.Sprintf("journal array element %d: %v (the rest is skipped)", n, err))
			return out, warnings, nil
		}
		if e.Kind == "" {
			skipped++
			continue
		}
		out = append(out, e)
	}
	if skipped > 0 {
		warnings = append(warnings, fmt.Sprintf("journal: %d array elements are not events (skipped)", skipped))
	}
	return out, warnings, nil
}

// Correlation ties one code found in a log to the nearest fault firing.
type Correlation struct {
	Entry *Entry
	Found Found
	// Fault is the nearest firing within the window, or nil.
	Fault *JournalEvent
	// Offset is the log time minus the firing time: positive when the
	// client logged the code after the fault fired (the usual order).
	Offset time.Duration
}

// Correlate matches every code of the entries to the nearest fault
// firing (journal kind "fault") within window of the entry's time. Entries
// without a time get no match. The journal need not be sorted.
func Correlate(entries []Entry, journal []JournalEvent, window time.Duration) []Correlation {
	var fires []JournalEvent
	for _, e := range journal {
		if e.Kind == JournalFault && !e.Time.IsZero() {
			fires = append(fires, e)
		}
	}
	sort.SliceStable(fires, func(i, j int) bool { return fires[i].Time.Before(fires[j].Time) })
	var out []Correlation
	for i := range entries {
		en := &entries[i]
		for _, f := range en.Codes {
			c := Correlation{Entry: en, Found: f}
			if !en.Time.IsZero() && len(fires) > 0 {
				k := sort.Search(len(fires), func(k int) bool { return !fires[k].Time.Before(en.Time) })
				best := -1
				var bestAbs time.Duration
				for _, j := range []int{k - 1, k} {
					if j < 0 || j >= len(fires) {
						continue
					}
					d := en.Time.Sub(fires[j].Time)
					ad := d
					if ad < 0 {
						ad = -ad
					}
					if ad <= window && (best < 0 || ad < bestAbs) {
						best, bestAbs = j, ad
					}
				}
				if best >= 0 {
					fe := fires[best]
					c.Fault, c.Offset = &fe, en.Time.Sub(fe.Time)
				}
			}
			out = append(out, c)
		}
	}
	return out
}
