package faults

import (
	"errors"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

func TestTCPStallForDuration(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	w := (&TCPStall{PhaseBound: PhaseBound{AfterBytes: 2}, Duration: profile.Duration(80 * time.Millisecond)}).WrapConn(s, n.notify)
	start := time.Now()
	if m, err := w.Write([]byte("abcdef")); m != 6 || err != nil {
		t.Fatalf("write: %d %v", m, err)
	}
	if took := time.Since(start); took < 80*time.Millisecond {
		t.Errorf("write returned after %v, want ≥80ms", took)
	}
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "abcdef" {
		t.Errorf("client read %q %v", buf, err)
	}
	if got := n.all(); len(got) != 2 || got[0] != "stalled for 80ms after 2 bytes" || !strings.HasPrefix(got[1], "stall ended after ") {
		t.Errorf("notifications %q, want start and end", got)
	}
}

func TestTCPStallUntilClosed(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	w := (&TCPStall{}).WrapConn(s, n.notify)
	errc := make(chan error, 1)
	go func() {
		_, err := w.Write([]byte("never"))
		errc <- err
	}()
	_ = c.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if m, err := c.Read(make([]byte, 1)); m != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("client read %d bytes, %v during the stall; want nothing until its deadline", m, err)
	}
	select {
	case err := <-errc:
		t.Fatalf("write returned during the stall: %v", err)
	default:
	}
	w.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, ErrInjected) {
			t.Errorf("write after close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the stall")
	}
}
