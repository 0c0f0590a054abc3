package observe

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"sort"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
	"github.com/gopacket/gopacket/reassembly"
	"github.com/wufault/wufault/client/profile"
)

// AnalyzeOptions tune Analyze.
type AnalyzeOptions struct {
	// StallThreshold is the silence that counts as a stall (default 2s).
	StallThreshold time.Duration
	// DNSPorts are UDP and TCP ports carrying DNS besides 53 (the world's
	// DNS listens on 1053 by default). Other ports are recognised by
	// content: a UDP datagram that parses as a DNS query and a datagram
	// back that parses as its response (same ID and question) make the
	// query's destination port a DNS port, for UDP and for the TCP flows
	// to it that start afterwards.
	DNSPorts []int
	// MaxStreamBytes bounds what is kept of each direction of a TCP
	// stream for parsing (default 1 MiB); later bytes are only counted.
	MaxStreamBytes int
	// MaxPackets stops reading after this many packets (0: no limit).
	MaxPackets int
}

// Analysis is what Analyze found in a capture. It is filled even when
// Analyze also returns an error (a truncated file gives the flows read so
// far and a warning).
type Analysis struct {
	Source  string      `json:"source"`
	Format  string      `json:"format"` // pcap or pcapng
	Packets int         `json:"packets"`
	Start   time.Time   `json:"start,omitzero"`
	End     time.Time   `json:"end,omitzero"`
	Flows   []*Flow     `json:"flows"`
	DNS     []*DNSQuery `json:"dns,omitempty"`
	// Findings are every signature seen, in time order, each with the
	// code it predicts.
	Findings []Finding `json:"findings"`
	Warnings []string  `json:"warnings,omitempty"`
	// DNSPortsByContent are the ports taken as DNS because a query and its
	// response were seen on them, not because they were 53 or named.
	DNSPortsByContent []int `json:"dns_ports_by_content,omitempty"`
}

// Finding is one signature on the wire and what it predicts.
type Finding struct {
	Time      time.Time `json:"time"`
	Signature Signature `json:"signature"`
	// Flow is the TCP flow's ID, or 0 for DNS over UDP.
	Flow int `json:"flow,omitempty"`
	// Who sent the packet that makes the signature: "server", "client",
	// or "" (a missing answer).
	Who string `json:"who,omitempty"`
	// Phase is where it hit, in the words of profile.Phase: resolve,
	// connect, proxy, handshake, request, headers, body (or idle, between
	// two exchanges on a kept-alive connection).
	Phase string `json:"phase,omitempty"`
	// Bytes is what the server had sent on the flow when it happened.
	Bytes      int64         `json:"bytes"`
	Host       string        `json:"host,omitempty"`
	Path       string        `json:"path,omitempty"`
	Class      profile.Class `json:"class,omitempty"`
	Status     int           `json:"status,omitempty"`
	Detail     string        `json:"detail"`
	Prediction *Prediction   `json:"prediction,omitempty"`
}

// ErrNotACapture is wrapped by Analyze's error when the input is neither
// pcap nor pcapng.
var ErrNotACapture = errors.New("not a pcap or pcapng file")

// packetSource is the part of pcapgo's readers Analyze uses.
type packetSource interface {
	ReadPacketData() ([]byte, gopacket.CaptureInfo, error)
}

// Analyze reads a pcap or pcapng capture and reports its flows and the
// signatures of network faults in them. name labels the result.
func Analyze(r io.Reader, name string, o AnalyzeOptions) (*Analysis, error) {
	return AnalyzeContext(context.Background(), r, name, o)
}

// AnalyzeContext is Analyze that stops when ctx ends (an interrupt): the
// packets read so far are analysed and the result says it is partial.
func AnalyzeContext(ctx context.Context, r io.Reader, name string, o AnalyzeOptions) (*Analysis, error) {
	if o.StallThreshold <= 0 {
		o.StallThreshold = 2 * time.Second
	}
	if o.MaxStreamBytes <= 0 {
		o.MaxStreamBytes = 1 << 20
	}
	an := &Analysis{Source: name, Flows: []*Flow{}, Findings: []Finding{}}
	br := bufio.NewReaderSize(r, 1<<16)
	magic, err := br.Peek(4)
	if err != nil {
		return an, fmt.Errorf("observe: %s: %w (%d bytes)", name, ErrNotACapture, len(magic))
	}
	var src packetSource
	var linkOf func(gopacket.CaptureInfo) layers.LinkType
	switch {
	case bytes.Equal(magic, []byte{0x0A, 0x0D, 0x0D, 0x0A}):
		an.Format = "pcapng"
		ng, err := pcapgo.NewNgReader(br, pcapgo.NgReaderOptions{SkipUnknownVersion: true, WantMixedLinkType: true})
		if err != nil {
			return an, fmt.Errorf("observe: %s: pcapng header: %w", name, err)
		}
		src = ng
		linkOf = func(ci gopacket.CaptureInfo) layers.LinkType {
			if len(ci.AncillaryData) > 0 {
				if lt, ok := ci.AncillaryData[0].(layers.LinkType); ok {
					return lt
				}
			}
			return ng.LinkType()
		}
	case isPcapMagic(magic):
		an.Format = "pcap"
		pr, err := pcapgo.NewReader(br)
		if err != nil {
			return an, fmt.Errorf("observe: %s: pcap header: %w", name, err)
		}
		src = pr
		lt := pr.LinkType()
		linkOf = func(gopacket.CaptureInfo) layers.LinkType { return lt }
	default:
		return an, fmt.Errorf("observe: %s: magic % x: %w", name, magic, ErrNotACapture)
	}

	a := newAnalyzer(an, o)
	var readErr error
	interrupted := false
	for o.MaxPackets == 0 || an.Packets < o.MaxPackets {
		if an.Packets%1024 == 0 && ctx.Err() != nil {
			interrupted = true
			break
		}
		data, ci, err := src.ReadPacketData()
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
		an.Packets++
		a.packet(data, ci, linkOf(ci))
	}
	a.finish()
	if interrupted {
		an.Warnings = append(an.Warnings, fmt.Sprintf("%s: interrupted after %d packets (partial result)", name, an.Packets))
	}
	if readErr != nil {
		if errors.Is(readErr, io.ErrUnexpectedEOF) {
			an.Warnings = append(an.Warnings, fmt.Sprintf("%s: capture truncated after %d packets (partial result)", name, an.Packets))
		} else {
			an.Warnings = append(an.Warnings, fmt.Sprintf("%s: read error after %d packets: %v (partial result)", name, an.Packets, readErr))
		}
	}
	return an, nil
}

func isPcapMagic(m []byte) bool {
	for _, v := range [][]byte{
		{0xD4, 0xC3, 0xB2, 0xA1}, {0xA1, 0xB2, 0xC3, 0xD4}, // microseconds
		{0x4D, 0x3C, 0xB2, 0xA1}, {0xA1, 0xB2, 0x3C, 0x4D}, // nanoseconds
	} {
		if bytes.Equal(m, v) {
			return true
		}
	}
	return false
}

// analyzer holds the state of one Analyze run.
type analyzer struct {
	an        *Analysis
	o         AnalyzeOptions
	dnsPorts  map[uint16]bool
	assembler *reassembly.Assembler
	flows     []*Flow
	dns       *dnsTracker
	sniff     *dnsSniffer
	decodeErr int
	nonIP     int
	lastFlush time.Time // capture time of the last flush of old flows
}

// flushEvery is how much capture time passes between two flushes of old
// flows.
const flushEvery = time.Minute

func newAnalyzer(an *Analysis, o AnalyzeOptions) *analyzer {
	a := &analyzer{an: an, o: o, dnsPorts: map[uint16]bool{53: true}}
	for _, p := range o.DNSPorts {
		if p > 0 && p < 65536 {
			a.dnsPorts[uint16(p)] = true
		}
	}
	a.dns = newDNSTracker(a)
	a.sniff = &dnsSniffer{pending: map[sniffKey]sniffed{}}
	pool := reassembly.NewStreamPool(&flowFactory{a: a})
	a.assembler = reassembly.NewAssembler(pool)
	a.assembler.MaxBufferedPagesPerConnection = 4096
	a.assembler.MaxBufferedPagesTotal = 65536
	return a
}

// captureContext carries a packet's capture info through the assembler.
type captureContext gopacket.CaptureInfo

func (c *captureContext) GetCaptureInfo() gopacket.CaptureInfo { return gopacket.CaptureInfo(*c) }

func (a *analyzer) packet(data []byte, ci gopacket.CaptureInfo, lt layers.LinkType) {
	if a.an.Start.IsZero() || ci.Timestamp.Before(a.an.Start) {
		a.an.Start = ci.Timestamp
	}
	if ci.Timestamp.After(a.an.End) {
		a.an.End = ci.Timestamp
	}
	p := gopacket.NewPacket(data, lt, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	nl := p.NetworkLayer()
	if nl == nil {
		a.nonIP++
		return
	}
	if el := p.ErrorLayer(); el != nil {
		a.decodeErr++
	}
	var srcIP, dstIP netip.Addr
	switch ip := nl.(type) {
	case *layers.IPv4:
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP.To4())
		dstIP, _ = netip.AddrFromSlice(ip.DstIP.To4())
	case *layers.IPv6:
		srcIP, _ = netip.AddrFromSlice(ip.SrcIP)
		dstIP, _ = netip.AddrFromSlice(ip.DstIP)
	default:
		a.nonIP++
		return
	}
	switch t := p.TransportLayer().(type) {
	case *layers.TCP:
		ctx := captureContext(ci)
		a.assembler.AssembleWithContext(nl.NetworkFlow(), t, &ctx)
		// Flows silent for 10 minutes of capture time are flushed, looked
		// for once a minute of capture time: a flush walks every
		// connection, so one per packet made the analysis quadratic.
		if ci.Timestamp.Sub(a.lastFlush) >= flushEvery || ci.Timestamp.Before(a.lastFlush) {
			a.lastFlush = ci.Timestamp
			a.assembler.FlushCloseOlderThan(ci.Timestamp.Add(-10 * time.Minute))
		}
	case *layers.UDP:
		src := netip.AddrPortFrom(srcIP, uint16(t.SrcPort))
		dst := netip.AddrPortFrom(dstIP, uint16(t.DstPort))
		switch {
		case a.dnsPorts[uint16(t.SrcPort)] || a.dnsPorts[uint16(t.DstPort)]:
			a.dns.datagram(t.Payload, src, dst, ci.Timestamp, "udp")
		default:
			a.sniffDNS(t.Payload, src, dst, ci.Timestamp)
		}
	}
}

func (a *analyzer) finish() {
	a.assembler.FlushAll()
	for _, f := range a.flows {
		f.finish(a.an.End)
	}
	a.dns.finish(a.an.End)
	an := a.an
	sort.Ints(an.DNSPortsByContent)
	an.Flows = a.flows
	an.DNS = a.dns.queries
	for _, f := range a.flows {
		an.Findings = append(an.Findings, f.Findings...)
	}
	an.Findings = append(an.Findings, a.dns.findings...)
	sort.SliceStable(an.Findings, func(i, j int) bool { return an.Findings[i].Time.Before(an.Findings[j].Time) })
	if a.decodeErr > 0 {
		an.Warnings = append(an.Warnings, fmt.Sprintf("%s: %d packets could not be fully decoded", an.Source, a.decodeErr))
	}
	if a.nonIP > 0 && a.nonIP == an.Packets {
		an.Warnings = append(an.Warnings, fmt.Sprintf("%s: none of the %d packets is IP (unsupported link type?)", an.Source, an.Packets))
	}
}
