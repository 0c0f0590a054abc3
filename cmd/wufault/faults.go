package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/scenarios"
)

// faultRow is the JSON form of one fault kind.
type faultRow struct {
	Kind    string         `json:"kind"`
	Layer   string         `json:"layer"`
	Summary string         `json:"summary"`
	Params  []faults.Param `json:"params"`
	Example string         `json:"example,omitempty"` // a catalog scenario using the kind
}

func describeKind(i faults.Info) (faultRow, error) {
	ps, err := faults.Describe(i.Kind)
	if err != nil {
		return faultRow{}, err
	}
	if ps == nil {
		ps = []faults.Param{}
	}
	r := faultRow{Kind: i.Kind, Layer: i.Layer(), Summary: i.Summary, Params: ps}
	if sc := exampleScenario(i.Kind); sc != nil {
		r.Example = sc.Name
	}
	return r, nil
}

// exampleScenario is the first catalog scenario with a fault of kind.
func exampleScenario(kind string) *scenarios.Scenario {
	all, err := scenarios.Catalog()
	if err != nil {
		return nil
	}
	for _, sc := range all {
		if slices.ContainsFunc(sc.Faults, func(f faults.Spec) bool { return f.Kind == kind }) {
			return sc
		}
	}
	return nil
}

func paramNames(ps []faults.Param) string {
	names := make([]string, len(ps))
	for n, p := range ps {
		names[n] = p.Name
	}
	return strings.Join(names, ", ")
}

func (a *app) faultsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "faults", Short: "The fault kinds wufault can inject"}
	var asJSON, markdown bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List every fault kind with its summary and parameters",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			var rows []faultRow
			for _, i := range faults.All() {
				r, err := describeKind(i)
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
			switch {
			case asJSON:
				return a.printJSON(rows)
			case markdown:
				return writeFaultsMarkdown(a.stdout, rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tPARAMETERS\tSUMMARY")
			for _, r := range rows {
				fmt.Fprintf(tw, "%s\t%s\t%s\n", r.Kind, paramNames(r.Params), r.Summary)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON (kind, layer, summary, params, example)")
	list.Flags().BoolVar(&markdown, "markdown", false, "print the Markdown table of docs/faults.md")
	var showJSON bool
	show := &cobra.Command{
		Use:   "show KIND",
		Short: "Show a fault kind's parameters (name, type, default, allowed values) and an example scenario",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			i, ok := faults.Lookup(args[0])
			if !ok {
				msg := fmt.Sprintf("no fault kind %q", args[0])
				if s := closest(args[0], faults.Kinds()); s != "" {
					msg += fmt.Sprintf("; did you mean %q?", s)
				}
				return failf("%s (wufault faults list names them)", msg)
			}
			r, err := describeKind(i)
			if err != nil {
				return err
			}
			if showJSON {
				return a.printJSON(r)
			}
			fmt.Fprintf(a.stdout, "%s (layer %s): %s\n\n", r.Kind, r.Layer, r.Summary)
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PARAMETER\tTYPE\tDEFAULT\tALLOWED\tDESCRIPTION")
			for _, p := range r.Params {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.Name, p.Type, dash(p.Default), dash(strings.Join(p.Allowed, ", ")), p.Doc)
			}
			fmt.Fprintln(tw, "match\t{host, path, method, class}\t-\t-\twhich requests the fault applies to (every fault)")
			fmt.Fprintln(tw, "when\t{first, every, nth, probability, after, times}\t-\t-\twhen it fires among them (every fault)")
			tw.Flush()
			if sc := exampleScenario(r.Kind); sc != nil {
				b, err := scenarios.Marshal(sc)
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "\nexample: the catalog scenario %s (wufault run %s)\n\n%s", sc.Name, sc.Name, b)
			} else {
				fmt.Fprintf(a.stdout, "\nexample:\n\nname: my-%s\nfaults:\n  - kind: %s\n", strings.ReplaceAll(r.Kind, ".", "-"), r.Kind)
			}
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print JSON")
	cmd.AddCommand(list, show)
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// closest is the candidate nearest to s (edit distance at most 2), or "".
func closest(s string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := editDistance(s, c); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// faultsMarkdownDirection is docs/faults.md's section on the direction of
// the tcp.* kinds and on when they arm (~ stands for a backquote).
const faultsMarkdownDirection = `
## Direction of the tcp.* kinds

~tcp.reset~, ~tcp.close~, ~tcp.stall~, ~tcp.latency~, ~tcp.bandwidth~ and ~tcp.slice~ take ~direction~:

- ~down~ (the default): the bytes toward the client, the answers.
- ~up~: the client's bytes toward the server. During an HTTP request with a body (plain,
  inside an intercepted tunnel, on the upstream ports) the rule acts on the body, so
  ~after_bytes~ counts body bytes, and ~at~ defaults to ~request~. In an opaque CONNECT
  tunnel, and for rules armed at accept or at the CONNECT, it acts on the client's socket
  bytes from the moment it is armed. A reset up reaches a client that is still sending as a
  failure while sending (curl exit 55; WinHTTP 12030, 0x80072EFE [L-WINHTTPERR]) and the
  server gets only the bytes before it; a close up ends the request stream the server reads
  (an HTTP request is then broken: the proxy answers 400); a stall, latency, bandwidth or
  slice up holds, delays, paces or splits what the server reads (latency up delays each read
  of the client's bytes in turn). Catalog scenario: connection-reset-upload-scan.

## When a tcp.* rule arms

Which event counts for ~when~ (so what ~first: N~ counts) depends on the transport and the
phase; simulate/arming.go decides it and its test, TestArmingTable, is the table:

- at accept (counts connections): rules with an empty ~match~ that act on the whole
  connection (~tcp.refuse~, ~tcp.latency~, ~tcp.bandwidth~, ~tcp.slice~) or at ~connect~;
- at a CONNECT (counts CONNECTs): the other connection-level rules (whole, ~connect~,
  ~proxy~, ~handshake~), and in an opaque tunnel the ~request~, ~headers~ and ~body~ rules
  too (armed at the origin's first byte; with direction up at the tunnel's first byte);
- per request (counts requests): everything else on plain HTTP and on the upstream ports
  (which have no ~proxy~ phase), and inside an intercepted tunnel the ~request~, ~headers~ and
  ~body~ rules and the connection-level ones whose match needs HTTP (path or class).
`

// writeFaultsMarkdown writes the kinds table of docs/faults.md.
func writeFaultsMarkdown(w io.Writer, rows []faultRow) error {
	var b strings.Builder
	b.WriteString("# Fault kinds\n\n")
	b.WriteString("Generated from the fault registry by `go run ./cmd/wufault faults list --markdown > docs/faults.md`;\n")
	b.WriteString("a test fails when it is out of date. `wufault faults show KIND` gives each parameter's type,\n")
	b.WriteString("default, allowed values and description, and an example scenario. Every fault also takes\n")
	b.WriteString("`match` {host, path, method, class} and `when` {first, every, nth, probability, after, times}.\n\n")
	b.WriteString("| layer | kind | parameters | summary | example scenario |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		var ps []string
		for _, p := range r.Params {
			ps = append(ps, "`"+p.Name+"`")
		}
		fmt.Fprintf(&b, "| %s | `%s` | %s | %s | %s |\n", r.Layer, r.Kind, dash(strings.Join(ps, ", ")), strings.ReplaceAll(r.Summary, "|", `\|`), dash(r.Example))
	}
	b.WriteString(strings.ReplaceAll(faultsMarkdownDirection, "~", "`"))
	_, err := io.WriteString(w, b.String())
	return err
}
