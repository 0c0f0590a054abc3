package observe_test

import (
	"bytes"
	"net/netip"
	"testing"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wufault/wufault/client/observe"
)

// movePort rewrites a capture so that the UDP port from becomes to, with
// checksums recomputed.
func movePort(t *testing.T, pcap []byte, from, to int) []byte {
	t.Helper()
	r, err := pcapgo.NewReader(bytes.NewReader(pcap))
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	if err := w.WriteFileHeader(65536, r.LinkType()); err != nil {
		t.Fatal(err)
	}
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		if udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok {
			if int(udp.SrcPort) == from {
				udp.SrcPort = layers.UDPPort(to)
			}
			if int(udp.DstPort) == from {
				udp.DstPort = layers.UDPPort(to)
			}
			_ = udp.SetNetworkLayerForChecksum(p.NetworkLayer())
			var ls []gopacket.SerializableLayer
			for _, l := range p.Layers() {
				if sl, ok := l.(gopacket.SerializableLayer); ok {
					ls = append(ls, sl)
				} else {
					ls = append(ls, gopacket.Payload(l.LayerContents()))
				}
			}
			buf := gopacket.NewSerializeBuffer()
			if err := gopacket.SerializeLayers(buf, gopacket.SerializeOptions{ComputeChecksums: true, FixLengths: true}, ls...); err != nil {
				t.Fatal(err)
			}
			data = buf.Bytes()
			ci.CaptureLength, ci.Length = len(data), len(data)
		}
		if err := w.WritePacket(ci, data); err != nil {
			t.Fatal(err)
		}
	}
	return out.Bytes()
}

// DNS on a port that is neither 53 nor named is recognised by content: the
// real NXDOMAIN capture, moved to port 19153, gives its NXDOMAIN without
// --dns-port, and the analysis says which port it took as DNS.
func TestAnalyzeDNSByContent(t *testing.T) {
	orig := readPcap(t, "dns-nxdomain.pcap")
	b := movePort(t, orig, dnsPort(t, orig), 19153)
	if dnsPort(t, b) != 19153 {
		t.Fatal("port not rewritten")
	}
	an, err := observe.Analyze(bytes.NewReader(b), "dns-19153.pcap", observe.AnalyzeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	expect(t, an, observe.SigDNSNXDomain, 0x8024402C, nil)
	if len(an.DNSPortsByContent) != 1 || an.DNSPortsByContent[0] != 19153 {
		t.Errorf("DNS ports by content %v, want [19153]", an.DNSPortsByContent)
	}
	if len(an.DNS) == 0 || an.DNS[0].Rcode != "NXDOMAIN" || netip.MustParseAddrPort(an.DNS[0].Server).Port() != 19153 {
		t.Errorf("queries %+v", an.DNS)
	}
	// Named with --dns-port, the port is not reported as found by content.
	an, err = observe.Analyze(bytes.NewReader(b), "dns-19153.pcap", observe.AnalyzeOptions{DNSPorts: []int{19153}})
	if err != nil || len(an.DNSPortsByContent) != 0 || len(an.DNS) == 0 {
		t.Errorf("with --dns-port: %v %v %d queries", err, an.DNSPortsByContent, len(an.DNS))
	}
}

// Datagrams that parse as a DNS query without a response do not make a
// port DNS: a single stray datagram is not enough.
func TestAnalyzeDNSByContentNeedsResponse(t *testing.T) {
	orig := readPcap(t, "dns-nxdomain.pcap")
	port := dnsPort(t, orig)
	r, _ := pcapgo.NewReader(bytes.NewReader(orig))
	var out bytes.Buffer
	w := pcapgo.NewWriter(&out)
	w.WriteFileHeader(65536, r.LinkType())
	for {
		data, ci, err := r.ReadPacketData()
		if err != nil {
			break
		}
		p := gopacket.NewPacket(data, r.LinkType(), gopacket.Default)
		if udp, ok := p.Layer(layers.LayerTypeUDP).(*layers.UDP); ok && int(udp.SrcPort) == port {
			continue // drop the answers
		}
		w.WritePacket(ci, data)
	}
	an, err := observe.Analyze(bytes.NewReader(out.Bytes()), "queries-only.pcap", observe.AnalyzeOptions{})
	if err != nil || len(an.DNSPortsByContent) != 0 || len(an.DNS) != 0 {
		t.Errorf("queries only: %v ports %v, %d queries", err, an.DNSPortsByContent, len(an.DNS))
	}
}
