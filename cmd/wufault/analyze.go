package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/client/observe"
)

func (a *app) analyzeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "analyze FILE.pcap...",
		Short: "Find network-fault signatures in a capture and the Windows Update code each predicts",
		Long: `analyze reads pcap or pcapng captures (tcpdump, Wireshark, pktmon converted with
etl2pcapng, or wufault serve --pcap) and reports per flow: DNS answer codes, TCP RST
and FIN (who sent it, after how many bytes, before or after the response headers),
stalls longer than --stall, TLS alerts and the handshake stage reached, HTTP status
lines (407, 5xx) and malformed replies, with the Windows Update code each signature
predicts, its confidence and its source in reference/wu-codes.md section 4.

The world's DNS usually listens on a port other than 53: name it with --dns-port.`,
		Example: `  wufault analyze lab.pcap
  wufault analyze --dns-port 1053 --stall 5s --json lab.pcapng`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, files []string) error {
			v := a.v
			o := observe.AnalyzeOptions{StallThreshold: v.GetDuration("stall")}
			for _, p := range v.GetIntSlice("dns-port") {
				if p <= 0 || p > 65535 {
					return failf("--dns-port %d: not a port", p)
				}
				o.DNSPorts = append(o.DNSPorts, p)
			}
			var all []*observe.Analysis
			var problems []string
			for _, name := range files {
				f, err := os.Open(name)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				an, err := observe.Analyze(f, name, o)
				f.Close()
				for _, w := range an.Warnings {
					fmt.Fprintln(a.stderr, "warning:", w)
				}
				if err != nil {
					problems = append(problems, err.Error())
					if errors.Is(err, observe.ErrNotACapture) {
						continue
					}
				}
				all = append(all, an)
			}
			if v.GetBool("json") {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				if err := enc.Encode(all); err != nil {
					return err
				}
			} else {
				for _, an := range all {
					a.printAnalysis(an, v.GetBool("all-flows"))
				}
			}
			if len(problems) > 0 {
				return failf("%s", strings.Join(problems, "\n"))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Bool("json", false, "print JSON: flows, DNS queries and findings with predictions")
	f.Duration("stall", 2*time.Second, "silence on a flow that counts as a stall")
	f.IntSlice("dns-port", nil, "UDP/TCP port carrying DNS besides 53 (repeatable; the world's DNS is 1053)")
	f.Bool("all-flows", false, "list every flow, not only those with findings")
	return cmd
}

func (a *app) printAnalysis(an *observe.Analysis, allFlows bool) {
	w := a.stdout
	dur := an.End.Sub(an.Start)
	fmt.Fprintf(w, "%s: %s, %d packets over %s, %d TCP flows, %d DNS queries, %d findings\n",
		an.Source, an.Format, an.Packets, dur.Round(time.Millisecond), len(an.Flows), len(an.DNS), len(an.Findings))
	rel := func(t time.Time) string {
		if t.IsZero() {
			return "-"
		}
		return fmt.Sprintf("+%.3fs", t.Sub(an.Start).Seconds())
	}
	for _, q := range an.DNS {
		if !allFlows && q.Answered && q.Rcode == "NOERROR" && len(q.Answers) > 0 {
			continue
		}
		state := "no answer"
		if q.Answered {
			state = q.Rcode
			if len(q.Answers) > 0 {
				state += " " + strings.Join(q.Answers, ", ")
			}
		}
		fmt.Fprintf(w, "  dns   %s  %s %s %s → %s  (%s, sent %d×)\n", rel(q.Time), q.Transport, q.Name, q.Type, state, q.Server, q.Sends)
	}
	byFlow := map[int][]observe.Finding{}
	for _, f := range an.Findings {
		byFlow[f.Flow] = append(byFlow[f.Flow], f)
	}
	for _, fl := range an.Flows {
		if !allFlows && len(fl.Findings) == 0 {
			continue
		}
		fmt.Fprintf(w, "  flow %d  %s → %s  %s  %s\n", fl.ID, fl.Client, fl.Server, orDash(fl.Protocol), flowEnd(fl))
		for _, ex := range fl.HTTP {
			st := "no answer"
			switch {
			case ex.Malformed != "":
				st = "malformed reply " + ex.Malformed
			case ex.Status != 0:
				st = fmt.Sprintf("%d %s", ex.Status, ex.Reason)
				if ex.HeadersDone {
					if ex.ContentLength >= 0 {
						st += fmt.Sprintf(", body %d/%d", ex.BodyBytes, ex.ContentLength)
					} else {
						st += fmt.Sprintf(", body %d", ex.BodyBytes)
					}
				}
			}
			fmt.Fprintf(w, "        %s %s %s → %s\n", rel(ex.Time), ex.Method, trunc(ex.Target, 80), st)
		}
		if t := fl.TLS; t != nil {
			fmt.Fprintf(w, "        tls sni=%s version=%s stage=%s  %s\n", orDash(t.SNI), orDash(t.Version), orDash(t.Stage), strings.Join(t.Messages, " | "))
		}
	}
	if len(an.Findings) == 0 {
		fmt.Fprintln(w, "  no fault signatures")
		return
	}
	fmt.Fprintln(w, "  findings:")
	for _, f := range an.Findings {
		where := "dns"
		if f.Flow != 0 {
			where = fmt.Sprintf("flow %d", f.Flow)
		}
		fmt.Fprintf(w, "    %s  %-8s %-22s %s\n", rel(f.Time), where, f.Signature, f.Detail)
		if p := f.Prediction; p != nil {
			fmt.Fprintf(w, "        ⇒ %s  confidence %s  (%s; %s)\n", p.Code, p.Confidence, p.Row, p.Source)
			for _, alt := range p.Alt {
				fmt.Fprintf(w, "          or %s: %s\n", alt.Code, alt.When)
			}
		}
	}
}

func flowEnd(f *observe.Flow) string {
	s := fmt.Sprintf("client %d B, server %d B", f.ClientBytes, f.ServerBytes)
	if f.Close != "" {
		s += fmt.Sprintf(", first %s by the %s", strings.ToUpper(f.Close), f.ClosedBy)
	} else {
		s += ", open at the end"
	}
	return s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
