package atlas

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/wufault/wufault/codes"
)

// Formats lists the formats Render writes.
var Formats = []string{"table", "json", "markdown", "html"}

// Render writes the atlas in format.
func Render(w io.Writer, a *Atlas, format string) error {
	switch format {
	case "table", "":
		return renderTable(w, a)
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(a)
	case "markdown", "md":
		return renderMarkdown(w, a)
	case "html":
		return renderHTML(w, a)
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
}

// ReadJSON reads an atlas written with format json.
func ReadJSON(r io.Reader, name string) (*Atlas, error) {
	var a Atlas
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &a, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// codeText is the cell's answer in a few characters: the code, or why
// there is none.
func (c Cell) codeText() string {
	switch c.Status {
	case StatusFailed:
		return c.Code.Hex()
	case StatusElsewhere:
		return fmt.Sprintf("(%s at %s)", c.Code.Hex(), c.FailedClass)
	case StatusPassed:
		return "S_OK"
	case StatusError:
		return "ERROR"
	}
	return "(" + c.Status + ")"
}

// Counts sums the cells by status.
func (a *Atlas) Counts() map[string]int {
	m := map[string]int{}
	for _, c := range a.Cells {
		m[c.Status]++
	}
	return m
}

// SummaryLine is "N cells (F failed on their class, …) in D".
func (a *Atlas) SummaryLine() string {
	m := a.Counts()
	var parts []string
	for _, s := range []string{StatusFailed, StatusElsewhere, StatusPassed, StatusNotFired, StatusNoRequest, StatusError} {
		if m[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", m[s], s))
		}
	}
	return fmt.Sprintf("%d cells (%s), shard %s of %d planned, in %s%s", len(a.Cells), strings.Join(parts, ", "),
		strings.Join(a.Shards, "+"), a.Total, a.Duration, a.wineSummary())
}

func renderTable(w io.Writer, a *Atlas) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	head := "KIND\tVARIANT\tCLASS\tGEN\tSTACK\tCODE\tPHASE\tWINHTTP\tRULE\tCONF"
	if a.Wine {
		head += "\tWINE WINHTTP"
	}
	fmt.Fprintln(tw, head)
	for _, c := range a.Cells {
		wh := "-"
		if c.WinHTTP != 0 {
			wh = fmt.Sprint(c.WinHTTP)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s", c.Kind, c.Variant, c.Class, c.Generation, dash(c.Stack),
			c.codeText(), dash(c.Phase), wh, dash(c.Rule), dash(c.Confidence))
		if a.Wine {
			fmt.Fprintf(tw, "\t%s", c.Wine.Text())
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "\n%s\n", a.SummaryLine())
	return err
}

func renderMarkdown(w io.Writer, a *Atlas) error {
	wineHead, wineRule := "", ""
	if a.Wine {
		wineHead, wineRule = " Wine's WinHTTP |", "---|"
	}
	fmt.Fprintln(w, "| Kind | Variant | Class | Generation | Stack | Code | Name | Phase | WinHTTP | Rule | Confidence | Source |"+wineHead)
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|---|---|---|---|"+wineRule)
	for _, c := range a.Cells {
		name := c.Name
		if c.Status != StatusFailed {
			name = ""
		}
		wh := ""
		if c.WinHTTP != 0 {
			wh = fmt.Sprint(c.WinHTTP)
		}
		fmt.Fprintf(w, "| `%s` | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |", c.Kind, c.Variant, c.Class, c.Generation,
			dash(c.Stack), c.codeText(), name, dash(c.Phase), dash(wh), dash(c.Rule), dash(c.Confidence), mdSources(c.Source))
		if a.Wine {
			fmt.Fprintf(w, " %s |", c.Wine.Text())
		}
		fmt.Fprintln(w)
	}
	_, err := fmt.Fprintf(w, "\n%s\n", a.SummaryLine())
	return err
}

// mdSources links every tag of a source text to its bibliography entry.
func mdSources(s string) string {
	if s == "" {
		return "-"
	}
	s = strings.ReplaceAll(s, "|", `\|`)
	for _, tag := range codes.SourceTags(s) {
		s = strings.Replace(s, "["+tag+"]", "[["+tag+"]]("+codes.SourceLink(tag)+")", 1)
	}
	return s
}
