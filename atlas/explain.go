package atlas

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/scenarios"
)

// Failure is one failing code of a log with the context around it.
type Failure struct {
	Code       codes.Code  `json:"code"`
	Name       string      `json:"name,omitempty"`
	Source     string      `json:"source"` // file:line of the first occurrence
	Lines      []int       `json:"lines"`
	Final      bool        `json:"final,omitempty"`
	Class      string      `json:"class,omitempty"`      // from the URL or the component
	Generation string      `json:"generation,omitempty"` // from the log's format and wording
	HTTPStatus int         `json:"http_status,omitempty"`
	ProxyList  string      `json:"proxy_list,omitempty"`
	URL        string      `json:"url,omitempty"`
	Components []string    `json:"components,omitempty"`
	Text       string      `json:"text"` // the first line's words
	Candidates []Candidate `json:"candidates"`
}

// Candidate is an atlas cell that produces the failure's code, ranked.
type Candidate struct {
	Score     int      `json:"score"`
	Why       []string `json:"why"`
	Cell      Cell     `json:"cell"`
	Scenario  string   `json:"scenario,omitempty"`  // a catalog scenario that reproduces it
	Fixes     []string `json:"fixes,omitempty"`     // fixes the lab checks cure it (catalog)
	Generated string   `json:"generated,omitempty"` // the cell's YAML when no catalog scenario fits
}

// Failures reads a parsed log and returns its failing codes with their
// context, the session's final code first, then the others in order of
// appearance. Codes derived from a structured field ("soap client error
// = 10") are context, not failures of their own.
func Failures(res *observe.LogResult) []Failure {
	gen := generationOf(res)
	byCode := map[codes.Code]*Failure{}
	var order []codes.Code
	for _, ec := range res.Codes() {
		if ec.Found.Derived || ec.Found.Code == codes.OK {
			continue
		}
		e := ec.Entry
		f := byCode[ec.Found.Code]
		if f == nil {
			f = &Failure{Code: ec.Found.Code, Source: fmt.Sprintf("%s:%d", e.Source, e.Line), Generation: gen, Text: strings.TrimSpace(e.Text)}
			if info, ok := codes.Lookup(f.Code); ok {
				f.Name = info.Name
			}
			byCode[f.Code] = f
			order = append(order, f.Code)
		}
		if !slices.Contains(f.Lines, e.Line) {
			f.Lines = append(f.Lines, e.Line)
		}
		f.Final = f.Final || e.Final
		if e.HTTPStatus != 0 && f.HTTPStatus == 0 {
			f.HTTPStatus = e.HTTPStatus
		}
		if e.ProxyList != "" && f.ProxyList == "" {
			f.ProxyList = e.ProxyList
		}
		if e.URL != "" && f.URL == "" {
			f.URL = e.URL
		}
		if e.Component != "" && !slices.Contains(f.Components, e.Component) {
			f.Components = append(f.Components, e.Component)
		}
		if c := classOf(e); c != "" && f.Class == "" {
			f.Class = c
		}
	}
	out := make([]Failure, 0, len(order))
	for _, c := range order {
		out = append(out, *byCode[c])
	}
	// A failure without a class of its own takes the class of a failure
	// on the same lines (the self-update check that returned it).
	for i := range out {
		if out[i].Class != "" {
			continue
		}
		for j := range out {
			if out[j].Class != "" && overlaps(out[i].Lines, out[j].Lines) {
				out[i].Class = out[j].Class
				break
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Final && !out[j].Final })
	return out
}

func overlaps(a, b []int) bool {
	for _, x := range a {
		if slices.Contains(b, x) {
			return true
		}
	}
	return false
}

// classOf reads the class of a log entry from its URL, else from its
// component and words (reference 7.1, 7.2).
func classOf(e *observe.Entry) string {
	if e.URL != "" {
		if u, err := url.Parse(e.URL); err == nil {
			if c := profile.ClassOf(u.Host, u.Path); c != "" {
				return string(c)
			}
		}
	}
	t := strings.ToLower(e.Component + " " + e.Text)
	switch {
	case strings.Contains(t, "wuident") || strings.Contains(t, "selfupdate") || strings.Contains(t, "self-update") || strings.Contains(t, "isupdaterequired"):
		return "selfupdate"
	case strings.Contains(t, "wuredir") || strings.Contains(t, "redirector") || strings.Contains(t, "sls"):
		return "redirector"
	case strings.Contains(t, "dnldmgr") || strings.Contains(t, "downloadmanager") || strings.Contains(t, "bits job") || strings.Contains(t, "downloading update"):
		return "download"
	case strings.Contains(t, "syncupdates") || strings.Contains(t, "getconfig") || strings.Contains(t, "getcookie") || strings.Contains(t, "protocoltalker") ||
		strings.HasPrefix(t, "pt ") || strings.Contains(t, "webservices") || strings.Contains(t, "soap"):
		return "scan"
	}
	return ""
}

// generationOf guesses the client generation from the log's format and
// wording: the legacy text log and its PT/DnldMgr wording, or the
// Get-WindowsUpdateLog format of Windows 10+ ("" when nothing says).
func generationOf(res *observe.LogResult) string {
	switch res.Format {
	case observe.FormatLegacy, observe.FormatReporting:
		return "legacy"
	case observe.FormatETW:
		return "modern"
	}
	for _, e := range res.Entries {
		t := e.Component + " " + e.Text
		for _, w := range []string{"DnldMgr", "soap client error", "SendRequestUsingProxy", "PT WARNING", "Misc WARNING"} {
			if strings.Contains(t, w) {
				return "legacy"
			}
		}
		for _, w := range []string{"ProtocolTalker", "WebServices", "DownloadManager", "Nws Failure"} {
			if strings.Contains(t, w) {
				return "modern"
			}
		}
	}
	return ""
}

var confWeight = map[string]int{"high": 5, "medium-high": 4, "medium": 3, "medium-low": 2, "low": 1}

// Explain ranks the atlas cells that produce each failure's code (as the
// session's code or the download job's own code): the cell's rule
// confidence, plus agreement on class, generation and HTTP status with
// the log. It names a catalog scenario with the same code and fault kind
// and the fixes it carries, or the cell's generated YAML.
func Explain(fs []Failure, a *Atlas, catalog []*scenarios.Scenario, top int) []Failure {
	out := slices.Clone(fs)
	for i := range out {
		f := &out[i]
		var cands []Candidate
		for _, c := range a.Cells {
			if c.Status != StatusFailed || c.Code != f.Code && c.JobCode != f.Code {
				continue
			}
			cd := Candidate{Cell: c, Score: confWeight[c.Confidence]}
			cd.Why = append(cd.Why, "confidence "+c.Confidence)
			if c.JobCode == f.Code && c.Code != f.Code {
				cd.Why = append(cd.Why, "the download job's own code")
			}
			if f.Class != "" && c.Class == f.Class {
				cd.Score += 4
				cd.Why = append(cd.Why, "class "+c.Class)
			}
			if f.Generation != "" && c.Generation == f.Generation {
				cd.Score += 2
				cd.Why = append(cd.Why, "generation "+c.Generation)
			}
			if f.HTTPStatus != 0 && c.HTTPStatus == f.HTTPStatus {
				cd.Score += 4
				cd.Why = append(cd.Why, fmt.Sprintf("HTTP status %d", c.HTTPStatus))
			}
			cands = append(cands, cd)
		}
		sort.SliceStable(cands, func(x, y int) bool {
			if cands[x].Score != cands[y].Score {
				return cands[x].Score > cands[y].Score
			}
			return cands[x].Cell.ID < cands[y].Cell.ID
		})
		// One candidate per kind and variant: the best-placed cell.
		seen := map[string]bool{}
		for _, cd := range cands {
			k := cd.Cell.Kind + " " + cd.Cell.Variant
			if seen[k] {
				continue
			}
			seen[k] = true
			cd.Scenario, cd.Fixes = reproducer(catalog, f.Code, cd.Cell)
			if cd.Scenario == "" {
				cd.Generated = cd.Cell.Scenario
			}
			f.Candidates = append(f.Candidates, cd)
			if len(f.Candidates) == top {
				break
			}
		}
	}
	return out
}

// reproducer finds a catalog scenario that expects the code with a fault
// of the cell's kind (the same class first) and the fixes it checks to
// cure it (verified by the catalog run of the lab).
func reproducer(catalog []*scenarios.Scenario, code codes.Code, c Cell) (string, []string) {
	best, bestScore := (*scenarios.Scenario)(nil), 0
	for _, sc := range catalog {
		if sc.Expect == nil || sc.Expect.Code != code {
			continue
		}
		score := 0
		for _, sp := range sc.Faults {
			if sp.Kind == c.Kind {
				score = 2
			}
		}
		if score == 0 {
			continue
		}
		if string(sc.Expect.Class) == c.Class {
			score++
		}
		if score > bestScore {
			best, bestScore = sc, score
		}
	}
	if best == nil {
		return "", nil
	}
	var fixes []string
	for _, fc := range best.Fixes {
		if fc.Outcome == scenarios.OutcomeFixes {
			fixes = append(fixes, strings.Join(append(slices.Clone(fc.With), fc.Fix), " + "))
		}
	}
	return best.Name, fixes
}

// WriteExplanation prints the failures and their candidates for people.
func WriteExplanation(w io.Writer, fs []Failure) error {
	for _, f := range fs {
		final := ""
		if f.Final {
			final = " (the session's result)"
		}
		fmt.Fprintf(w, "%s %s%s at %s\n", f.Code.Hex(), f.Name, final, f.Source)
		fmt.Fprintf(w, "  context: class %s, generation %s", dash(f.Class), dash(f.Generation))
		if f.HTTPStatus != 0 {
			fmt.Fprintf(w, ", HTTP status %d", f.HTTPStatus)
		}
		if f.ProxyList != "" {
			fmt.Fprintf(w, ", proxy list %s", f.ProxyList)
		}
		if f.URL != "" {
			fmt.Fprintf(w, ", %s", f.URL)
		}
		if len(f.Components) > 0 {
			fmt.Fprintf(w, ", component %s", strings.Join(f.Components, "/"))
		}
		fmt.Fprintf(w, "\n  line: %s\n", f.Text)
		if len(f.Candidates) == 0 {
			fmt.Fprintln(w, "  no atlas cell produces this code")
		}
		for i, c := range f.Candidates {
			fmt.Fprintf(w, "  %d. %s %s on %s (%s%s): rule %s, confidence %s [%s]\n", i+1, c.Cell.Kind, c.Cell.Variant, c.Cell.Class, c.Cell.Generation,
				stackSuffix(c.Cell.Stack), c.Cell.Rule, c.Cell.Confidence, strings.Join(c.Why, ", "))
			if c.Scenario != "" {
				fmt.Fprintf(w, "     reproduce: wufault run %s\n", c.Scenario)
				if len(c.Fixes) > 0 {
					fmt.Fprintf(w, "     fixes the lab verifies: %s\n", strings.Join(c.Fixes, "; "))
				}
			} else {
				fmt.Fprintf(w, "     reproduce: save as cell.yaml, wufault run cell.yaml\n%s", indent(c.Generated, "       "))
			}
		}
		fmt.Fprintln(w)
	}
	return nil
}

func stackSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

func indent(s, p string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(p + l + "\n")
	}
	return b.String()
}
