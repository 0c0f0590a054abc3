package verify

import (
	"slices"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/codes"
)

// AttachReports puts beside each result the codes real clients reported
// while its scenario was active: the journal's "report" events
// (ReportEventBatch from a Windows client, posts of the Windows agent),
// as the control API streams them. It returns how many reports matched a
// result. A matrix then shows predicted (the emulated client) beside
// observed (real Windows).
func AttachReports(rep *Report, events []observe.JournalEvent) int {
	idx := map[string]int{}
	for i, r := range rep.Results {
		idx[r.Scenario] = i
	}
	n := 0
	for _, e := range events {
		if e.Kind != "report" || e.Code == "" {
			continue
		}
		i, ok := idx[e.Scenario]
		if !ok {
			continue
		}
		c, err := codes.Parse(e.Code)
		if err != nil {
			continue
		}
		n++
		if !slices.Contains(rep.Results[i].Reported, c) {
			rep.Results[i].Reported = append(rep.Results[i].Reported, c)
		}
	}
	return n
}

// hasReports reports whether any result carries real clients' codes.
func hasReports(rep *Report) bool {
	for _, r := range rep.Results {
		if len(r.Reported) > 0 {
			return true
		}
	}
	return false
}

// reportedCell lists the real clients' codes of a result ("-": none).
func reportedCell(r Result) string {
	if len(r.Reported) == 0 {
		return "-"
	}
	s := ""
	for i, c := range r.Reported {
		if i > 0 {
			s += ","
		}
		s += c.Hex()
	}
	return s
}
