package faults

import (
	"io"
	"testing"
	"time"
)

func TestTCPBandwidthPaces(t *testing.T) {
	s, c := tcpPair(t)
	w := (&TCPBandwidth{Rate: 100 << 10}).WrapConn(s, func(string) {})
	go func() { _, _ = w.Write(make([]byte, 30<<10)) }()
	start := time.Now()
	if _, err := io.ReadFull(c, make([]byte, 30<<10)); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 250*time.Millisecond || took > 3*time.Second {
		t.Errorf("30 KiB at 100 KiB/s took %v, want ~300ms", took)
	}
}
