package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/codes"
)

// logsOutput is the JSON form of `wufault logs --json`.
type logsOutput struct {
	Files        []*observe.LogResult `json:"files"`
	Correlations []logCorrelation     `json:"correlations,omitempty"`
}

type logCorrelation struct {
	Source   string                `json:"source"`
	Line     int                   `json:"line"`
	Time     time.Time             `json:"time,omitzero"`
	Code     codes.Code            `json:"code"`
	Fault    *observe.JournalEvent `json:"fault,omitempty"`
	OffsetNS time.Duration         `json:"offset_ns,omitempty"`
}

func (a *app) logsCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs FILE...",
		Short: "List the codes in WindowsUpdate.log files and exported event logs",
		Long: `logs reads WindowsUpdate.log (legacy XP–8.1 format or Get-WindowsUpdateLog output),
ReportingEvents.log, and event logs exported with
  wevtutil qe Microsoft-Windows-WindowsUpdateClient/Operational /f:xml > wu-operational.xml
  wevtutil qe System "/q:*[System[Provider[@Name='Microsoft-Windows-WindowsUpdateClient']]]" /f:xml > wu-system.xml
  wevtutil qe Microsoft-Windows-Bits-Client/Operational /f:xml > bits.xml
in UTF-8 or UTF-16, and lists every code found with its time, component, line and
meaning. With --journal (the world's journal as JSON lines, as the control API streams
it) each code is matched to the nearest fault firing within --window.

Log timestamps carry no time zone: --tz names the Windows machine's zone (Local, UTC,
an IANA name such as Europe/Berlin, or an offset such as +02:00).`,
		Example: `  wufault logs WindowsUpdate.log
  wufault logs --journal journal.jsonl --tz +01:00 WindowsUpdate.log wu-operational.xml`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			v := a.v
			loc, err := parseZone(v.GetString("tz"))
			if err != nil {
				return failf("--tz: %v", err)
			}
			window := v.GetDuration("window")
			var journal []observe.JournalEvent
			if jf := v.GetString("journal"); jf != "" {
				if journal, err = a.readJournal(jf); err != nil {
					return failf("--journal: %v", err)
				}
			}
			var out logsOutput
			var problems []string
			out.Files, problems = parseFiles(a, files, func(r io.Reader, name string) (*observe.LogResult, []string, error) {
				res, err := observe.ParseLog(r, name, observe.LogOptions{Location: loc, KeepAll: false})
				if res == nil {
					return nil, nil, err
				}
				return res, res.Warnings, err
			}, observe.ErrNotALog)
			if out.Files == nil {
				out.Files = []*observe.LogResult{}
			}
			var cors []observe.Correlation
			if journal != nil {
				for _, res := range out.Files {
					cors = append(cors, observe.Correlate(res.Entries, journal, window)...)
				}
				for _, c := range cors {
					out.Correlations = append(out.Correlations, logCorrelation{Source: c.Entry.Source, Line: c.Entry.Line, Time: c.Entry.Time, Code: c.Found.Code, Fault: c.Fault, OffsetNS: c.Offset})
				}
			}
			if v.GetBool("json") {
				if err := a.printJSON(out); err != nil {
					return err
				}
			} else {
				a.printLogs(out.Files, cors, journal != nil, window)
			}
			if len(problems) > 0 {
				return failf("%s", strings.Join(problems, "\n"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Bool("json", false, "print JSON: every entry with its fields, and the correlations")
	f.String("journal", "", "the world's journal (JSON lines) to match codes to fault firings")
	f.Duration("window", 2*time.Minute, "how far apart a code and a fault firing may be to match")
	f.String("tz", "Local", "time zone of the log timestamps: Local, UTC, an IANA name or +hh:mm")
	return cmd
}

func (a *app) printLogs(files []*observe.LogResult, cors []observe.Correlation, withJournal bool, window time.Duration) {
	type key struct {
		e *observe.Entry
		i int
	}
	fault := map[key]observe.Correlation{}
	seen := map[*observe.Entry]int{}
	for _, c := range cors {
		k := key{c.Entry, seen[c.Entry]}
		seen[c.Entry]++
		fault[k] = c
	}
	for _, res := range files {
		fmt.Fprintf(a.stdout, "%s: %s, %s, %d lines, %d entries with codes\n", res.Source, res.Format, res.Encoding, res.Lines, countCoded(res))
		var proxies []string
		for i := range res.Entries {
			e := &res.Entries[i]
			if e.ProxyList != "" && !slices.Contains(proxies, e.ProxyList) {
				proxies = append(proxies, e.ProxyList)
			}
			for j, f := range e.Codes {
				ts := "-"
				if !e.Time.IsZero() {
					ts = e.Time.Format("2006-01-02 15:04:05.000")
				}
				name, meaning := "(unknown)", ""
				if in, ok := codes.Lookup(f.Code); ok {
					name, meaning = in.Name, in.Meaning
				}
				mark := ""
				if e.Final {
					mark = "  [final]"
				}
				if f.Derived {
					mark += "  [derived from " + f.Field + "]"
				}
				fmt.Fprintf(a.stdout, "  %-23s  %-16s  %s  %s  %s:%d%s\n", ts, trunc(e.Component, 16), f.Code.Hex(), name, res.Source, e.Line, mark)
				if meaning != "" {
					fmt.Fprintf(a.stdout, "      %s\n", meaning)
				}
				fmt.Fprintf(a.stdout, "      line: %s\n", trunc(e.Text, 160))
				if withJournal {
					c := fault[key{e, j}]
					switch {
					case c.Fault != nil:
						when, off := "before", c.Offset
						if off < 0 {
							when, off = "after", -off
						}
						fmt.Fprintf(a.stdout, "      fault: %s (rule %d%s) fired %s %s this line\n", c.Fault.Fault, c.Fault.Rule, faultWhere(c.Fault), off.Round(time.Millisecond), when)
					case e.Time.IsZero():
						fmt.Fprintf(a.stdout, "      fault: (the line has no time)\n")
					default:
						fmt.Fprintf(a.stdout, "      fault: none within %s\n", window)
					}
				}
			}
		}
		if fe := res.Final(); fe != nil {
			fmt.Fprintf(a.stdout, "  final: %s (%s:%d)\n", fe.Codes[len(fe.Codes)-1].Code, res.Source, fe.Line)
		}
		if len(proxies) > 0 {
			fmt.Fprintf(a.stdout, "  proxy lists: %s\n", strings.Join(proxies, "; "))
		}
	}
}

func faultWhere(e *observe.JournalEvent) string {
	var parts []string
	if e.Phase != "" {
		parts = append(parts, "phase "+e.Phase)
	}
	if e.Host != "" {
		parts = append(parts, e.Host+e.Path)
	}
	if len(parts) == 0 {
		return ""
	}
	return ", " + strings.Join(parts, ", ")
}

func countCoded(r *observe.LogResult) int {
	n := 0
	for _, e := range r.Entries {
		if len(e.Codes) > 0 {
			n++
		}
	}
	return n
}

// readJournal reads the world's journal (JSON lines, as the control API
// streams it) from file; its warnings go to standard error.
func (a *app) readJournal(file string) ([]observe.JournalEvent, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	events, warnings, err := observe.ReadJournal(f)
	for _, w := range warnings {
		fmt.Fprintf(a.stderr, "warning: %s: %s\n", file, w)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return events, nil
}

func trunc(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// parseZone reads Local, UTC, an IANA zone name or a fixed offset
// (+02:00, -0500, +2).
func parseZone(s string) (*time.Location, error) {
	switch strings.ToLower(s) {
	case "", "local":
		return time.Local, nil
	case "utc", "z":
		return time.UTC, nil
	}
	if s[0] == '+' || s[0] == '-' {
		for _, layout := range []string{"-07:00", "-0700", "-07"} {
			if t, err := time.Parse(layout, s); err == nil {
				_, off := t.Zone()
				return time.FixedZone(s, off), nil
			}
		}
		return nil, fmt.Errorf("%q is not an offset such as +02:00", s)
	}
	return time.LoadLocation(s)
}
