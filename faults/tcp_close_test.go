package faults

import (
	"errors"
	"io"
	"testing"

	"github.com/wufault/wufault/client/profile"
)

func TestTCPCloseSendsFINNotRST(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	w := (&TCPClose{PhaseBound: PhaseBound{At: profile.PhaseBody, AfterBytes: 4}}).WrapConn(s, n.notify)
	// The client has sent bytes the server never reads: a plain close
	// would answer with RST.
	_, _ = c.Write([]byte("unread request bytes"))
	if m, err := w.Write([]byte("0123456789")); m != 4 || !errors.Is(err, ErrInjected) {
		t.Fatalf("write: %d %v", m, err)
	}
	b, err := io.ReadAll(c)
	if string(b) != "0123" || err != nil {
		t.Errorf("client read %q, %v; want 0123 then a clean EOF", b, err)
	}
	if got := n.all(); len(got) != 1 || got[0] != "closed (FIN) after 4 bytes" {
		t.Errorf("notifications %q", got)
	}
}
