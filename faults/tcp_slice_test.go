package faults

import (
	"net"
	"slices"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

func TestTCPSliceSplitsWrites(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	var n notes
	w := (&TCPSlice{Size: 3, Delay: profile.Duration(20 * time.Millisecond)}).WrapConn(a, n.notify)
	start := time.Now()
	go func() { _, _ = w.Write([]byte("abcdefgh")); w.Close() }()
	var got []string
	buf := make([]byte, 64)
	for {
		n, err := b.Read(buf)
		if err != nil {
			break
		}
		got = append(got, string(buf[:n]))
	}
	if !slices.Equal(got, []string{"abc", "def", "gh"}) {
		t.Errorf("segments %q, want abc def gh", got)
	}
	if took := time.Since(start); took < 40*time.Millisecond {
		t.Errorf("three segments after %v, want the delay before the second and the third (≥40ms)", took)
	}
	if notes := n.all(); len(notes) != 1 || notes[0] != "slicing writes into 3 bytes every 20ms" {
		t.Errorf("notifications %q", notes)
	}
}

// sinkConn accepts every write at once.
type sinkConn struct{ net.Conn }

func (sinkConn) Write(p []byte) (int, error) { return len(p), nil }
func (sinkConn) Close() error                { return nil }

// The waits between segments reuse one timer: slicing a write into bytes
// does not allocate per byte.
func TestTCPSliceWaitsWithoutAllocating(t *testing.T) {
	w := (&TCPSlice{Size: 1, Delay: profile.Duration(time.Microsecond)}).WrapConn(sinkConn{}, func(string) {})
	defer w.Close()
	p := make([]byte, 64)
	_, _ = w.Write(p)
	if n := testing.AllocsPerRun(5, func() { _, _ = w.Write(p) }); n != 0 {
		t.Errorf("a sliced write of 64 bytes allocates %v times", n)
	}
}
