package faults

import (
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"
)

// tcpPair returns both ends of a loopback TCP connection: the server end
// (where faults are armed) and the client end.
func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := l.Accept()
		ch <- c
	}()
	client, err = net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server = <-ch
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { server.Close(); client.Close() })
	_ = client.SetDeadline(time.Now().Add(10 * time.Second))
	return server, client
}

// notes collects a fault's notifications.
type notes struct {
	mu sync.Mutex
	s  []string
}

func (n *notes) notify(d string) { n.mu.Lock(); n.s = append(n.s, d); n.mu.Unlock() }

func (n *notes) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return append([]string(nil), n.s...)
}

func isReset(err error) bool { return errors.Is(err, syscall.ECONNRESET) }
