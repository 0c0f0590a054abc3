package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/faults"
)

func (a *app) faultsCommand() *cobra.Command {
	cmd := &cobra.Command{Use: "faults", Short: "The fault kinds wufault can inject"}
	var asJSON bool
	list := &cobra.Command{
		Use:   "list",
		Short: "List every fault kind with its summary",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all := faults.All()
			if asJSON {
				type row struct {
					Kind    string `json:"kind"`
					Layer   string `json:"layer"`
					Summary string `json:"summary"`
				}
				rows := make([]row, len(all))
				for n, i := range all {
					rows[n] = row{i.Kind, i.Layer(), i.Summary}
				}
				return a.printJSON(rows)
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "KIND\tSUMMARY")
			for _, i := range all {
				fmt.Fprintf(tw, "%s\t%s\n", i.Kind, i.Summary)
			}
			return tw.Flush()
		},
	}
	list.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.AddCommand(list)
	return cmd
}
