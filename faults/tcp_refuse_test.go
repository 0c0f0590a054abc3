package faults

import "testing"

func TestTCPRefuseResets(t *testing.T) {
	s, c := tcpPair(t)
	var n notes
	w := (&TCPRefuse{}).WrapConn(s, n.notify)
	if _, err := w.Write([]byte("x")); err == nil {
		t.Error("write on a refused connection succeeded")
	}
	if _, err := readAll(c); !isReset(err) {
		t.Errorf("client: %v, want ECONNRESET", err)
	}
	if len(n.all()) != 1 {
		t.Errorf("notifications %q", n.all())
	}
}
