package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/ctl"
	"github.com/wufault/wufault/simulate"
)

func (a *app) ctlCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ctl",
		Short: "Drive a running world through its control API",
		Long: `ctl talks to the control API of a running "wufault serve" (--control, with
--control-token or WUFAULT_CONTROL_TOKEN when the API has a token).`,
		Example: `  wufault ctl use dns-nxdomain-scan
  wufault ctl journal --follow --event fault
  wufault ctl --control 192.168.56.1:8081 --control-token "$TOKEN" journal`,
	}
	pf := cmd.PersistentFlags()
	pf.String("control", "127.0.0.1:8081", "control API address (host:port or URL)")
	pf.String("control-token", "", "bearer token of the control API")

	var client string
	use := &cobra.Command{
		Use:   "use SCENARIO [--client CIDR]",
		Short: "Activate a scenario (a catalog name or a YAML file) for every client or, with --client, for those in CIDR; \"none\" deactivates every fault (with --client: back to the default)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.ctlClient()
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if client != "" {
				return a.ctlAssign(ctx, c, client, args[0])
			}
			var v ctl.Scenario
			switch name := args[0]; {
			case name == "none":
				if err := c.ClearScenario(ctx); err != nil {
					return err
				}
			case isFile(name):
				body, err := os.ReadFile(name)
				if err != nil {
					return err
				}
				v, err = c.UseScenarioYAML(ctx, body)
				if err != nil {
					return err
				}
			default:
				if v, err = c.UseScenario(ctx, name); err != nil {
					return err
				}
			}
			fmt.Fprintf(a.stdout, "default scenario: %s (%d faults)\n", cmp.Or(v.Name, "none"), len(v.Faults))
			return nil
		},
	}

	use.Flags().StringVar(&client, "client", "", "the client address or CIDR to assign the scenario to")

	clients := &cobra.Command{
		Use:   "clients",
		Short: "List the client assignments (most specific first) and the default scenario, with each client address's firings",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.ctlClient()
			if err != nil {
				return err
			}
			vs, err := c.Clients(cmd.Context())
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "CLIENT\tSCENARIO\tFAULTS\tFIRED\tADDRESSES SEEN")
			for _, v := range vs {
				var fired int64
				for _, r := range v.Scenario.Faults {
					fired += r.Hits.Fired
				}
				var seen []string
				for _, ad := range v.Addresses {
					seen = append(seen, ad.Address)
				}
				fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\n", v.Client, cmp.Or(v.Scenario.Name, "(none)"), len(v.Scenario.Faults), fired, strings.Join(seen, " "))
			}
			return tw.Flush()
		},
	}

	var follow, asJSON bool
	var q ctl.JournalQuery
	journal := &cobra.Command{
		Use:   "journal",
		Short: "Print the journal: fault firings, scenario changes, reports (--follow: live)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.ctlClient()
			if err != nil {
				return err
			}
			print := func(e simulate.Event) error {
				if asJSON {
					return a.printJSONLine(e)
				}
				if line, ok := eventLine(e); ok {
					fmt.Fprintln(a.stdout, line)
				} else if q.Event != "" {
					fmt.Fprintln(a.stdout, e.Time.Format("15:04:05"), e.Kind, clientHost(e.Client), e.Host, e.Detail)
				}
				return nil
			}
			if follow {
				c.HTTP.Timeout = 0
				err := c.Follow(cmd.Context(), q, print)
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			evs, err := c.Journal(cmd.Context(), q)
			if err != nil {
				return err
			}
			for _, e := range evs {
				if err := print(e); err != nil {
					return err
				}
			}
			return nil
		},
	}
	jf := journal.Flags()
	jf.BoolVarP(&follow, "follow", "f", false, "keep printing events as they happen, until interrupted")
	jf.BoolVar(&asJSON, "json", false, "print each event as one line of JSON")
	jf.Uint64Var(&q.Since, "since", 0, "only events after this sequence number")
	jf.IntVar(&q.Limit, "limit", 0, "at most this many events (without --follow)")
	jf.StringVar(&q.Event, "event", "", "only this event kind (fault, scenario, report, request, dns.query …; default: every kind, printing faults, scenarios, reports and errors)")
	jf.StringVar(&q.Fault, "fault", "", "only firings of this fault kind")

	cmd.AddCommand(use, clients, journal)
	return cmd
}

// ctlAssign gives the clients in cidr the scenario (a catalog name, a
// file, or "none": back to the default).
func (a *app) ctlAssign(ctx context.Context, c *ctl.Client, cidr, scenario string) error {
	var v ctl.ClientAssignment
	var err error
	switch {
	case scenario == "none":
		if err := c.Unassign(ctx, cidr); err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "client %s: back to the default scenario\n", cidr)
		return nil
	case isFile(scenario):
		body, rerr := os.ReadFile(scenario)
		if rerr != nil {
			return rerr
		}
		v, err = c.AssignYAML(ctx, cidr, body)
	default:
		v, err = c.Assign(ctx, cidr, scenario)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "client %s: scenario %s (%d faults)\n", v.Client, v.Scenario.Name, len(v.Scenario.Faults))
	return nil
}

// ctlClient is the control API client the ctl flags describe.
func (a *app) ctlClient() (*ctl.Client, error) {
	return ctl.New(a.v.GetString("control"), a.v.GetString("control-token"))
}

// printJSONLine writes v as one line of JSON.
func (a *app) printJSONLine(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	_, err = a.stdout.Write(b)
	return err
}

// isFile reports whether name is a file (a scenario given by path rather
// than by catalog name).
func isFile(name string) bool {
	if strings.ContainsAny(name, `/\`) || strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") {
		return true
	}
	st, err := os.Stat(name)
	return err == nil && st.Mode().IsRegular()
}
