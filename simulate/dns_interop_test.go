package simulate

import (
	"context"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// TestDNSInteropDig queries the server with BIND's dig, an independent
// client: lab answers, the NXDOMAIN SOA minimum, SERVFAIL, NODATA and the
// UDP→TCP retry after a truncated answer.
func TestDNSInteropDig(t *testing.T) {
	digPath, err := exec.LookPath("dig")
	if err != nil {
		t.Skip("dig not found: install Debian's dnsutils (apt-get install -y dnsutils) to run the DNS interop test")
	}
	t.Parallel()
	w, addr := dnsWorld(t, Options{}, "127.0.0.1:8530", nil)
	activate(t, w,
		faults.Spec{Kind: "dns.nxdomain", Match: faults.Match{Host: "nx.update.microsoft.com"}, Fault: &faults.NXDomain{NegativeTTL: faults.NegativeTTL{NegativeTTL: profile.Duration(123 * time.Second)}}},
		faults.Spec{Kind: "dns.servfail", Match: faults.Match{Host: "fail.update.microsoft.com"}, Fault: &faults.ServFail{}},
		faults.Spec{Kind: "dns.truncate", Match: faults.Match{Host: "tc.update.microsoft.com"}, Fault: &faults.DNSTruncate{}},
	)
	host, port, _ := net.SplitHostPort(addr)
	dig := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		all := append([]string{"@" + host, "-p", port, "+tries=1", "+time=3"}, args...)
		out, err := exec.CommandContext(ctx, digPath, all...).CombinedOutput()
		if err != nil {
			t.Fatalf("dig %s: %v\n%s", strings.Join(all, " "), err, out)
		}
		return string(out)
	}
	// records returns the record lines of dig output (no comments).
	records := func(out string) [][]string {
		var rs [][]string
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) >= 4 && !strings.HasPrefix(l, ";") {
				rs = append(rs, f)
			}
		}
		return rs
	}

	for _, transport := range []string{"+notcp", "+tcp"} {
		out := dig(transport, "Fe2.Update.Microsoft.com", "A", "+noall", "+answer", "+comments")
		rs := records(out)
		if len(rs) != 1 || strings.Join(rs[0], " ") != "Fe2.Update.Microsoft.com. 60 IN A 127.0.0.1" || !strings.Contains(out, "flags: qr aa rd ra") {
			t.Errorf("dig %s lab A:\n%s\nwant one authoritative record Fe2.Update.Microsoft.com. 60 IN A 127.0.0.1", transport, out)
		}
	}

	out := dig("nx.update.microsoft.com", "A")
	var soa []string
	for _, r := range records(out) {
		if r[3] == "SOA" {
			soa = r
		}
	}
	if !strings.Contains(out, "status: NXDOMAIN") || len(soa) != 11 || soa[0] != "update.microsoft.com." || soa[1] != "123" || soa[10] != "123" {
		t.Errorf("dig NXDOMAIN:\n%s\nwant status NXDOMAIN and an SOA of update.microsoft.com. with TTL and minimum 123", out)
	}

	if out := dig("+tcp", "fail.update.microsoft.com", "A"); !strings.Contains(out, "status: SERVFAIL") {
		t.Errorf("dig SERVFAIL:\n%s", out)
	}

	out = dig("fe2.update.microsoft.com", "AAAA")
	if !strings.Contains(out, "status: NOERROR") || !strings.Contains(out, "ANSWER: 0") || !strings.Contains(out, "IN\tSOA\tns.wufault.invalid.") {
		t.Errorf("dig AAAA:\n%s\nwant NODATA with an SOA", out)
	}

	out = dig("tc.update.microsoft.com", "A")
	if !strings.Contains(out, "Truncated, retrying in TCP mode") || !strings.Contains(out, "127.0.0.1") || !strings.Contains(out, "(TCP)") {
		t.Errorf("dig truncated:\n%s\nwant a retry over TCP that gets 127.0.0.1", out)
	}
}
