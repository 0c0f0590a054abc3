package faults

import (
	"net"
	"testing"
	"time"
)

func TestTCPSliceSplitsWrites(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	w := (&TCPSlice{Size: 3, Delay: Duration(time.Millisecond)}).WrapConn(a, func(string) {})
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
	if len(got) != 3 || got[0] != "abc" || got[2] != "gh" {
		t.Errorf("segments %q, want abc def gh", got)
	}
}
