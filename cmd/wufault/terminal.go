package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/wufault/wufault/simulate"
)

// terminalKinds are the journal events serve prints at the default level:
// what a lab operator watches for (the rest stays in the journal).
var terminalKinds = map[string]bool{
	simulate.EventFault:    true,
	simulate.EventScenario: true,
	simulate.EventCA:       true,
	simulate.EventReport:   true,
	simulate.EventError:    true,
}

// printEvents writes one line per fault firing, scenario change, lab CA
// creation, client report and world error of j to out, until ctx ends;
// the returned function waits for the last line.
func printEvents(ctx context.Context, j *simulate.Journal, out io.Writer) (wait func()) {
	ch := j.Subscribe(ctx, 4096)
	// What happened before (the lab CA made while the world started).
	var last uint64
	for _, e := range j.Events(0, nil) {
		if line, ok := eventLine(e); ok {
			fmt.Fprintln(out, line)
		}
		last = e.Seq
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for e := range ch {
			if e.Seq <= last {
				continue
			}
			if line, ok := eventLine(e); ok {
				fmt.Fprintln(out, line)
			}
		}
	}()
	return func() { <-done }
}

// eventLine formats e for the terminal: time, what, then key=value
// fields (client, scenario, kind, host, phase) and the detail.
func eventLine(e simulate.Event) (string, bool) {
	if !terminalKinds[e.Kind] {
		return "", false
	}
	var b strings.Builder
	b.WriteString(e.Time.Format("15:04:05"))
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, " %s=%s", k, quoteField(v))
		}
	}
	switch e.Kind {
	case simulate.EventFault:
		b.WriteString(" fault    ")
		b.WriteString(e.Fault)
		field("client", clientHost(e.Client))
		field("scenario", e.Scenario)
		field("host", e.Host)
		field("phase", string(e.Phase))
		if e.Method != "" || e.Path != "" {
			field("request", strings.TrimSpace(e.Method+" "+e.Path))
		}
		field("conn", idString(e.Conn))
		field("req", idString(e.Req))
	case simulate.EventScenario:
		b.WriteString(" scenario ")
		b.WriteString(cmp.Or(e.Scenario, "(none)"))
		field("client", cmp.Or(e.Client, "default"))
	case simulate.EventCA:
		b.WriteString(" lab CA  ")
	case simulate.EventReport:
		b.WriteString(" report   ")
		b.WriteString(e.Code)
		field("client", clientHost(e.Client))
		field("scenario", e.Scenario)
		field("host", e.Host)
	case simulate.EventError:
		b.WriteString(" error    ")
		b.WriteString(e.Service)
		field("client", clientHost(e.Client))
		field("host", e.Host)
	}
	if e.Detail != "" {
		b.WriteString("  ")
		b.WriteString(e.Detail)
	}
	return b.String(), true
}

// clientHost is the address of a client without its port.
func clientHost(s string) string {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap().String()
	}
	return s
}

func idString(n uint64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprint(n)
}

// quoteField quotes a value with spaces or quotes in it.
func quoteField(s string) string {
	if strings.ContainsAny(s, " \"=") {
		return fmt.Sprintf("%q", s)
	}
	return s
}
