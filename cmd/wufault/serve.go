package main

import (
	"context"
	"fmt"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/simulate"
)

func (a *app) serveCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run a world: proxy, DNS, upstream emulator and control API",
		Long: `serve runs the fault-injecting world until interrupted. Every service binds to
loopback by default; binding another address needs --allow-cidr for the lab's client
networks (wufault is never an open proxy), and a proxy serving such a network needs a
--control-token. The proxy never carries traffic to the world's own ports, nor to
loopback or link-local destinations unless the scenario names them or --allow-upstream
does (403 and a journal entry otherwise). An empty address turns a service off.

One world serves many clients: --scenario is the default, and --assign CIDR=SCENARIO
gives the clients in CIDR (or one address) a scenario of their own, on every service
(DNS, proxy, CONNECT, intercepted TLS, emulator), chosen by the client's source address.
Overlapping networks resolve to the most specific one (10.1.2.3/32 before 10.1.0.0/16
before 10.0.0.0/8). Each client address counts its own "when" (first: 3 is three
firings per client). wufault ctl use SCENARIO --client CIDR changes them while it runs.`,
		Example: `  wufault serve --scenario connection-aborted-scan --ready-file /tmp/wufault.json
  netsh winhttp set proxy proxy-server="LAB-HOST:8080"    (on the Windows VM)`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := a.v
			opts := simulate.Options{
				Proxy:          v.GetString("proxy"),
				DNS:            v.GetString("dns"),
				UpstreamHTTP:   v.GetString("upstream-http"),
				UpstreamHTTPS:  v.GetString("upstream-https"),
				Control:        v.GetString("control"),
				ControlToken:   v.GetString("control-token"),
				Resolvers:      v.GetStringSlice("resolver"),
				StateDir:       v.GetString("state-dir"),
				InterceptHosts: v.GetStringSlice("intercept"),
				MaxStall:       v.GetDuration("max-stall"),
				TunnelPeek:     v.GetDuration("tunnel-peek"),
				TunnelIdle:     v.GetDuration("tunnel-idle"),
				BodyTimeout:    v.GetDuration("body-timeout"),
				AllowOpenCIDR:  v.GetBool("allow-open-cidr"),
				Logger:         a.log,
			}
			for _, c := range v.GetStringSlice("allow-upstream") {
				p, err := netip.ParsePrefix(c)
				if err != nil {
					return fmt.Errorf("--allow-upstream %q: %w", c, err)
				}
				opts.AllowUpstream = append(opts.AllowUpstream, p)
			}
			for _, c := range v.GetStringSlice("allow-cidr") {
				p, err := netip.ParsePrefix(c)
				if err != nil {
					return fmt.Errorf("--allow-cidr %q: %w", c, err)
				}
				opts.AllowCIDRs = append(opts.AllowCIDRs, p)
			}
			if p := v.GetString("parent-proxy"); p != "" {
				u, err := url.Parse(p)
				if err != nil || u.Host == "" {
					return fmt.Errorf("--parent-proxy %q: want a URL such as http://proxy.corp:3128", p)
				}
				opts.ParentProxy = u
			}
			var sc *scenarios.Scenario
			if name := v.GetString("scenario"); name != "" {
				var err error
				if sc, err = scenarios.Find(name); err != nil {
					return failf("%s", err)
				}
			}
			type assigned struct {
				pfx netip.Prefix
				sc  *scenarios.Scenario
			}
			var assigns []assigned
			for _, a := range v.GetStringSlice("assign") {
				cidr, name, ok := strings.Cut(a, "=")
				if !ok || name == "" {
					return failf("--assign %q: want CIDR=SCENARIO, such as 192.168.56.10=dns-nxdomain-scan", a)
				}
				pfx, err := simulate.ParsePrefix(cidr)
				if err != nil {
					return failf("--assign %q: %s", a, err)
				}
				sc, err := scenarios.Find(name)
				if err != nil {
					return failf("--assign %q: %s", a, err)
				}
				assigns = append(assigns, assigned{pfx, sc})
			}
			w, err := simulate.New(cmd.Context(), opts)
			if err != nil {
				return err
			}
			defer w.Close()
			if !v.GetBool("quiet") {
				ctx, stop := context.WithCancel(cmd.Context())
				wait := printEvents(ctx, w.Journal(), a.stdout)
				defer wait()
				defer stop()
			}
			if opts.Proxy != "" || opts.UpstreamHTTPS != "" {
				// The lab CA now, not at the first TLS client: a first run
				// says it made one, and how the VMs trust it.
				if _, err := w.LabCA(); err != nil {
					fmt.Fprintf(a.stderr, "wufault: lab CA: %v (TLS interception and the HTTPS emulator fail until it works)\n", err)
				}
			}
			if sc != nil {
				w.Activate(sc.Name, sc.Seed, sc.Faults)
			}
			for _, a := range assigns {
				w.Assign(a.pfx, a.sc.Name, a.sc.Seed, a.sc.Faults)
			}
			addrs := w.Addrs()
			for _, s := range []struct{ name, addr string }{
				{"proxy", addrs.Proxy}, {"dns", addrs.DNS}, {"upstream-http", addrs.UpstreamHTTP},
				{"upstream-https", addrs.UpstreamHTTPS}, {"control", addrs.Control},
			} {
				if s.addr != "" {
					fmt.Fprintf(a.stdout, "%-15s %s\n", s.name, s.addr)
				}
			}
			if sc != nil && v.GetBool("quiet") {
				fmt.Fprintf(a.stdout, "scenario        %s (%d faults)\n", sc.Name, len(sc.Faults))
			}
			if p := v.GetString("pcap"); p != "" {
				defer a.startPcap(cmd.Context(), p, addrs)() // analyze.go
			}
			if f := v.GetString("ready-file"); f != "" {
				if err := w.WriteReadyFile(f); err != nil {
					return err
				}
				// A ready file left behind would name listeners that are gone.
				defer os.Remove(f)
			}
			<-cmd.Context().Done()
			return nil
		},
	}
	f := cmd.Flags()
	f.String("scenario", "", "scenario to activate: a catalog name or a YAML file")
	f.StringSlice("assign", nil, "CIDR=SCENARIO: the clients in CIDR (or one address) meet SCENARIO instead of the default one; the most specific CIDR wins (repeatable)")
	f.String("proxy", "127.0.0.1:8080", "forward proxy address")
	f.String("dns", "127.0.0.1:1053", "DNS server address (UDP and TCP)")
	f.String("upstream-http", "127.0.0.1:8530", "Windows Update emulator, HTTP")
	f.String("upstream-https", "127.0.0.1:8531", "Windows Update emulator, HTTPS")
	f.String("control", "127.0.0.1:8081", "control API address")
	f.String("control-token", "", "bearer token for the control API (required off loopback)")
	f.String("parent-proxy", "", "send upstream traffic through this proxy (http://host:port)")
	f.StringSlice("allow-cidr", nil, "client networks allowed when binding a non-loopback address (repeatable)")
	f.Bool("allow-open-cidr", false, "accept --allow-cidr networks wider than a /8 (0.0.0.0/0 included): the world then serves that much")
	f.StringSlice("allow-upstream", nil, "loopback or link-local destinations the proxy may reach (repeatable CIDR); the world's own ports stay refused")
	f.StringSlice("resolver", nil, "DNS servers (host:port) for names outside the lab zone (repeatable)")
	f.StringSlice("intercept", nil, "host patterns to intercept (MITM) besides those the scenario's tls/http faults target; the lab CA must cover them (wufault ca init --intercept)")
	f.String("ready-file", "", "write the listening addresses as JSON to this file once ready")
	f.String("pcap", "", "record the world's traffic to this pcap file (Linux, CAP_NET_RAW)")
	f.Bool("quiet", false, "print no line per fault firing, scenario change or report (the journal keeps them)")
	f.Duration("max-stall", 2*time.Minute, "upper bound for every stall and open-ended delay")
	f.Duration("tunnel-peek", time.Second, "how long an intercepted CONNECT tunnel waits for the client's first byte before relaying it opaque (an origin may speak first)")
	f.Duration("tunnel-idle", 5*time.Minute, "close an opaque tunnel idle both ways this long (negative: never)")
	f.Duration("body-timeout", time.Minute, "time a client has to send one request body, on the proxy and the control API")
	return cmd
}
