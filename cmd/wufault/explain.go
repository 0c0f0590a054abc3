package main

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/atlas"
	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/scenarios"
)

func (a *app) explainCommand() *cobra.Command {
	var (
		asJSON    bool
		atlasFile string
		top       int
	)
	cmd := &cobra.Command{
		Use:   "explain LOG...",
		Short: "Read a WindowsUpdate.log (either format) or an event export and name the faults that give its codes",
		Long: `explain reads the logs backwards: each failing code with its context (the URL and so the
request class, the HTTP status, the proxy list, the component, the line's words), then the
atlas cells that produce that code, ranked by the deciding rule's confidence and by how well
class, generation and status agree with the log; for each, the catalog scenario that
reproduces it in the lab (or the cell's generated scenario) and the fixes the lab checks.
Without --atlas it runs the atlas cells of the classes and generations the logs point to.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			type logFailures struct {
				File     string          `json:"file"`
				Format   observe.Format  `json:"format"`
				Failures []atlas.Failure `json:"failures"`
			}
			var logs []logFailures
			var f atlas.Filters
			for _, name := range files {
				fh, err := os.Open(name)
				if err != nil {
					return err
				}
				res, err := observe.ParseLog(fh, name, observe.LogOptions{})
				fh.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				fs := atlas.Failures(res)
				logs = append(logs, logFailures{File: name, Format: res.Format, Failures: fs})
				for _, fl := range fs {
					if fl.Class != "" && !slices.Contains(f.Classes, fl.Class) {
						f.Classes = append(f.Classes, fl.Class)
					}
					if fl.Generation != "" && !slices.Contains(f.Generations, fl.Generation) {
						f.Generations = append(f.Generations, fl.Generation)
					}
				}
			}
			at, err := a.explainAtlas(cmd, atlasFile, f)
			if err != nil {
				return err
			}
			catalog, err := scenarios.Catalog()
			if err != nil {
				return err
			}
			for i := range logs {
				logs[i].Failures = atlas.Explain(logs[i].Failures, at, catalog, top)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(logs)
			}
			for _, l := range logs {
				fmt.Fprintf(a.stdout, "== %s (%s)\n", l.File, l.Format)
				if len(l.Failures) == 0 {
					fmt.Fprintln(a.stdout, "no failing code")
				}
				if err := atlas.WriteExplanation(a.stdout, l.Failures); err != nil {
					return err
				}
			}
			return nil
		},
	}
	runFlags(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the failures and candidates as JSON")
	cmd.Flags().StringVar(&atlasFile, "atlas", "", "use this atlas (wufault atlas --format json) instead of running the cells")
	cmd.Flags().IntVar(&top, "top", 5, "candidates per code")
	return cmd
}

// explainAtlas loads the atlas file, or runs the cells of the filters.
func (a *app) explainAtlas(cmd *cobra.Command, file string, f atlas.Filters) (*atlas.Atlas, error) {
	if file != "" {
		fh, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer fh.Close()
		return atlas.ReadJSON(fh, file)
	}
	vo, cleanup, err := a.runOptions(cmd)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	return atlas.Run(cmd.Context(), atlas.Options{Filters: f, Parallel: vo.Parallel, StateDir: vo.StateDir, TimeScale: vo.TimeScale, Logger: a.log})
}
