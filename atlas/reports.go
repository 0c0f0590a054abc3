package atlas

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
)

//go:embed field_reports.tsv
var reportsTSV string

// Report is one published field report: a condition someone met, the code
// Windows reported, and where it was published. Fault, Class and
// Generation are the project's reading of the condition; a report is
// evidence beside a cell, never an input to a prediction.
type Report struct {
	ID         string       `json:"id"`
	Condition  string       `json:"condition"`
	Fault      string       `json:"fault"` // as written: "http.status: {status: 503}"
	Kind       string       `json:"kind,omitempty"`
	Params     []string     `json:"params,omitempty"` // "status=503"
	Loose      bool         `json:"loose,omitempty"`  // "(approx.)": match the kind only
	Class      string       `json:"class"`
	Generation string       `json:"generation"`
	Stack      string       `json:"stack"`
	CodeText   string       `json:"code_text"`
	Codes      []codes.Code `json:"codes,omitempty"`
	Windows    string       `json:"windows"`
	Product    string       `json:"product"`
	Date       string       `json:"date"`
	URL        string       `json:"url"`
	Quote      string       `json:"quote"`
	Note       string       `json:"note"`
}

var (
	codeToken  = regexp.MustCompile(`0x[0-9A-Fa-f]{8}`)
	paramToken = regexp.MustCompile(`(\w+):\s*([\w.-]+)`)
)

// Reports returns the field reports embedded in the binary
// (atlas/field_reports.tsv).
func Reports() ([]Report, error) {
	return ParseReports(strings.NewReader(reportsTSV), "field_reports.tsv")
}

// ParseReports reads the tab-separated field-report table: '#' comment
// lines, a header line, then one report per line with 13 fields.
func ParseReports(r io.Reader, name string) ([]Report, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	var out []Report
	header := false
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if !header {
			if len(f) != 13 || f[0] != "id" {
				return nil, fmt.Errorf("%s:%d: want the header line id, condition, fault, … (13 tab-separated fields)", name, n)
			}
			header = true
			continue
		}
		if len(f) != 13 {
			return nil, fmt.Errorf("%s:%d: %d fields, want 13", name, n, len(f))
		}
		rep := Report{ID: f[0], Condition: f[1], Fault: f[2], Class: f[3], Generation: f[4], Stack: f[5], CodeText: f[6],
			Windows: f[7], Product: f[8], Date: f[9], URL: f[10], Quote: f[11], Note: f[12]}
		if rep.ID == "" || !strings.HasPrefix(rep.URL, "http") {
			return nil, fmt.Errorf("%s:%d: report without id or URL", name, n)
		}
		if rep.Class == "sls" {
			rep.Class = "redirector" // SLS is the modern redirector
		}
		kind, rest, _ := strings.Cut(rep.Fault, ":")
		kind, _, _ = strings.Cut(strings.TrimSpace(kind), " ")
		if _, ok := faults.Lookup(kind); ok {
			rep.Kind = kind
			for _, m := range paramToken.FindAllStringSubmatch(rest, -1) {
				rep.Params = append(rep.Params, m[1]+"="+m[2])
			}
		}
		rep.Loose = strings.Contains(rep.Fault, "approx") || strings.Contains(rep.Fault, "(likely")
		for _, t := range codeToken.FindAllString(rep.CodeText, -1) {
			c, err := codes.Parse(t)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: code %q: %w", name, n, t, err)
			}
			rep.Codes = append(rep.Codes, c)
			if strings.Contains(rep.CodeText, "job "+t) {
				rep.Codes = rep.Codes[:len(rep.Codes)-1] // the BITS job's own code, not the reported one
			}
		}
		out = append(out, rep)
	}
	return out, sc.Err()
}

// Match is a field report beside a cell and whether the code agrees.
type Match struct {
	ID         string `json:"id"`
	Agree      bool   `json:"agree"`
	Code       string `json:"code"` // what the report says
	URL        string `json:"url"`
	Quote      string `json:"quote,omitempty"`
	Note       string `json:"note,omitempty"`
	Comparable bool   `json:"comparable"` // the report quotes a code and the cell has one
}

// matches reports whether a report is about this cell: same kind, the
// same class and generation where the report names them, the same stack
// for a download, and the same variant unless the report is loose or names
// no parameter.
func (r Report) matches(c Cell) bool {
	if r.Kind == "" || r.Kind != c.Kind || r.Class != "" && r.Class != c.Class || r.Generation != "" && r.Generation != c.Generation {
		return false
	}
	if c.Stack != "" {
		st := strings.ToLower(r.Stack)
		if (strings.Contains(st, "do") || strings.Contains(st, "bits")) && !strings.Contains(st, c.Stack) {
			return false
		}
	}
	if r.Loose || len(r.Params) == 0 {
		return true
	}
	for _, p := range r.Params {
		k, v, _ := strings.Cut(p, "=")
		if k == "scheme" {
			k = "schemes"
		}
		if !strings.HasPrefix(c.Variant, k+"="+v) {
			return false
		}
	}
	return true
}

// Attach puts the matching reports beside every cell and marks
// agreement: a report agrees when the code it quotes is the cell's code.
// Nothing about the cell changes but its Reports.
func (a *Atlas) Attach(reps []Report) {
	for i := range a.Cells {
		c := &a.Cells[i]
		c.Reports = nil
		for _, r := range reps {
			if !r.matches(*c) {
				continue
			}
			m := Match{ID: r.ID, Code: r.CodeText, URL: r.URL, Quote: r.Quote, Note: r.Note}
			if len(r.Codes) > 0 && c.Status == StatusFailed {
				m.Comparable = true
				for _, rc := range r.Codes {
					if rc == c.Code {
						m.Agree = true
					}
				}
			}
			c.Reports = append(c.Reports, m)
		}
	}
}

// WriteReportsMarkdown renders the field-report table (docs/field-reports.md).
func WriteReportsMarkdown(w io.Writer, reps []Report) error {
	esc := func(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
	fmt.Fprint(w, `# Field reports

Published real cases of a network condition and the code Windows reported, collected from
public issue trackers, vendor knowledge bases, blogs, newsgroups and Microsoft's docs. The
fault, class and generation columns are the project's reading of the reported condition;
"(approx.)" marks a loose reading (the atlas then matches the kind only). The atlas shows, per
cell, the reports that match it and marks where the quoted code differs from the cell's: a
disagreement is shown and explained in its note, never tuned away.

Generated from atlas/field_reports.tsv (edit that file, then go test ./atlas -run
TestReportsDoc -update-reports).

| id | condition | fault | class | gen | stack | code | Windows | product | date | source | quote | note |
|---|---|---|---|---|---|---|---|---|---|---|---|---|
`)
	for _, r := range reps {
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | [link](%s) | %s | %s |\n", r.ID, esc(r.Condition), esc(r.Fault),
			esc(r.Class), esc(r.Generation), esc(r.Stack), esc(r.CodeText), esc(r.Windows), esc(r.Product), esc(r.Date), r.URL, esc(r.Quote), esc(r.Note))
	}
	_, err := fmt.Fprintf(w, "\n%d reports.\n", len(reps))
	return err
}
