package faults

import (
	"errors"
	"io"
	"testing"
)

func TestTCPRefuseResets(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	w := (&TCPRefuse{}).WrapConn(s, n.notify)
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrInjected) {
		t.Errorf("write on a refused connection: %v, want ErrInjected", err)
	}
	if _, err := io.ReadAll(c); !isReset(err) {
		t.Errorf("client: %v, want ECONNRESET", err)
	}
	if got := n.all(); len(got) != 1 || got[0] != "refused: reset before reading" {
		t.Errorf("notifications %q", got)
	}
}
