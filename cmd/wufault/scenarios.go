package main

import (
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/scenarios"
)

func (a *app) scenariosCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "scenarios", Short: "The scenario catalog"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List the embedded scenarios",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all, err := scenarios.Catalog()
			if err != nil {
				return err
			}
			if asJSON {
				type row struct {
					Name    string   `json:"name"`
					Summary string   `json:"summary"`
					Codes   []string `json:"codes"`
					Faults  []string `json:"faults"`
					Expect  string   `json:"expect,omitempty"`
				}
				rows := make([]row, len(all))
				for n, sc := range all {
					rows[n] = row{Name: sc.Name, Summary: sc.Summary, Codes: []string{}, Faults: []string{}}
					for _, c := range sc.Codes {
						rows[n].Codes = append(rows[n].Codes, c.Hex())
					}
					for _, f := range sc.Faults {
						rows[n].Faults = append(rows[n].Faults, f.Kind)
					}
					if sc.Expect != nil {
						rows[n].Expect = sc.Expect.Code.Hex()
					}
				}
				return a.printJSON(rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tCODES\tSUMMARY")
			for _, sc := range all {
				cs := make([]string, len(sc.Codes))
				for n, c := range sc.Codes {
					cs[n] = c.Hex()
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", sc.Name, strings.Join(cs, ","), sc.Summary)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON (name, summary, codes, fault kinds, expected code)")
	cmd.AddCommand(list)
	cmd.AddCommand(&cobra.Command{
		Use:   "show NAME|FILE",
		Short: "Show a scenario in canonical form, or every problem of a broken file",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			sc, err := scenarios.Find(args[0])
			if err != nil {
				var le *scenarios.LoadError
				if errors.As(err, &le) {
					return failf("%d problem(s):\n%s", len(le.Problems)+le.More, err)
				}
				return failf("%s", err)
			}
			b, err := scenarios.Marshal(sc)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "# %s\n%s", sc.File, b)
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "fixes [ID...]",
		Short: "The documented fixes: the Windows commands and what each changes in the lab",
		RunE: func(_ *cobra.Command, ids []string) error {
			fixes := scenarios.Fixes
			if len(ids) > 0 {
				fixes = nil
				for _, id := range ids {
					f, ok := scenarios.LookupFix(id)
					if !ok {
						return failf("no fix %q; wufault scenarios fixes lists them", id)
					}
					fixes = append(fixes, f)
				}
			}
			for _, f := range fixes {
				fmt.Fprintf(a.stdout, "%s: %s\n", f.ID, f.Title)
				for _, c := range f.Commands {
					fmt.Fprintf(a.stdout, "    %s\n", c)
				}
				fmt.Fprintf(a.stdout, "  in the lab: %s\n", f.Effect)
				fmt.Fprintf(a.stdout, "  source: %s\n\n", f.Source)
			}
			return nil
		},
	})
	return cmd
}
