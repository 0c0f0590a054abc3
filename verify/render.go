package verify

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/wufault/wufault/codes"
)

// Formats lists the report formats Render understands.
var Formats = []string{"table", "markdown", "json", "junit", "html"}

// Render writes the report in format.
func Render(w io.Writer, rep *Report, format string) error {
	switch format {
	case "table", "":
		return renderTable(w, rep)
	case "markdown", "md":
		return renderMarkdown(w, rep)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	case "junit":
		return renderJUnit(w, rep)
	case "html":
		return renderHTML(w, rep)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

func name(c codes.Code) string {
	if info, ok := codes.Lookup(c); ok {
		return info.Name
	}
	return ""
}

func verdict(r Result) string {
	switch {
	case r.Error != "":
		return "ERROR"
	case !r.Pass:
		return "FAIL"
	case !r.FixesPass():
		return "FAIL (fix)"
	}
	return "ok"
}

// SummaryLine is the closing line of a run: "N passed, M failed", and
// how many scenarios were run again alone after a miss (Matrix).
func SummaryLine(rep *Report) string {
	line := fmt.Sprintf("%d passed, %d failed", rep.Passed, rep.Failed)
	reruns := 0
	for _, r := range rep.Results {
		if r.FirstRun != "" {
			reruns++
		}
	}
	if reruns > 0 {
		line += fmt.Sprintf(" (%d run again alone after a miss beside the others; see first_run)", reruns)
	}
	return line
}

func renderTable(w io.Writer, rep *Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	real := hasReports(rep)
	head := "SCENARIO\tFAULT\tCLASS\tEXPECTED\tOBSERVED\tCONF\tRESULT"
	if real {
		head = "SCENARIO\tFAULT\tCLASS\tEXPECTED\tOBSERVED\tREAL CLIENTS\tCONF\tRESULT"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rep.Results {
		obs := r.Observed.Hex()
		if r.Error != "" {
			obs = "-"
		}
		if real {
			obs += "\t" + reportedCell(r)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Scenario, r.FaultLabel(), dash(r.Class), r.Expected.Hex(), obs, dash(string(r.Confidence)), verdict(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			fmt.Fprintf(w, "\n%s: %s", r.Scenario, r.Error)
		} else if !r.Pass {
			fmt.Fprintf(w, "\n%s: expected %s, observed %s", r.Scenario, r.Expected, r.Observed)
		}
		for _, f := range r.Fixes {
			if !f.Pass {
				fmt.Fprintf(w, "\n%s: fix %s: expected %s, got %s (code after %s)%s", r.Scenario, f.Chain(), f.Expected, f.Got, f.After, errSuffix(f.Error))
			}
		}
	}
	if rep.Failed > 0 {
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "\n%s in %s\n", SummaryLine(rep), rep.Duration.Round(1e7))
	return err
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func renderMarkdown(w io.Writer, rep *Report) error {
	fmt.Fprintln(w, "| Scenario | Fault | Class | Expected | Observed (emulated) | Real clients | Confidence | Source | Result |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|")
	for _, r := range rep.Results {
		fmt.Fprintf(w, "| %s | `%s` | %s | %s | %s | %s | %s | %s | %s |\n", r.Scenario, r.FaultLabel(), dash(r.Class),
			codeCell(r.Expected), codeCell(r.Observed), reportedCell(r), dash(string(r.Confidence)), mdEscape(r.Source), verdict(r))
	}
	var fixRows []string
	for _, r := range rep.Results {
		for _, f := range r.Fixes {
			fixRows = append(fixRows, fmt.Sprintf("| %s | %s | %s | %s | %s |", r.Scenario, f.Chain(), dash(string(f.Expected)), f.Got, codeCell(f.After)))
		}
	}
	if len(fixRows) > 0 {
		fmt.Fprintln(w, "\n| Scenario | Fix | Expected | Got | Code after |")
		fmt.Fprintln(w, "|---|---|---|---|---|")
		fmt.Fprintln(w, strings.Join(fixRows, "\n"))
	}
	_, err := fmt.Fprintf(w, "\n%s\n", SummaryLine(rep))
	return err
}

func codeCell(c codes.Code) string {
	if n := name(c); n != "" {
		return fmt.Sprintf("%s `%s`", c.Hex(), n)
	}
	return c.Hex()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     float64     `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      float64       `xml:"time,attr"`
	Failure   *junitMessage `xml:"failure,omitempty"`
	Error     *junitMessage `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitMessage struct {
	Message string `xml:"message,attr"`
	Text    string `xml:",chardata"`
}

func renderJUnit(w io.Writer, rep *Report) error {
	s := junitSuite{Name: "wufault", Tests: len(rep.Results), Time: rep.Duration.Seconds()}
	for _, r := range rep.Results {
		c := junitCase{Name: r.Scenario, Classname: "wufault." + firstKind(r), Time: r.Duration.Seconds(),
			SystemOut: fmt.Sprintf("faults: %s\nexpected: %s\nobserved: %s\nconfidence: %s\nsource: %s", r.FaultLabel(), r.Expected, r.Observed, r.Confidence, r.Source)}
		switch {
		case r.Error != "":
			c.Error = &junitMessage{Message: r.Error, Text: r.Error}
			s.Errors++
		case !r.Pass:
			msg := fmt.Sprintf("expected %s, observed %s", r.Expected, r.Observed)
			c.Failure = &junitMessage{Message: msg, Text: msg}
			s.Failures++
		case !r.FixesPass():
			var lines []string
			for _, f := range r.Fixes {
				if !f.Pass {
					lines = append(lines, fmt.Sprintf("fix %s: expected %s, got %s (code after %s)", f.Chain(), f.Expected, f.Got, f.After))
				}
			}
			c.Failure = &junitMessage{Message: lines[0], Text: strings.Join(lines, "\n")}
			s.Failures++
		}
		s.Cases = append(s.Cases, c)
	}
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func firstKind(r Result) string {
	if len(r.Faults) == 0 {
		return "none"
	}
	k, _, _ := strings.Cut(r.Faults[0], "@")
	k, _, _ = strings.Cut(k, "/")
	return k
}

// heatCell is one cell of the fault × class map.
type heatCell struct {
	Codes []heatCode
}

type heatCode struct {
	Code     string
	Name     string
	Count    int
	Hue      int
	Mismatch bool
	Title    string
}

var classes = []string{"selfupdate", "redirector", "scan", "download", "-"}

func renderHTML(w io.Writer, rep *Report) error {
	type row struct {
		Kind  string
		Cells []heatCell
	}
	byKind := map[string]map[string]map[codes.Code]*heatCode{}
	for _, r := range rep.Results {
		kind := firstKind(r)
		cls := dash(r.Class)
		if byKind[kind] == nil {
			byKind[kind] = map[string]map[codes.Code]*heatCode{}
		}
		if byKind[kind][cls] == nil {
			byKind[kind][cls] = map[codes.Code]*heatCode{}
		}
		hc := byKind[kind][cls][r.Observed]
		if hc == nil {
			hc = &heatCode{Code: r.Observed.Hex(), Name: name(r.Observed), Hue: hue(r.Observed)}
			byKind[kind][cls][r.Observed] = hc
		}
		hc.Count++
		hc.Mismatch = hc.Mismatch || !r.Pass
		hc.Title += fmt.Sprintf("%s (expected %s, %s, %s)\n", r.Scenario, r.Expected.Hex(), r.Confidence, r.Source)
	}
	var kinds []string
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	var rows []row
	for _, k := range kinds {
		rw := row{Kind: k}
		for _, c := range classes {
			var cell heatCell
			for _, hc := range byKind[k][c] {
				cell.Codes = append(cell.Codes, *hc)
			}
			sort.Slice(cell.Codes, func(i, j int) bool { return cell.Codes[i].Code < cell.Codes[j].Code })
			rw.Cells = append(rw.Cells, cell)
		}
		rows = append(rows, rw)
	}
	return htmlTemplate.Execute(w, map[string]any{
		"Report": rep, "Rows": rows, "Classes": classes, "Summary": SummaryLine(rep),
		"Verdict": verdict, "Name": name, "Sources": SourceLinks,
	})
}

// SourceLinks renders a source text for HTML with each evidence tag
// linked to its entry in the bibliography (docs/sources.md).
func SourceLinks(s string) template.HTML {
	var b strings.Builder
	rest := s
	for _, tag := range codes.SourceTags(s) {
		i := strings.Index(rest, "["+tag+"]")
		if i < 0 {
			continue
		}
		b.WriteString(template.HTMLEscapeString(rest[:i]))
		fmt.Fprintf(&b, `<a href="%s">[%s]</a>`, template.HTMLEscapeString(codes.SourceLink(tag)), template.HTMLEscapeString(tag))
		rest = rest[i+len(tag)+2:]
	}
	b.WriteString(template.HTMLEscapeString(rest))
	return template.HTML(b.String())
}

// hue spreads codes over the colour wheel so the same code has the same
// colour everywhere on the page.
func hue(c codes.Code) int {
	if c == codes.OK {
		return 120
	}
	h := uint32(c) * 2654435761
	return int(h>>24) * 360 / 256
}

var htmlTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wufault: fault → code map</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;vertical-align:top;text-align:left}
th{background:#f4f4f4}
.code{display:block;margin:2px 0;padding:2px 6px;border-radius:4px;font-family:ui-monospace,monospace;font-size:12px}
.mismatch{outline:2px solid #c00}
.ok{color:#070}.FAIL,.ERROR{color:#c00;font-weight:bold}
small{color:#666}
</style></head><body>
<h1>Windows Update fault → code map</h1>
<p>{{.Summary}} · {{len .Report.Results}} scenarios · generated {{.Report.Started.Format "2006-01-02 15:04:05 MST"}}.
Each cell lists the codes the emulated client observed for a fault kind (rows) while doing one class of request (columns).
The same code has the same colour everywhere; a red outline marks a cell where a scenario did not get its expected code.
Hover a code for the scenarios, expectations, confidence and sources.</p>
<table><tr><th>fault</th>{{range .Classes}}<th>{{.}}</th>{{end}}</tr>
{{range .Rows}}<tr><th>{{.Kind}}</th>{{range .Cells}}<td>{{range .Codes}}<span class="code{{if .Mismatch}} mismatch{{end}}" style="background:hsl({{.Hue}},70%,85%)" title="{{.Title}}">{{.Code}}{{if gt .Count 1}} ×{{.Count}}{{end}}<br><small>{{.Name}}</small></span>{{end}}</td>{{end}}</tr>
{{end}}</table>
<h2>Scenarios</h2>
<table><tr><th>scenario</th><th>faults</th><th>class</th><th>expected</th><th>observed (emulated)</th><th>real clients</th><th>confidence</th><th>source</th><th>result</th></tr>
{{range .Report.Results}}<tr><td>{{.Scenario}}<br><small>{{.Summary}}</small></td><td>{{.FaultLabel}}</td><td>{{.Class}}</td><td>{{.Expected.Hex}}<br><small>{{call $.Name .Expected}}</small></td><td>{{.Observed.Hex}}<br><small>{{call $.Name .Observed}}</small></td><td>{{range .Reported}}{{.Hex}}<br><small>{{call $.Name .}}</small><br>{{else}}-{{end}}</td><td>{{.Confidence}}</td><td>{{call $.Sources .Source}}</td><td class="{{call $.Verdict .}}">{{call $.Verdict .}}{{range .Fixes}}<br><small>{{.Chain}}: {{.Got}}{{if not .Pass}} (expected {{.Expected}}){{end}}</small>{{end}}</td></tr>
{{end}}</table>
</body></html>
`))
