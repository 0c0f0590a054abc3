package client

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// wconn is a client socket with WinHTTP's per-operation timeouts: every
// write must finish within the send timeout and every read must return
// data within the receive timeout (WinHttpSetTimeouts, [L-TIMEOUTS]).
// It also remembers the first I/O error the socket reported, so that a
// parser failure can be told apart from the socket failure that caused
// it: the evidence is what the socket saw, not the parser's wording.
type wconn struct {
	net.Conn
	send, recv time.Duration

	mu    sync.Mutex
	ioErr error // first error from the socket itself
	nread int64
}

func newWConn(c net.Conn, send, recv time.Duration) *wconn {
	return &wconn{Conn: c, send: send, recv: recv}
}

func (c *wconn) Read(p []byte) (int, error) {
	if c.recv > 0 {
		_ = c.Conn.SetReadDeadline(time.Now().Add(c.recv))
	}
	n, err := c.Conn.Read(p)
	c.note(int64(n), err)
	return n, err
}

func (c *wconn) Write(p []byte) (int, error) {
	if c.send > 0 {
		_ = c.Conn.SetWriteDeadline(time.Now().Add(c.send))
	}
	n, err := c.Conn.Write(p)
	c.note(0, err)
	return n, err
}

func (c *wconn) note(n int64, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.nread += n
	if err != nil && c.ioErr == nil {
		c.ioErr = err
	}
}

// socketErr returns the first error the socket reported, if any.
func (c *wconn) socketErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ioErr
}

// bytesRead is how many bytes the socket delivered so far.
func (c *wconn) bytesRead() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nread
}

// NetConn returns the socket (crypto/tls and tests follow it).
func (c *wconn) NetConn() net.Conn { return c.Conn }

// ioCause decides what a failure while reading or writing through c
// really was: the socket's own error when it reported one (a reset, a
// timeout, the end of the stream), else err itself, which then comes from
// a parser. An io.EOF or io.ErrUnexpectedEOF from a parser always means
// the stream ended early.
func ioCause(c *wconn, err error) (cause error, socket bool) {
	if se := c.socketErr(); se != nil {
		return se, true
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return io.ErrUnexpectedEOF, true
	}
	return err, false
}
