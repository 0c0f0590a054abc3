package faults

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/wufault/wufault/client/profile"
)

func TestTCPResetAfterBytes(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	w := (&TCPReset{PhaseBound: PhaseBound{AfterBytes: 5}}).WrapConn(s, n.notify)
	if m, err := w.Write([]byte("abc")); m != 3 || err != nil {
		t.Fatalf("first write: %d %v", m, err)
	}
	if m, err := w.Write([]byte("defgh")); m != 2 || !errors.Is(err, ErrInjected) {
		t.Fatalf("second write: %d %v, want 2 and ErrInjected", m, err)
	}
	if _, err := w.Write([]byte("x")); !errors.Is(err, ErrInjected) {
		t.Errorf("write after the reset: %v", err)
	}
	b, err := io.ReadAll(c)
	if string(b) != "abcde" || !isReset(err) {
		t.Errorf("client read %q, %v; want abcde then ECONNRESET", b, err)
	}
	if got := n.all(); len(got) != 1 || !strings.Contains(got[0], "reset after 5 bytes") {
		t.Errorf("notifications %q", got)
	}
}

func TestTCPResetAtOnce(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	(&TCPReset{}).WrapConn(s, n.notify)
	if _, err := io.ReadAll(c); !isReset(err) {
		t.Errorf("client: %v, want ECONNRESET", err)
	}
	if got := n.all(); len(got) != 1 || got[0] != "reset after 0 bytes" {
		t.Errorf("notifications %q", got)
	}
	if p, k := (&TCPReset{}).BoundPhase(); p != profile.PhaseHeaders || k != 0 {
		t.Errorf("default phase %s %d", p, k)
	}
}
