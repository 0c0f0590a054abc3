package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/wufault/wufault/atlas"
)

func (a *app) atlasCommand() *cobra.Command {
	var (
		format, out, shard string
		kinds, classes     []string
		variants           []string
		gens               []string
		withWine           bool
		wineAgent          string
		wineTimeout        time.Duration
	)
	cmd := &cobra.Command{
		Use:   "atlas",
		Short: "Run every fault kind × variant × class × generation against the emulated client and print the fault → code atlas",
		Long: `atlas generates its cells from the fault registry: every kind, its main variants (each phase
of a phase-bound kind, HTTP statuses, certificate profiles, alerts, malformed responses …),
each request class (the fault matched on that class alone, so earlier classes succeed), both
client generations, and for downloads each download stack. Every cell runs in a world on
loopback and records the code, phase, WinHTTP error, the deciding client rule and that rule's
confidence and source. --shard i/n runs every n-th cell (0-based i) so that a long run
(--realtime) can be split over machines; "wufault atlas merge" joins the JSON shards.

--wine also sends each cell's request through Wine's WinHTTP (the Windows agent under Wine,
one private prefix and wineserver per run) through the same world while the cell's fault is
active, and shows Wine's WinHTTP error beside the emulated client's: agree, "wine deviation:
WHICH" for Wine's known differences from Windows, or DISAGREES. The agent is built with the go
command inside the source tree, or given with --wine-agent.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vo, cleanup, err := a.runOptions(cmd)
			if err != nil {
				return err
			}
			defer cleanup()
			o := atlas.Options{Filters: atlas.Filters{Kinds: kinds, Variants: variants, Classes: classes, Generations: gens},
				Parallel: vo.Parallel, StateDir: vo.StateDir, TimeScale: vo.TimeScale, Logger: a.log, Progress: a.atlasProgress()}
			if shard != "" {
				if o.Shard, err = atlas.ParseShard(shard); err != nil {
					return err
				}
			}
			if err := checkFilters(o.Filters); err != nil {
				return err
			}
			if withWine {
				dir, err := os.MkdirTemp("", "wufault-wine-")
				if err != nil {
					return err
				}
				defer os.RemoveAll(dir)
				o.Wine = &atlas.WineOptions{Dir: dir, Agent: wineAgent, Timeout: wineTimeout}
			}
			at, err := atlas.Run(cmd.Context(), o)
			if err != nil {
				return err
			}
			return writeAtlas(a.stdout, at, format, out)
		},
	}
	runFlags(cmd)
	f := cmd.Flags()
	f.StringVar(&format, "format", "table", "output format: "+strings.Join(atlas.Formats, ", "))
	f.StringVar(&out, "out", "", "write to this file instead of standard output")
	f.StringVar(&shard, "shard", "", "run only shard i of n (0-based: 0/4 … 3/4)")
	f.StringSliceVar(&kinds, "kind", nil, "only these fault kinds (repeatable; tls.* for a family)")
	f.StringSliceVar(&variants, "variant", nil, "only these variants, as the atlas labels them (at=body, status=503, …)")
	f.StringSliceVar(&classes, "class", nil, "only these classes: "+strings.Join(atlas.Classes, ", "))
	f.StringSliceVar(&gens, "generation", nil, "only these generations: "+strings.Join(atlas.Generations, ", "))
	f.BoolVar(&withWine, "wine", false, "also run each cell's request through Wine's WinHTTP (needs wine64 and mingw)")
	f.StringVar(&wineAgent, "wine-agent", "", "--wine: a wufault-agent.exe built for windows/amd64 (default: build it with go)")
	f.DurationVar(&wineTimeout, "wine-timeout", 2*time.Second, "--wine: the agent's WinHTTP timeouts")
	cmd.AddCommand(a.atlasMergeCommand())
	return cmd
}

func checkFilters(f atlas.Filters) error {
	for _, c := range f.Classes {
		if !contains(atlas.Classes, c) {
			return fmt.Errorf("--class %q: want one of %s", c, strings.Join(atlas.Classes, ", "))
		}
	}
	for _, g := range f.Generations {
		if !contains(atlas.Generations, g) {
			return fmt.Errorf("--generation %q: want one of %s", g, strings.Join(atlas.Generations, ", "))
		}
	}
	if len(f.Kinds) > 0 && len(atlas.Plan(atlas.Filters{Kinds: f.Kinds})) == 0 {
		return fmt.Errorf("--kind %s: no registered fault kind matches (see wufault faults list)", strings.Join(f.Kinds, ","))
	}
	if len(f.Variants) > 0 && len(atlas.Plan(atlas.Filters{Kinds: f.Kinds, Variants: f.Variants})) == 0 {
		return fmt.Errorf("--variant %s: no variant of the chosen kinds has that label (wufault atlas --format json lists them)", strings.Join(f.Variants, ","))
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (a *app) atlasMergeCommand() *cobra.Command {
	var format, out string
	cmd := &cobra.Command{
		Use:   "merge FILE...",
		Short: "Join atlas shards (JSON files from atlas --shard i/n --format json) into one atlas",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, files []string) error {
			var parts []*atlas.Atlas
			for _, name := range files {
				f, err := os.Open(name)
				if err != nil {
					return err
				}
				at, err := atlas.ReadJSON(f, name)
				f.Close()
				if err != nil {
					return err
				}
				parts = append(parts, at)
			}
			m, err := atlas.Merge(parts)
			if err != nil {
				return err
			}
			return writeAtlas(a.stdout, m, format, out)
		},
	}
	cmd.Flags().StringVar(&format, "format", "json", "output format: "+strings.Join(atlas.Formats, ", "))
	cmd.Flags().StringVar(&out, "out", "", "write to this file instead of standard output")
	return cmd
}

func writeAtlas(stdout io.Writer, at *atlas.Atlas, format, out string) error {
	if out == "" {
		return atlas.Render(stdout, at, format)
	}
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if err := atlas.Render(f, at, format); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %s\n", out, at.SummaryLine())
	return nil
}

// atlasProgress draws a progress line on stderr when it is a terminal.
func (a *app) atlasProgress() func(done, total int, c atlas.Cell) {
	f, ok := a.stderr.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	start := time.Now()
	return func(done, total int, c atlas.Cell) {
		fmt.Fprintf(f, "\r\033[K%d/%d %s (%s)", done, total, c.ID, time.Since(start).Round(time.Second))
		if done == total {
			fmt.Fprint(f, "\r\033[K")
		}
	}
}
