package faults

import (
	"errors"
	"net"
	"time"
)

// ErrInjected is returned by writes on a connection that a fault has reset,
// closed or cut: the failure is the product, so callers that see it (the
// world's copy loops) stop quietly instead of logging an error.
var ErrInjected = errors.New("connection ended by an injected fault")

// ErrNoSocket is returned by Abort and HalfClose when no TCP socket lies
// under the wrappers (a pipe in a unit test, an HTTP/2 stream): the
// connection is closed instead, with a FIN or nothing at all.
var ErrNoSocket = errors.New("no TCP socket under the connection")

// Unwrap returns the connection c wraps, or nil: it follows NetConn (the
// convention of crypto/tls and net/http's ResponseController) and Unwrap.
func Unwrap(c net.Conn) net.Conn {
	switch u := c.(type) {
	case interface{ NetConn() net.Conn }:
		return u.NetConn()
	case interface{ Unwrap() net.Conn }:
		return u.Unwrap()
	}
	return nil
}

// lingerer is what a TCP socket offers to turn close into a reset.
type lingerer interface {
	net.Conn
	SetLinger(sec int) error
}

// halfCloser is what a TCP socket offers to send a FIN and keep reading.
type halfCloser interface {
	net.Conn
	CloseWrite() error
}

// find walks the wrappers of c down to the first connection for which ok
// holds.
func find[T any](c net.Conn) (T, bool) {
	for range 32 { // wrappers never nest this deep; a cycle must not hang
		if t, ok := c.(T); ok {
			return t, true
		}
		if c = Unwrap(c); c == nil {
			break
		}
	}
	var zero T
	return zero, false
}

// drainTimeout bounds how long Abort waits for bytes already written to
// leave the socket, so that "reset after 512 bytes" delivers the 512 bytes
// before the RST on a slow link too.
const drainTimeout = 2 * time.Second

// Abort resets the TCP connection under c: it waits (briefly) until the
// bytes already written have left the socket, sets SO_LINGER to 0 and
// closes it, so the kernel sends RST instead of FIN and the peer's next
// read fails with ECONNRESET. Wrappers above the socket are not closed;
// their next write fails. Without a TCP socket underneath, c is closed and
// ErrNoSocket returned.
func Abort(c net.Conn) error {
	l, ok := find[lingerer](c)
	if !ok {
		_ = c.Close()
		return ErrNoSocket
	}
	waitUnsent(l, drainTimeout)
	if err := l.SetLinger(0); err != nil {
		_ = l.Close()
		return err
	}
	return l.Close()
}

// HalfClose sends a FIN on the TCP connection under c (shutdown of the
// write side) and leaves the read side open, so the peer sees a clean end
// of stream and unread bytes it sent do not turn the close into a reset.
// Without a TCP socket underneath, c is closed and ErrNoSocket returned.
func HalfClose(c net.Conn) error {
	if h, ok := find[halfCloser](c); ok {
		return h.CloseWrite()
	}
	_ = c.Close()
	return ErrNoSocket
}
