package observe_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"

	"github.com/wufault/wufault/client/observe"
)

// genCapture writes a pcap of n packets: HTTP exchanges on 8-packet TCP
// flows (handshake, request, answer, FINs), 200 of them open at a time,
// a millisecond apart, the shape of a lab under load.
func genCapture(tb testing.TB, n int) []byte {
	tb.Helper()
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		tb.Fatal(err)
	}
	start := time.Unix(1_700_000_000, 0)
	req := []byte("GET /selfupdate/wuident.cab HTTP/1.1\r\nHost: wsus.lab\r\n\r\n")
	resp := []byte("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	const open = 200
	written := 0
	for flow := 0; written < n; flow += open {
		for step := 0; step < 8 && written < n; step++ {
			for k := 0; k < open && written < n; k++ {
				id := flow + k
				client := net.IPv4(10, 0, byte(id>>8), byte(id))
				port := layers.TCPPort(1024 + id%60000)
				fromClient := step%2 == 0
				t := &layers.TCP{SrcPort: port, DstPort: 8530, Window: 65535}
				ip := &layers.IPv4{Version: 4, TTL: 64, Protocol: layers.IPProtocolTCP, SrcIP: client, DstIP: net.IPv4(10, 9, 0, 1)}
				if !fromClient {
					t.SrcPort, t.DstPort = 8530, port
					ip.SrcIP, ip.DstIP = ip.DstIP, ip.SrcIP
				}
				cseq, sseq := uint32(1000), uint32(5000)
				var payload []byte
				switch step {
				case 0:
					t.SYN, t.Seq = true, cseq
				case 1:
					t.SYN, t.ACK, t.Seq, t.Ack = true, true, sseq, cseq+1
				case 2:
					t.ACK, t.PSH, t.Seq, t.Ack, payload = true, true, cseq+1, sseq+1, req
				case 3:
					t.ACK, t.PSH, t.Seq, t.Ack, payload = true, true, sseq+1, cseq+1+uint32(len(req)), resp
				case 4:
					t.ACK, t.FIN, t.Seq, t.Ack = true, true, cseq+1+uint32(len(req)), sseq+1+uint32(len(resp))
				case 5:
					t.ACK, t.FIN, t.Seq, t.Ack = true, true, sseq+1+uint32(len(resp)), cseq+2+uint32(len(req))
				default:
					t.ACK, t.Seq, t.Ack = true, cseq+2+uint32(len(req)), sseq+2+uint32(len(resp))
				}
				_ = t.SetNetworkLayerForChecksum(ip)
				sb := gopacket.NewSerializeBuffer()
				eth := &layers.Ethernet{SrcMAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, DstMAC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, EthernetType: layers.EthernetTypeIPv4}
				if err := gopacket.SerializeLayers(sb, gopacket.SerializeOptions{FixLengths: true, ComputeChecksums: true}, eth, ip, t, gopacket.Payload(payload)); err != nil {
					tb.Fatal(err)
				}
				ts := start.Add(time.Duration(written) * time.Millisecond)
				if err := w.WritePacket(gopacket.CaptureInfo{Timestamp: ts, CaptureLength: len(sb.Bytes()), Length: len(sb.Bytes())}, sb.Bytes()); err != nil {
					tb.Fatal(err)
				}
				written++
			}
		}
	}
	return buf.Bytes()
}

// BenchmarkAnalyze: the time per packet stays flat from 8k to 128k
// packets (it grew with the number of flows: 8k 0.38 s, 32k 7.8 s).
func BenchmarkAnalyze(b *testing.B) {
	for _, n := range []int{8 << 10, 32 << 10, 128 << 10} {
		pcap := genCapture(b, n)
		b.Run(fmt.Sprintf("packets=%d", n), func(b *testing.B) {
			b.SetBytes(int64(len(pcap)))
			for b.Loop() {
				an, err := observe.Analyze(bytes.NewReader(pcap), "gen", observe.AnalyzeOptions{})
				if err != nil || an.Packets != n {
					b.Fatalf("%d packets, %v", an.Packets, err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/packet")
		})
	}
}

// TestAnalyzeInterrupted: an interrupt (SIGINT in the CLI, through its
// context) stops the analysis with the packets read so far.
func TestAnalyzeInterrupted(t *testing.T) {
	pcap := genCapture(t, 8<<10)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	an, err := observe.AnalyzeContext(ctx, bytes.NewReader(pcap), "gen", observe.AnalyzeOptions{})
	if err != nil || an.Packets >= 8<<10 || len(an.Warnings) == 0 || !strings.Contains(an.Warnings[0], "interrupted after") {
		t.Fatalf("packets %d, warnings %q, err %v", an.Packets, an.Warnings, err)
	}
	whole, err := observe.Analyze(bytes.NewReader(pcap), "gen", observe.AnalyzeOptions{})
	if err != nil || whole.Packets != 8<<10 || len(whole.Flows) < 1024 {
		t.Fatalf("whole capture: %d packets, %d flows, %v", whole.Packets, len(whole.Flows), err)
	}
}
