package atlas

import (
	"html/template"
	"io"
	"strings"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/verify"
)

// Family is a code family: the colour of a cell.
type Family struct {
	ID, Label, Colour, About string
}

// Families are the code families of the HTML legend, in legend order.
var Families = []Family{
	{"dns", "DNS", "#8ecae6", "name not resolved: 0x8024402C, 0x80072EE7"},
	{"connection", "connection", "#ffb703", "WinHTTP transport: refused, reset, timeout, bad response (0x80072Exx, 0x80072F7x-9x)"},
	{"tls", "TLS", "#e76f51", "secure channel and certificates: 0x80072F8F, 0x80072F0C"},
	{"http", "HTTP status", "#90be6d", "WU_E_PT_HTTP_STATUS_*: 0x80244016-0x8024402B"},
	{"soap", "SOAP", "#b5a8e6", "SOAP faults and parse errors: 0x80244007, 0x8024400A-0E, 0x80240439, round trips"},
	{"download", "download", "#f4a3c0", "BITS, DO and download manager: 0x8019xxxx, 0x8020xxxx, 0x80D0xxxx, 0x80246xxx"},
	{"other", "other WU", "#d9d9d9", "other Windows Update codes (proxy list, content type, cabinets)"},
	{"ok", "S_OK", "#ffffff", "the session succeeded although the fault fired"},
	{"none", "no answer", "#f3f3f3", "not fired, no request of this class, or failed on an earlier class (arrow)"},
}

// CodeFamily sorts a code into a family of the legend.
func CodeFamily(c codes.Code) string {
	v := uint32(c)
	switch {
	case c == codes.OK:
		return "ok"
	case v == 0x8024402C || v == 0x80072EE7:
		return "dns"
	case v == 0x80072F8F || v == 0x80072F0C || v == 0x80072F7D || v >= 0x80072F05 && v <= 0x80072F0D || v == 0x80092013 || v&0xFFFF0000 == 0x800B0000:
		return "tls"
	case v >= 0x80244016 && v <= 0x80244024 || v == 0x8024402B:
		return "http"
	case v >= 0x80244001 && v <= 0x80244010 || v == 0x80240439 || v == 0x80240437:
		return "soap"
	case v&0xFFFF0000 == 0x80190000 || v&0xFFFF0000 == 0x80200000 || v&0xFFFF0000 == 0x80D00000 || v&0xFFFFF000 == 0x80246000:
		return "download"
	case v&0xFFFF0000 == 0x80070000:
		return "connection"
	}
	return "other"
}

// column is one column of the grid: a class and a generation (and stack).
type column struct {
	Class, Generation, Stack string
}

func (c column) label() string {
	if c.Stack != "" {
		return c.Generation + " " + strings.ToUpper(c.Stack)
	}
	return c.Generation
}

var columns = func() []column {
	var out []column
	for _, cl := range Classes {
		for _, g := range Generations {
			if cl == "download" {
				for _, st := range stacks(g) {
					out = append(out, column{cl, g, st})
				}
				continue
			}
			out = append(out, column{Class: cl, Generation: g})
		}
	}
	return out
}()

type htmlCell struct {
	Index           int
	Text, Sub, Fam  string
	Conf, ConfShort string
	Empty           bool
	Cell            Cell
	SourceHTML      template.HTML
	Agree, Disagree bool
}

type htmlRow struct {
	Kind, Variant string
	Cells         []*htmlCell
}

type htmlGroup struct {
	Family string
	Rows   []htmlRow
}

var confShort = map[string]string{"high": "H", "medium-high": "MH", "medium": "M", "medium-low": "ML", "low": "L"}

func renderHTML(w io.Writer, a *Atlas) error {
	byKey := map[string]int{}
	for i, c := range a.Cells {
		byKey[c.Kind+"|"+c.Variant+"|"+c.Class+"|"+c.Generation+"|"+c.Stack] = i
	}
	var groups []htmlGroup
	var details []*htmlCell
	seenRow := map[string]bool{}
	for _, c := range a.Cells {
		rk := c.Kind + "|" + c.Variant
		if seenRow[rk] {
			continue
		}
		seenRow[rk] = true
		if len(groups) == 0 || groups[len(groups)-1].Family != c.Family {
			groups = append(groups, htmlGroup{Family: c.Family})
		}
		row := htmlRow{Kind: c.Kind, Variant: c.Variant}
		for _, col := range columns {
			i, ok := byKey[rk+"|"+col.Class+"|"+col.Generation+"|"+col.Stack]
			if !ok {
				row.Cells = append(row.Cells, &htmlCell{Empty: true, Fam: "none", Text: ""})
				continue
			}
			hc := cellView(i, a.Cells[i])
			row.Cells = append(row.Cells, hc)
			details = append(details, hc)
		}
		g := &groups[len(groups)-1]
		g.Rows = append(g.Rows, row)
	}
	var cols []map[string]string
	for _, c := range columns {
		cols = append(cols, map[string]string{"Class": c.Class, "Label": c.label()})
	}
	return atlasTemplate.Execute(w, map[string]any{
		"Atlas": a, "Groups": groups, "Columns": cols, "Classes": classSpans(), "Families": Families,
		"Details": details, "Summary": a.SummaryLine(),
	})
}

func classSpans() []map[string]any {
	var out []map[string]any
	for _, cl := range Classes {
		n := 0
		for _, c := range columns {
			if c.Class == cl {
				n++
			}
		}
		out = append(out, map[string]any{"Class": cl, "Span": n})
	}
	return out
}

func cellView(i int, c Cell) *htmlCell {
	hc := &htmlCell{Index: i, Cell: c, Conf: c.Confidence, ConfShort: confShort[c.Confidence], SourceHTML: verify.SourceLinks(c.Source)}
	for _, m := range c.Reports {
		hc.Agree = hc.Agree || m.Agree
		hc.Disagree = hc.Disagree || m.Comparable && !m.Agree
	}
	switch c.Status {
	case StatusFailed:
		hc.Text, hc.Fam = c.Code.Hex(), CodeFamily(c.Code)
		hc.Sub = c.Name
	case StatusElsewhere:
		hc.Text, hc.Fam, hc.Sub = "↑ "+c.FailedClass, "none", c.Code.Hex()
	case StatusPassed:
		hc.Text, hc.Fam, hc.Sub = "S_OK", "ok", "fired, passed"
	case StatusNotFired:
		hc.Text, hc.Fam, hc.Sub = "–", "none", "not fired"
	case StatusNoRequest:
		hc.Text, hc.Fam, hc.Sub = "·", "none", "no such request"
	default:
		hc.Text, hc.Fam, hc.Sub = "error", "none", c.Error
	}
	return hc
}

var atlasTemplate = template.Must(template.New("atlas").Funcs(template.FuncMap{
	"colour": func(fam string) string {
		for _, f := range Families {
			if f.ID == fam {
				return f.Colour
			}
		}
		return "#fff"
	},
	"wineSign": func(v string) string {
		return map[string]string{WineAgree: "W=", WineDeviation: "W~", WineDisagree: "W≠"}[v]
	},
}).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>wufault: fault → code atlas</title>
<style>
*{box-sizing:border-box}
body{font:13px/1.35 system-ui,sans-serif;margin:12px;color:#222;max-width:1380px}
h1{font-size:20px;margin:4px 0}
p{margin:4px 0 8px}
#legend{display:flex;flex-wrap:wrap;gap:6px 14px;margin:6px 0 10px;padding:0;list-style:none}
#legend li{display:flex;align-items:center;gap:5px}
#legend .sw{display:inline-block;width:18px;height:14px;border:1px solid #999;border-radius:3px}
table.atlas{border-collapse:collapse;table-layout:fixed;width:100%}
table.atlas th,table.atlas td{border:1px solid #ccc;padding:2px 3px;vertical-align:middle;overflow:hidden}
table.atlas thead th{background:#f4f4f4;font-weight:600;text-align:center}
table.atlas th.row{text-align:left;font-weight:normal;width:250px;white-space:nowrap;text-overflow:ellipsis}
table.atlas th.row b{font-weight:600}
table.atlas tr.fam th{background:#333;color:#fff;text-align:left;font-size:13px;padding:3px 6px}
td.c{text-align:center;height:30px;padding:0}
td.c a{display:block;color:#111;text-decoration:none;padding:2px 1px;height:100%}
td.c a:hover{outline:2px solid #333;outline-offset:-2px}
.code{font:11px ui-monospace,monospace;display:block;white-space:nowrap}
.conf{display:inline-block;font:bold 9px system-ui,sans-serif;padding:0 3px;border-radius:6px;background:#222;color:#fff;margin-left:2px;vertical-align:1px}
.conf-low,.conf-medium-low{background:#777}
.none{color:#888;font-size:11px}
.fr{font:bold 10px system-ui,sans-serif;margin-left:2px}
.fr-no{color:#b00020}.fr-yes{color:#0a6b0a}
.rep.disagree{color:#b00020}
.wine{font:bold 9px system-ui,sans-serif;margin-left:2px}
.wine-agree{color:#0a6b0a}.wine-deviation{color:#555}.wine-disagree{color:#b00020}.wine-not-run,.wine-error{color:#999}
.detail{display:none}
.detail:target{display:block;position:fixed;top:40px;right:20px;width:560px;max-height:85vh;overflow:auto;background:#fff;border:2px solid #333;border-radius:6px;padding:10px 14px;box-shadow:0 6px 30px rgba(0,0,0,.35);z-index:10}
.detail h2{font-size:15px;margin:0 0 6px}
.detail dt{font-weight:600;margin-top:4px}
.detail dd{margin:0 0 0 12px}
.detail pre{background:#f6f6f6;padding:6px;font-size:11px;white-space:pre-wrap}
.close{float:right;text-decoration:none;font-size:16px}
</style></head><body>
<h1>Windows Update fault → code atlas</h1>
<p>{{.Summary}}. Each cell ran one fault kind and variant (rows, grouped by layer) matched on one request class alone (columns), for the modern (Windows 10/11, WSUS over HTTPS) and legacy (XP–8.1, Microsoft Update) clients side by side, against the emulated client in a world on loopback. The colour is the family of the code the client reported; the badge is the confidence of the client rule that decided it (H high … L low), never a scenario's claim. Click a cell for its rule, sources and scenario.</p>
<ul id="legend">{{range .Families}}<li><span class="sw" style="background:{{colour .ID}}"></span><span title="{{.About}}">{{.Label}}</span></li>{{end}}
<li><span class="conf">H</span>/<span class="conf">M</span>/<span class="conf conf-low">L</span> confidence of the deciding rule</li><li>↑ class: the session failed on that earlier class first</li><li><span class="fr fr-yes">✓</span>/<span class="fr fr-no">≠</span> a published field report agrees / disagrees (docs/field-reports.md)</li>{{if .Atlas.Wine}}<li><span class="wine wine-agree">W=</span>/<span class="wine wine-deviation">W~</span>/<span class="wine wine-disagree">W≠</span> Wine's WinHTTP agrees / differs by a known Wine deviation / disagrees</li>{{end}}</ul>
<table class="atlas" id="atlas">
<thead><tr><th class="row" rowspan="2">fault / variant</th>{{range .Classes}}<th colspan="{{.Span}}">{{.Class}}</th>{{end}}</tr>
<tr>{{range .Columns}}<th>{{.Label}}</th>{{end}}</tr></thead>
<tbody>
{{range .Groups}}<tr class="fam"><th colspan="10">{{.Family}}</th></tr>
{{range .Rows}}<tr><th class="row" title="{{.Kind}} {{.Variant}}"><b>{{.Kind}}</b> {{.Variant}}</th>{{range .Cells}}{{if .Empty}}<td class="c"></td>{{else}}<td class="c fam-{{.Fam}}" style="background:{{colour .Fam}}" data-id="{{.Cell.ID}}" data-status="{{.Cell.Status}}"><a href="#cell-{{.Index}}">{{if eq .Cell.Status "failed"}}<span class="code">{{.Text}}<span class="conf conf-{{.Conf}}">{{.ConfShort}}</span>{{if .Disagree}}<span class="fr fr-no" title="a published report disagrees">≠</span>{{else if .Agree}}<span class="fr fr-yes" title="a published report agrees">✓</span>{{end}}</span>{{else}}<span class="none" title="{{.Sub}}">{{.Text}}</span>{{end}}{{with .Cell.Wine}}{{if .Mark}}<span class="wine wine-{{.Verdict}}" title="Wine's WinHTTP: {{.Outcome}} ({{.Mark}})">{{wineSign .Verdict}}</span>{{end}}{{end}}</a></td>{{end}}{{end}}</tr>
{{end}}{{end}}</tbody></table>
{{range .Details}}<div class="detail" id="cell-{{.Index}}"><a class="close" href="#">×</a><h2>{{.Cell.Kind}} {{.Cell.Variant}} · {{.Cell.Class}} · {{.Cell.Generation}}{{if .Cell.Stack}} · {{.Cell.Stack}}{{end}}</h2>
<dl><dt>result</dt><dd>{{.Cell.Status}}{{if .Cell.Rule}}: <b>{{.Cell.Code.Hex}}</b> {{.Cell.Name}}{{end}}{{if .Cell.FailedClass}} (class {{.Cell.FailedClass}}, {{.Cell.Call}}{{if .Cell.Phase}}, phase {{.Cell.Phase}}{{end}}){{end}}</dd>
{{if .Cell.WinHTTP}}<dt>WinHTTP</dt><dd>{{.Cell.WinHTTP}}</dd>{{end}}
{{if .Cell.Rule}}<dt>rule</dt><dd class="rule">{{.Cell.Rule}} — confidence <b>{{.Cell.Confidence}}</b></dd><dt>source</dt><dd>{{.SourceHTML}}</dd>{{end}}
{{with .Cell.Wine}}<dt>Wine's WinHTTP</dt><dd class="wine-detail">{{.Outcome}}{{if .Stage}} at {{.Stage}}{{end}} — <b>{{.Mark}}</b>{{if .Note}}; {{.Note}}{{end}} ({{.Role}} {{.URL}}, fault fired {{.Fired}} time(s))</dd>{{end}}
<dt>fault fired</dt><dd>{{.Cell.Fired}} time(s); match {{.Cell.Match}}</dd>
{{if .Cell.Error}}<dt>error</dt><dd>{{.Cell.Error}}</dd>{{end}}
<dt>field reports</dt><dd class="reports">{{range .Cell.Reports}}<div class="rep {{if .Agree}}agree{{else if .Comparable}}disagree{{end}}"><a href="{{.URL}}">{{.ID}}</a>: {{.Code}} — {{if .Agree}}agrees{{else if .Comparable}}<b>disagrees</b>{{else}}no code to compare{{end}}{{if .Quote}}; “{{.Quote}}”{{end}}{{if .Note}} <small>({{.Note}})</small>{{end}}</div>{{else}}none published for this cell{{end}}</dd>
<dt>scenario (wufault run FILE reproduces it)</dt><dd><pre>{{.Cell.Scenario}}</pre></dd></dl></div>
{{end}}
</body></html>
`))
