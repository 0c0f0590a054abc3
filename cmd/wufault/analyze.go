package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/simulate"
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

DNS is recognised on 53, on the --dns-port ports, and on any other port by content: a
UDP query and its response make their server port a DNS port (the report says which), and TCP
flows to that port that start afterwards are read as DNS too.`,
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
			all, problems := parseFiles(a, files, func(r io.Reader, name string) (*observe.Analysis, []string, error) {
				an, err := observe.AnalyzeContext(cmd.Context(), r, name, o)
				if an == nil {
					return nil, nil, err
				}
				return an, an.Warnings, err
			}, observe.ErrNotACapture)
			if v.GetBool("json") {
				if err := a.printJSON(all); err != nil {
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
	if len(an.DNSPortsByContent) > 0 {
		fmt.Fprintf(w, "  DNS recognised by content (a query and its response) on port(s) %s\n", joinInts(an.DNSPortsByContent))
	}
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

// startPcap records the world's own traffic (every packet to or from its
// listening ports) to path, for `serve --pcap`, and returns the function
// that stops and closes it. It never stops the world from serving: when
// the platform or the process's privileges do not allow a capture it says
// why on stderr and records nothing.
func (a *app) startPcap(ctx context.Context, path string, addrs simulate.Addrs) (stop func()) {
	stop = func() {}
	var ports []int
	iface := ""
	for _, s := range []string{addrs.Proxy, addrs.DNS, addrs.UpstreamHTTP, addrs.UpstreamHTTPS} {
		ap, err := netip.ParseAddrPort(s)
		if err != nil {
			continue
		}
		ports = append(ports, int(ap.Port()))
		name, err := interfaceOf(ap.Addr())
		if err != nil {
			fmt.Fprintf(a.stderr, "warning: --pcap: %v; recording on the loopback device only\n", err)
			name = "lo"
		}
		if iface != "" && name != iface {
			fmt.Fprintf(a.stderr, "warning: --pcap: services on %s and %s; recording %s only\n", iface, name, iface)
			continue
		}
		iface = name
	}
	if len(ports) == 0 {
		fmt.Fprintln(a.stderr, "warning: --pcap: no proxy, DNS or upstream service to record")
		return stop
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(a.stderr, "warning: --pcap: %v; not recording\n", err)
		return stop
	}
	end, err := observe.Capture(ctx, iface, ports, f)
	if err != nil {
		f.Close()
		os.Remove(path)
		fmt.Fprintf(a.stderr, "warning: --pcap: cannot record the world's traffic: %v\n", err)
		return stop
	}
	fmt.Fprintf(a.stdout, "%-15s %s (%s, ports %v; analyse with: wufault analyze --dns-port %d %s)\n", "pcap", path, iface, ports, dnsPortOf(addrs.DNS), path)
	return func() {
		if err := end(); err != nil {
			fmt.Fprintf(a.stderr, "warning: --pcap: %v\n", err)
		}
		if err := f.Close(); err != nil {
			fmt.Fprintf(a.stderr, "warning: --pcap: %v\n", err)
		}
	}
}

// interfaceOf names the network interface that holds ip ("lo" for
// loopback addresses).
func interfaceOf(ip netip.Addr) (string, error) {
	if ip.IsLoopback() {
		return "lo", nil
	}
	if ip.IsUnspecified() {
		return "", fmt.Errorf("%s listens on every interface", ip)
	}
	ifs, err := net.Interfaces()
	if err != nil {
		return "", err
	}
	for _, in := range ifs {
		as, _ := in.Addrs()
		for _, a := range as {
			if p, err := netip.ParsePrefix(a.String()); err == nil && p.Addr().Unmap() == ip.Unmap() {
				return in.Name, nil
			}
		}
	}
	return "", fmt.Errorf("no interface holds %s", ip)
}

func dnsPortOf(addr string) int {
	if ap, err := netip.ParseAddrPort(addr); err == nil {
		return int(ap.Port())
	}
	return 53
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
