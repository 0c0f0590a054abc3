package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/buildinfo"
	"github.com/wufault/wufault/client/winagent"
	"github.com/wufault/wufault/codes"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	var ue usageError
	switch {
	case err == nil:
	case errors.As(err, &ue):
		fmt.Fprintln(os.Stderr, "wufault-agent:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "wufault-agent:", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

// output is the JSON form of a run.
type output struct {
	Host   string                 `json:"host"`
	Probes []winagent.ProbeResult `json:"probes,omitempty"`
	Scan   *winagent.ScanResult   `json:"scan,omitempty"`
}

// run is main without os: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("wufault-agent", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var urls multi
	fs.Var(&urls, "url", "URL to probe (repeatable; default: the Microsoft Update endpoints, or --wsus's)")
	role := fs.String("role", "", "how each --url is requested: scan (SOAP GetConfig POST), file (GET with a Range), host (plain GET, the default)")
	wsus := fs.String("wsus", "", "probe this WSUS server's endpoints (http://host:8530)")
	proxy := fs.String("proxy", "", "named proxy host:port (default: the WinHTTP system proxy, as WUA uses)")
	direct := fs.Bool("direct", false, "no proxy at all")
	timeout := fs.Duration("timeout", 0, "WinHttpSetTimeouts for each phase (0: WinHTTP's defaults)")
	noProbe := fs.Bool("no-probe", false, "skip the WinHTTP probe")
	doScan := fs.Bool("scan", false, "also run a Windows Update scan through the WUA COM API")
	criteria := fs.String("criteria", "", "search criteria for --scan (default IsInstalled=0 and Type='Software')")
	server := fs.Int("server-selection", 0, "--scan ServerSelection: 0 default, 1 WSUS, 2 Windows Update")
	report := fs.String("report", "", "post the results to the lab's control API (http://lab:8081)")
	token := fs.String("token", os.Getenv("WUFAULT_CONTROL_TOKEN"), "bearer token for --report (env WUFAULT_CONTROL_TOKEN)")
	asJSON := fs.Bool("json", false, "print JSON")
	setup := fs.Bool("print-setup", false, "print the commands that point this machine at the lab and exit")
	labProxy := fs.String("lab-proxy", "", "--print-setup: the lab proxy host:port")
	ca := fs.String("ca", "lab-ca.cer", "--print-setup: the exported lab CA certificate")
	verbose := fs.Bool("v", false, "log progress to stderr")
	version := fs.Bool("version", false, "print the module version and VCS revision this binary was built from and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{err}
	}
	if *version {
		_, err := fmt.Fprintln(stdout, buildinfo.Read("wufault-agent"))
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments %q", fs.Args())}
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	if *setup {
		if *labProxy == "" {
			return usageError{errors.New("--print-setup needs --lab-proxy HOST:PORT (the lab proxy as the VM reaches it)")}
		}
		fmt.Fprintln(stdout, "rem Run as administrator on the Windows VM. Point WinHTTP (the proxy Windows Update uses) at the lab,")
		fmt.Fprintln(stdout, "rem trust the lab CA, and restart the services: WU reads the proxy when it starts.")
		for _, c := range winagent.SetupCommands(*labProxy, *ca) {
			fmt.Fprintln(stdout, c)
		}
		thumb := ""
		if b, err := os.ReadFile(*ca); err == nil {
			thumb, _ = winagent.Thumbprint(b)
		}
		fmt.Fprintln(stdout, "rem To undo:")
		for _, c := range winagent.UndoCommands(thumb) {
			fmt.Fprintln(stdout, "rem   "+c)
		}
		return nil
	}
	if *proxy != "" && *direct {
		return usageError{errors.New("--proxy and --direct exclude each other")}
	}
	host, _ := os.Hostname()
	out := output{Host: host}
	var reports []winagent.Report
	if !*noProbe {
		eps, err := winagent.Targets(urls, *wsus)
		if err != nil {
			return usageError{err}
		}
		if *role != "" {
			r := client.Role(*role)
			if r != client.RoleScan && r != client.RoleFile && r != client.RoleHost {
				return usageError{fmt.Errorf("--role %q: want scan, file or host", *role)}
			}
			if len(urls) == 0 {
				return usageError{errors.New("--role applies to --url")}
			}
			for i := range eps {
				eps[i].Role = r
			}
		}
		o := winagent.ProbeOptions{Proxy: *proxy, Direct: *direct, Timeout: *timeout}
		for _, ep := range eps {
			if ctx.Err() != nil {
				break
			}
			log.Info("probe", "url", ep.URL)
			r := winagent.Probe(ctx, ep, o)
			out.Probes = append(out.Probes, r)
			reports = append(reports, winagent.ProbeReport(host, r, time.Now()))
		}
	}
	if *doScan {
		log.Info("scan", "criteria", *criteria)
		s := winagent.Scan(ctx, winagent.ScanOptions{Criteria: *criteria, ServerSelection: *server})
		out.Scan = &s
		reports = append(reports, winagent.ScanReport(host, s, time.Now()))
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			return err
		}
	} else {
		printText(stdout, out)
	}
	if *report != "" && len(reports) > 0 {
		if err := winagent.PostReports(ctx, nil, *report, *token, reports); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "reported %d observations to %s\n", len(reports), *report)
	}
	return nil
}

func printText(w io.Writer, out output) {
	if len(out.Probes) > 0 {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "URL\tSTAGE\tWINHTTP\tSTATUS\tWUA WOULD REPORT\tPROXY")
		for _, p := range out.Probes {
			win := "-"
			if p.Win32 != 0 {
				win = fmt.Sprintf("%d %s", p.Win32, p.Code.Hex())
			}
			st := "-"
			if p.Status != 0 {
				st = fmt.Sprint(p.Status)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.URL, p.Stage, win, st, name(p.WUA), p.Proxy)
		}
		tw.Flush()
		for _, p := range out.Probes {
			if p.Note != "" {
				fmt.Fprintf(w, "note: %s: %s\n", p.URL, p.Note)
			}
		}
	}
	if s := out.Scan; s != nil {
		fmt.Fprintf(w, "scan: %s, stage %s, result %s, %d updates (%s)\n", name(s.Code), s.Stage, s.ResultName, s.Updates, s.Duration.Round(time.Millisecond))
		for _, wn := range s.Warnings {
			fmt.Fprintf(w, "  warning %s: %s\n", wn.HResult, wn.Message)
		}
		if s.Note != "" {
			fmt.Fprintf(w, "  note: %s\n", s.Note)
		}
	}
}

func name(c codes.Code) string {
	if c == codes.OK {
		return "0x00000000 (ok)"
	}
	return c.String()
}
