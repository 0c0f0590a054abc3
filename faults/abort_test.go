package faults

import (
	"errors"
	"io"
	"net"
	"testing"
)

type layer struct{ net.Conn }

func (l layer) NetConn() net.Conn { return l.Conn }

func TestAbortFindsTheSocketUnderWrappers(t *testing.T) {
	s, c := tcpPair(t)
	if _, err := s.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	if err := Abort(layer{layer{s}}); err != nil {
		t.Fatalf("Abort: %v", err)
	}
	b, err := io.ReadAll(c)
	if string(b) != "hello" || !isReset(err) {
		t.Errorf("client read %q, %v; want hello then ECONNRESET", b, err)
	}
}

func TestHalfCloseSendsFIN(t *testing.T) {
	s, c := tcpPair(t)
	_, _ = s.Write([]byte("bye"))
	if err := HalfClose(layer{s}); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if string(b) != "bye" || err != nil {
		t.Errorf("client read %q, %v; want bye then EOF", b, err)
	}
	// The read side stays open.
	_, _ = c.Write([]byte("x"))
	buf := make([]byte, 1)
	if n, err := s.Read(buf); n != 1 || err != nil {
		t.Errorf("server read after half-close: %d %v", n, err)
	}
}

func TestAbortWithoutSocket(t *testing.T) {
	a, b := net.Pipe()
	defer b.Close()
	if err := Abort(layer{a}); !errors.Is(err, ErrNoSocket) {
		t.Errorf("Abort on a pipe: %v, want ErrNoSocket", err)
	}
	if err := HalfClose(a); !errors.Is(err, ErrNoSocket) {
		t.Errorf("HalfClose on a pipe: %v, want ErrNoSocket", err)
	}
	if Unwrap(a) != nil {
		t.Error("Unwrap of a bare pipe is not nil")
	}
}
