package faults

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

func TestTCPLatencyDelaysWithoutCappingThroughput(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	w := (&TCPLatency{Latency: profile.Duration(100 * time.Millisecond), Jitter: profile.Duration(20 * time.Millisecond)}).WrapConn(s, n.notify)
	want := bytes.Repeat([]byte("0123456789"), 1000)
	start := time.Now()
	for i := 0; i < len(want); i += 100 {
		if _, err := w.Write(want[i : i+100]); err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took > 50*time.Millisecond {
		t.Errorf("100 writes took %v: the writer must not wait for the delay", took)
	}
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got[:1]); err != nil {
		t.Fatal(err)
	}
	if first := time.Since(start); first < 80*time.Millisecond {
		t.Errorf("first byte after %v, want ≥ 80ms", first)
	}
	if _, err := io.ReadFull(c, got[1:]); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("bytes reordered or lost: %v", err)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Errorf("all bytes after %v: delays added up instead of overlapping", took)
	}
	if err := w.(Drainer).Drain(); err != nil {
		t.Errorf("Drain: %v", err)
	}
	if len(n.all()) != 1 {
		t.Errorf("notifications %q", n.all())
	}
}

func TestTCPLatencyCloseWriteFlushes(t *testing.T) {
	s, c := tcpPair(t)
	w := (&TCPLatency{Latency: profile.Duration(30 * time.Millisecond)}).WrapConn(s, func(string) {})
	_, _ = w.Write([]byte("last words"))
	if err := w.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if string(b) != "last words" || err != nil {
		t.Errorf("client read %q %v", b, err)
	}
	w.Close()
}
