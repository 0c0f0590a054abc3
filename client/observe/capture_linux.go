//go:build linux

package observe

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"

	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Capture records the TCP and UDP packets of network interface iface
// whose source or destination port is in ports (every port when ports is
// empty) to w as a pcap file (Ethernet link type), from when it returns
// until stop is called or ctx ends. stop waits for the writer and returns
// the first write error. It uses an AF_PACKET socket (pcapgo.EthernetHandle)
// with a BPF filter built with golang.org/x/net/bpf, so it needs Linux and
// root or CAP_NET_RAW (errors wrap ErrCapturePermission).
func Capture(ctx context.Context, iface string, ports []int, w io.Writer) (stop func() error, err error) {
	ifi, err := net.InterfaceByName(iface)
	if err != nil {
		return nil, fmt.Errorf("observe: capture on %s: %w", iface, err)
	}
	h, err := pcapgo.NewEthernetHandle(iface)
	if err != nil {
		if errors.Is(err, syscall.EPERM) || errors.Is(err, syscall.EACCES) || os.IsPermission(err) || isPermText(err) {
			return nil, fmt.Errorf("observe: capture on %s: %w: %v", iface, ErrCapturePermission, err)
		}
		return nil, fmt.Errorf("observe: capture on %s: %w", iface, err)
	}
	filter, err := captureFilter(ports, ifi.Flags&net.FlagLoopback != 0)
	if err != nil {
		h.Close()
		return nil, fmt.Errorf("observe: capture filter: %w", err)
	}
	if err := h.SetBPF(filter); err != nil {
		h.Close()
		return nil, fmt.Errorf("observe: capture on %s: set BPF filter: %w", iface, err)
	}
	pw := pcapgo.NewWriter(w)
	if err := pw.WriteFileHeader(CaptureSnapLen, layers.LinkTypeEthernet); err != nil {
		h.Close()
		return nil, fmt.Errorf("observe: capture: write pcap header: %w", err)
	}
	want := map[int]bool{}
	for _, p := range ports {
		want[p] = true
	}
	var (
		wg       sync.WaitGroup
		once     sync.Once
		writeErr error
		done     = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			data, ci, err := h.ReadPacketData()
			if err != nil {
				select {
				case <-done:
					return
				default:
				}
				if errors.Is(err, os.ErrClosed) || errors.Is(err, net.ErrClosed) {
					return
				}
				continue // a temporary error (EINTR, EAGAIN)
			}
			if !matchPorts(data, want) {
				continue
			}
			if writeErr == nil {
				writeErr = pw.WritePacket(ci, data)
			}
		}
	}()
	stopFn := func() error {
		once.Do(func() {
			close(done)
			h.Close()
		})
		wg.Wait()
		if writeErr != nil {
			return fmt.Errorf("observe: capture: write: %w", writeErr)
		}
		return nil
	}
	go func() {
		select {
		case <-ctx.Done():
			stopFn()
		case <-done:
		}
	}()
	return stopFn, nil
}

func isPermText(err error) bool {
	s := err.Error()
	return strings.Contains(s, "operation not permitted") || strings.Contains(s, "permission denied")
}
