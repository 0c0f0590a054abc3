package observe

import (
	"errors"
	"fmt"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"golang.org/x/net/bpf"
)

// ErrCaptureUnsupported is returned by Capture where live capture is not
// implemented (every platform but Linux).
var ErrCaptureUnsupported = errors.New("live capture needs Linux (AF_PACKET)")

// ErrCapturePermission is wrapped by Capture's error when the process may
// not open a packet socket.
var ErrCapturePermission = errors.New("live capture needs root or CAP_NET_RAW (setcap cap_net_raw+ep wufault)")

// CaptureSnapLen is the most of each packet Capture records.
const CaptureSnapLen = 262144

// captureFilter assembles the BPF program Capture installs: IPv4 or IPv6
// TCP and UDP whose source or destination port is one of ports (any port
// when ports is empty). With dropOutgoing, packets the host sends are
// dropped: on the loopback device every packet is seen twice, once going
// out and once coming in (libpcap drops the same copies).
func captureFilter(ports []int, dropOutgoing bool) ([]bpf.RawInstruction, error) {
	var p asm
	if dropOutgoing {
		p.add(bpf.LoadExtension{Num: bpf.ExtType})
		p.jeq(4, "drop", "") // PACKET_OUTGOING
	}
	p.add(bpf.LoadAbsolute{Off: 12, Size: 2})
	p.jeq(0x0800, "v4", "")
	p.jeq(0x86DD, "v6", "drop")

	p.label("v4")
	p.add(bpf.LoadAbsolute{Off: 23, Size: 1})
	p.jeq(6, "v4ports", "")
	p.jeq(17, "v4ports", "drop")
	p.label("v4ports")
	p.add(bpf.LoadAbsolute{Off: 20, Size: 2})
	p.jset(0x1FFF, "drop", "") // a later fragment has no ports
	if len(ports) == 0 {
		p.jump("accept")
	} else {
		p.add(bpf.LoadMemShift{Off: 14})
		p.add(bpf.LoadIndirect{Off: 14, Size: 2})
		p.ports(ports, "accept", "")
		p.add(bpf.LoadIndirect{Off: 16, Size: 2})
		p.ports(ports, "accept", "drop")
	}

	p.label("v6")
	p.add(bpf.LoadAbsolute{Off: 20, Size: 1}) // next header (no extension headers)
	p.jeq(6, "v6ports", "")
	p.jeq(17, "v6ports", "drop")
	p.label("v6ports")
	if len(ports) == 0 {
		p.jump("accept")
	} else {
		p.add(bpf.LoadAbsolute{Off: 54, Size: 2})
		p.ports(ports, "accept", "")
		p.add(bpf.LoadAbsolute{Off: 56, Size: 2})
		p.ports(ports, "accept", "drop")
	}

	p.label("accept")
	p.add(bpf.RetConstant{Val: CaptureSnapLen})
	p.label("drop")
	p.add(bpf.RetConstant{Val: 0})
	return p.assemble()
}

// asm is a tiny BPF assembler with labels.
type asm struct {
	ins    []asmIns
	labels map[string]int
}

type asmIns struct {
	in         bpf.Instruction
	jt, jf, ja string // jump targets ("" = next instruction)
}

func (p *asm) add(in bpf.Instruction) { p.ins = append(p.ins, asmIns{in: in}) }

func (p *asm) label(l string) {
	if p.labels == nil {
		p.labels = map[string]int{}
	}
	p.labels[l] = len(p.ins)
}

func (p *asm) jeq(v uint32, t, f string) {
	p.ins = append(p.ins, asmIns{in: bpf.JumpIf{Cond: bpf.JumpEqual, Val: v}, jt: t, jf: f})
}

func (p *asm) jset(v uint32, t, f string) {
	p.ins = append(p.ins, asmIns{in: bpf.JumpIf{Cond: bpf.JumpBitsSet, Val: v}, jt: t, jf: f})
}

func (p *asm) jump(t string) { p.ins = append(p.ins, asmIns{in: bpf.Jump{}, ja: t}) }

// ports compares A with each port; a match jumps to t, no match to f.
func (p *asm) ports(ports []int, t, f string) {
	for i, port := range ports {
		miss := ""
		if i == len(ports)-1 {
			miss = f
		}
		p.jeq(uint32(port), t, miss)
	}
}

func (p *asm) assemble() ([]bpf.RawInstruction, error) {
	out := make([]bpf.Instruction, len(p.ins))
	for i, in := range p.ins {
		rel := func(l string) (int, error) {
			if l == "" {
				return 0, nil
			}
			at, ok := p.labels[l]
			if !ok {
				return 0, fmt.Errorf("bpf: unknown label %q", l)
			}
			d := at - (i + 1)
			if d < 0 {
				return 0, fmt.Errorf("bpf: backward jump to %q", l)
			}
			return d, nil
		}
		switch x := in.in.(type) {
		case bpf.JumpIf:
			t, err := rel(in.jt)
			if err != nil {
				return nil, err
			}
			f, err := rel(in.jf)
			if err != nil {
				return nil, err
			}
			if t > 255 || f > 255 {
				return nil, fmt.Errorf("bpf: jump too long (%d ports?)", len(p.ins))
			}
			x.SkipTrue, x.SkipFalse = uint8(t), uint8(f)
			out[i] = x
		case bpf.Jump:
			d, err := rel(in.ja)
			if err != nil {
				return nil, err
			}
			x.Skip = uint32(d)
			out[i] = x
		default:
			out[i] = in.in
		}
	}
	return bpf.Assemble(out)
}

// matchPorts is the software twin of the BPF filter, for packets queued
// before the filter was installed.
func matchPorts(data []byte, ports map[int]bool) bool {
	p := gopacket.NewPacket(data, layers.LinkTypeEthernet, gopacket.DecodeOptions{Lazy: true, NoCopy: true})
	switch t := p.TransportLayer().(type) {
	case *layers.TCP:
		return len(ports) == 0 || ports[int(t.SrcPort)] || ports[int(t.DstPort)]
	case *layers.UDP:
		return len(ports) == 0 || ports[int(t.SrcPort)] || ports[int(t.DstPort)]
	}
	return false
}
