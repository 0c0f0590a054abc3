package observe_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/codes"
)

// The pcaps under testdata/pcap were recorded by TestAnalyzeLiveFaults
// (go test -run TestAnalyzeLiveFaults -update as root): real faults served
// on loopback, captured with observe.Capture. Analysing them needs no
// privilege, so these expectations hold everywhere.
var committed = []struct {
	file     string
	sig      observe.Signature
	code     codes.Code
	dnsPorts bool
	stall    time.Duration
}{
	{"tcp-reset-mid-body.pcap", observe.SigTCPReset, 0x80072EFE, false, 0},
	{"tcp-fin-mid-body.pcap", observe.SigTCPFINMidBody, 0x80072EFE, false, 0},
	{"tcp-refused.pcap", observe.SigTCPRefused, 0x80072EFD, false, 0},
	{"dns-nxdomain.pcap", observe.SigDNSNXDomain, 0x8024402C, true, 0},
	{"tls-alert.pcap", observe.SigTLSAlert, 0x80072F8F, false, 0},
	{"tls-reset.pcap", observe.SigTLSReset, 0x80072EFE, false, 0},
	{"tls-untrusted.pcap", observe.SigTLSClientAlert, 0x80072F8F, false, 0},
	{"proxy-407.pcap", observe.SigProxyAuth, 0x8024401B, false, 0},
	{"http-503-malformed.pcap", observe.SigHTTPStatus, 0x80244022, false, 0},
	{"http-503-malformed.pcap", observe.SigHTTPMalformed, 0x80072F78, false, 0},
	{"tcp-stall.pcap", observe.SigStall, 0x80072EE2, false, 300 * time.Millisecond},
}

func readPcap(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "pcap", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// dnsPort finds the world's DNS port in a capture: the UDP port both
// directions share.
func dnsPort(t *testing.T, pcap []byte) int {
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	data, _, err := r.ReadPacketData()
	if err != nil {
		t.Fatal(err)
	}
	// Ethernet 14 + IPv4 20: UDP destination port at 36.
	return int(data[36])<<8 | int(data[37])
}

func TestAnalyzeCommitted(t *testing.T) {
	for _, c := range committed {
		t.Run(c.file+"/"+string(c.sig), func(t *testing.T) {
			b := readPcap(t, c.file)
			o := observe.AnalyzeOptions{StallThreshold: c.stall}
			if c.dnsPorts {
				o.DNSPorts = []int{dnsPort(t, b)}
			}
			an, err := observe.Analyze(bytes.NewReader(b), c.file, o)
			if err != nil {
				t.Fatal(err)
			}
			if len(an.Warnings) > 0 {
				t.Errorf("warnings: %v", an.Warnings)
			}
			expect(t, an, c.sig, c.code, nil)
			// Each capture shows one fault: no other signature predicts a
			// different code (client resets aside).
			for _, f := range an.Findings {
				if f.Signature == c.sig || f.Prediction == nil {
					continue
				}
				if c.file == "http-503-malformed.pcap" && (f.Signature == observe.SigHTTPStatus || f.Signature == observe.SigHTTPMalformed) {
					continue
				}
				t.Errorf("unexpected extra finding %s: %s", f.Signature, f.Detail)
			}
		})
	}
}

// TestAnalyzePcapng writes a committed capture as pcapng and checks the
// analysis is the same.
func TestAnalyzePcapng(t *testing.T) {
	b := readPcap(t, "tcp-reset-mid-body.pcap")
	r, err := pcapgo.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	var ng bytes.Buffer
	w, err := pcapgo.NewNgWriter(&ng, layers.LinkTypeEthernet)
	if err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	an, err := observe.Analyze(&ng, "ng", observe.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if an.Format != "pcapng" {
		t.Errorf("format %q", an.Format)
	}
	expect(t, an, observe.SigTCPReset, 0x80072EFE, nil)
}

func TestAnalyzeBadInput(t *testing.T) {
	good := readPcap(t, "tcp-fin-mid-body.pcap")
	cases := []struct {
		name    string
		in      []byte
		wantErr error
		warn    bool
	}{
		{"empty", nil, observe.ErrNotACapture, false},
		{"text", []byte("this is not a capture at all\n"), observe.ErrNotACapture, false},
		{"header only", good[:24], nil, false},
		{"cut mid-header", good[:10], nil, false},
		{"cut mid-packet", good[:len(good)-30], nil, true},
		{"cut mid-packet-header", good[:24+8], nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			an, err := observe.Analyze(bytes.NewReader(c.in), c.name, observe.AnalyzeOptions{})
			if an == nil {
				t.Fatal("nil analysis")
			}
			if c.wantErr != nil && !errors.Is(err, c.wantErr) {
				t.Errorf("err %v, want %v", err, c.wantErr)
			}
			if c.warn && len(an.Warnings) == 0 {
				t.Errorf("no warning for a truncated capture")
			}
		})
	}
	// A truncated capture still reports what it holds: the FIN mid-body
	// is the last packets, so cut earlier and the flow is still there.
	an, _ := observe.Analyze(bytes.NewReader(good[:len(good)-30]), "cut", observe.AnalyzeOptions{})
	if len(an.Flows) != 1 || len(an.Flows[0].HTTP) != 1 || an.Flows[0].HTTP[0].Status != 200 {
		t.Errorf("partial result: %+v", an.Flows)
	}
}

func TestAnalyzeJSON(t *testing.T) {
	an, err := observe.Analyze(bytes.NewReader(readPcap(t, "proxy-407.pcap")), "proxy-407.pcap", observe.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(an)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"signature":"proxy.auth"`, `"code":"0x8024401B"`, `"confidence":"high"`, `"source":"[L-WUCOMMON] [L-SCAN] [KTC]"`, `"status":407`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}

// expect checks that the analysis holds a finding with the signature and
// predicted code, and returns it.
func expect(t *testing.T, an *observe.Analysis, sig observe.Signature, code codes.Code, check func(observe.Finding) error) {
	t.Helper()
	var seen []string
	for _, f := range an.Findings {
		seen = append(seen, fmt.Sprintf("%s(%s %s %q)", f.Signature, f.Who, f.Phase, f.Detail))
		if f.Signature != sig {
			continue
		}
		if f.Prediction == nil || f.Prediction.Code != code {
			t.Errorf("%s predicts %+v, want %s", sig, f.Prediction, code)
		}
		if check != nil {
			if err := check(f); err != nil {
				t.Errorf("%s: %v (finding %+v)", sig, err, f)
			}
		}
		return
	}
	t.Errorf("no %s finding; got %v; flows %s", sig, seen, flowsText(an))
}

func flowsText(an *observe.Analysis) string {
	var b strings.Builder
	for _, f := range an.Flows {
		fmt.Fprintf(&b, "\n flow %d %s->%s proto %q close %s by %s c=%d s=%d events %+v", f.ID, f.Client, f.Server, f.Protocol, f.Close, f.ClosedBy, f.ClientBytes, f.ServerBytes, f.Events)
		for _, ex := range f.HTTP {
			fmt.Fprintf(&b, "\n  %+v", *ex)
		}
		if f.TLS != nil {
			fmt.Fprintf(&b, "\n  tls %+v", *f.TLS)
		}
	}
	for _, q := range an.DNS {
		fmt.Fprintf(&b, "\n dns %+v", *q)
	}
	return b.String()
}
