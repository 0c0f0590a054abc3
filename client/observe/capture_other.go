//go:build !linux

package observe

import (
	"context"
	"fmt"
	"io"
)

// Capture records live traffic on Linux only; elsewhere it returns an
// error wrapping ErrCaptureUnsupported. Capture with tcpdump, Wireshark or
// pktmon there and run Analyze on the file.
func Capture(ctx context.Context, iface string, ports []int, w io.Writer) (stop func() error, err error) {
	return nil, fmt.Errorf("observe: capture on %s: %w", iface, ErrCaptureUnsupported)
}
