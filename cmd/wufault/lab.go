package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/verify"
)

// runFlags are the flags the scenario-running commands share.
func runFlags(cmd *cobra.Command) {
	f := cmd.Flags()
	f.Bool("realtime", false, "keep Windows' real client timeouts (time_scale 1) instead of the lab's 0.01")
	f.Int("parallel", 0, "scenarios run at once (0: the number of CPUs)")
}

// runOptions reads the shared flags. Worlds started by these commands keep
// their lab CA in a temporary directory unless --state-dir is set
// explicitly.
func (a *app) runOptions(cmd *cobra.Command) (verify.Options, func(), error) {
	o := verify.Options{Parallel: a.v.GetInt("parallel"), Logger: a.log}
	if a.v.GetBool("realtime") {
		o.TimeScale = 1
	}
	cleanup := func() {}
	if cmd.Flags().Changed("state-dir") || os.Getenv("WUFAULT_STATE_DIR") != "" {
		o.StateDir = a.v.GetString("state-dir")
	} else {
		dir, err := os.MkdirTemp("", "wufault-lab-")
		if err != nil {
			return o, cleanup, err
		}
		o.StateDir = dir
		cleanup = func() { os.RemoveAll(dir) }
	}
	return o, cleanup, nil
}

// progress draws a one-line progress bar on stderr when it is a terminal.
func (a *app) progress() func(done, total int, r verify.Result) {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(done, total int, r verify.Result) {
		const width = 30
		n := done * width / total
		fmt.Fprintf(f, "\r\033[K[%s%s] %d/%d %s", strings.Repeat("=", n), strings.Repeat(" ", width-n), done, total, r.Scenario)
		if done == total {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}

func (a *app) labCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run the whole scenario catalog against worlds on loopback and print the fault → code table",
		Long: `lab is the main job: for every scenario of the embedded catalog it starts a world on
loopback (proxy, DNS, TLS, the Windows Update emulator, on random ports), runs the emulated
Windows Update client through it, checks the code against the expectation and each documented
fix against its expected outcome, then prints the fault → code table and "N passed, M failed".
It exits 1 when anything failed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := a.matrix(cmd, nil)
			if err != nil {
				return err
			}
			if err := verify.Render(a.stdout, rep, "table"); err != nil {
				return err
			}
			if rep.Failed > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	runFlags(cmd)
	return cmd
}

func (a *app) runCommand() *cobra.Command {
	var asJSON, noFixes bool
	cmd := &cobra.Command{
		Use:   "run SCENARIO",
		Short: "Run one scenario (a catalog name or a YAML file) and compare the code with its expectation",
		Long: `run starts a world on loopback, activates the scenario's faults, runs the emulated Windows
Update client and prints what it saw per request and the session's final code. It exits 0
when the observed code (and every fix outcome) matches the scenario, 1 otherwise, with a diff.`,
		Example: "  wufault run dns-nxdomain-scan\n  wufault run ./my-proxy-case.yaml --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			sc, err := scenarios.Find(args[0])
			if err != nil {
				return failf("%s", err)
			}
			o, cleanup, err := a.runOptions(cmd)
			if err != nil {
				return err
			}
			defer cleanup()
			o.SkipFixes = noFixes
			r := verify.Run(cmd.Context(), sc, o)
			if asJSON {
				if err := a.printJSON(r); err != nil {
					return err
				}
			} else {
				printRun(a.stdout, sc, r)
			}
			if r.Error != "" {
				return fmt.Errorf("%s: %s", sc.Name, r.Error)
			}
			if !r.Pass || !r.FixesPass() {
				if !asJSON {
					fmt.Fprintf(a.stdout, "\n%s", verify.Diff(r))
				}
				return &exitError{code: 1}
			}
			return nil
		},
	}
	runFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON (observations included)")
	cmd.Flags().BoolVar(&noFixes, "no-fixes", false, "do not check the scenario's fixes")
	return cmd
}

func printRun(w io.Writer, sc *scenarios.Scenario, r verify.Result) {
	fmt.Fprintf(w, "scenario  %s: %s\nfaults    %s\n\n", sc.Name, sc.Summary, r.FaultLabel())
	if r.Session != nil {
		_ = r.Session.WriteText(w)
	}
	verdict := "ok"
	if !r.Pass {
		verdict = "MISMATCH"
	}
	fmt.Fprintf(w, "\nexpected  %s", r.Expected)
	fmt.Fprintf(w, "\nobserved  %s  %s\n", r.Observed, verdict)
	if r.Rule != "" {
		fmt.Fprintf(w, "evidence  %s: confidence %s (the deciding rule's)\n", r.Rule, r.Confidence)
		for i, tag := range codes.SourceTags(r.Source) {
			lead := "          "
			if i == 0 {
				lead = "sources   "
			}
			fmt.Fprintf(w, "%s[%s] %s\n", lead, tag, codes.SourceLink(tag))
		}
	}
	if m := r.DeclarationMismatch(); m != "" {
		fmt.Fprintf(w, "declared  %s\n", m)
	}
	if len(r.Fixes) > 0 {
		fmt.Fprintf(w, "\nfixes (control: run again %s, after retry-later %s)\n", controlCode(r.Fixes[0].Control), controlCode(r.Fixes[0].ControlLater))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, f := range r.Fixes {
			mark := "ok"
			if !f.Pass {
				mark = fmt.Sprintf("MISMATCH (expected %s)", f.Expected)
			}
			if f.Note != "" {
				mark += " (" + f.Note + ")"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Chain(), f.Got, f.After.Hex(), mark)
		}
		tw.Flush()
	}
}

func (a *app) matrixCommand() *cobra.Command {
	var format, out, observed string
	cmd := &cobra.Command{
		Use:   "matrix [SCENARIO...]",
		Short: "Run scenarios (default: the whole catalog) and render the fault × class → code table",
		Example: `  wufault matrix --format html --out fault-codes.html
  wufault matrix --format junit --out wufault.xml        (for CI)`,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := a.matrix(cmd, args)
			if err != nil {
				return err
			}
			if observed != "" {
				if err := a.attachObserved(rep, observed); err != nil {
					return err
				}
			}
			var w io.Writer = a.stdout
			if out != "" && out != "-" {
				f, err := os.Create(out)
				if err != nil {
					return err
				}
				defer f.Close()
				w = f
			}
			if err := verify.Render(w, rep, format); err != nil {
				return err
			}
			if out != "" && out != "-" {
				fmt.Fprintf(a.stdout, "%s: %s\n", out, verify.SummaryLine(rep))
			}
			if rep.Failed > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	runFlags(cmd)
	cmd.Flags().StringVar(&format, "format", "table", "table, markdown, json, junit or html")
	cmd.Flags().StringVar(&out, "out", "", "write the report to this file instead of standard output")
	cmd.Flags().StringVar(&observed, "observed", "", "a journal (JSON lines from the control API's /journal/stream) whose real-client reports to show beside the predictions")
	return cmd
}

// attachObserved reads a journal and puts real clients' codes beside the
// predictions.
func (a *app) attachObserved(rep *verify.Report, file string) error {
	events, err := a.readJournal(file)
	if err != nil {
		return err
	}
	if verify.AttachReports(rep, events) == 0 {
		fmt.Fprintf(a.stderr, "wufault: %s holds no report of a real client for these scenarios\n", file)
	}
	return nil
}

// matrix runs the named scenarios (all: the catalog) with the shared run
// flags and the progress bar.
func (a *app) matrix(cmd *cobra.Command, names []string) (*verify.Report, error) {
	scs, err := pick(names)
	if err != nil {
		return nil, failf("%s", err)
	}
	o, cleanup, err := a.runOptions(cmd)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	o.Progress = a.progress()
	return verify.Matrix(cmd.Context(), scs, o), nil
}

// pick returns the named scenarios, or the whole catalog.
func pick(args []string) ([]*scenarios.Scenario, error) {
	if len(args) == 0 {
		return scenarios.Catalog()
	}
	var out []*scenarios.Scenario
	for _, a := range args {
		sc, err := scenarios.Find(a)
		if err != nil {
			return nil, err
		}
		out = append(out, sc)
	}
	return out, nil
}

func (a *app) verifyCommand() *cobra.Command {
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "verify SCENARIO...|--all",
		Short: "Check the documented fixes: apply each to the failing state and run again",
		Long: `verify reproduces each scenario's failure, applies each fix the scenario lists (after the
fixes it comes with) to that failing state, runs the session again and reports fixes, no-effect
or partial with the code after. The expected outcomes in the scenario files are checked: it
exits 1 on a mismatch.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if all == (len(args) > 0) {
				return failf("name scenarios or pass --all")
			}
			rep, err := a.matrix(cmd, args)
			if err != nil {
				return err
			}
			type check struct {
				Scenario string `json:"scenario"`
				Code     string `json:"code"`
				verify.FixResult
			}
			checks := []check{}
			mismatches := 0
			for _, r := range rep.Results {
				for _, f := range r.Fixes {
					checks = append(checks, check{r.Scenario, r.Observed.Hex(), f})
					if !f.Pass {
						mismatches++
					}
				}
			}
			if asJSON {
				err = a.printJSON(struct {
					Checks     []check `json:"checks"`
					Mismatches int     `json:"mismatches"`
					Failed     int     `json:"scenarios_failed"`
				}{checks, mismatches, rep.Failed})
				if err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SCENARIO\tCODE\tFIX\tEXPECTED\tGOT\tCODE AFTER\t")
				for _, c := range checks {
					mark := ""
					if !c.Pass {
						mark = "MISMATCH"
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Scenario, c.Code, c.Chain(), c.Expected, c.Got, codeName(c.After), mark)
				}
				tw.Flush()
				fmt.Fprintf(a.stdout, "\n%d fix checks, %d mismatches\n", len(checks), mismatches)
			}
			if mismatches > 0 || rep.Failed > 0 {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	runFlags(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "every catalog scenario")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the fix checks as JSON")
	return cmd
}

func codeName(c codes.Code) string {
	if c == codes.OK {
		return "0x0 (success)"
	}
	return c.Hex()
}

// controlCode prints a fix check's control code, "not reproduced" when the
// control could not reproduce the failing state.
func controlCode(c *codes.Code) string {
	if c == nil {
		return "not reproduced"
	}
	return c.Hex()
}
