package testnet

import (
	"net"
	"sync"
	"testing"

	"github.com/miekg/dns"
)

// DNS serves h on 127.0.0.1:0 over UDP and TCP (the same port) until the
// test ends, and returns the address.
func DNS(t testing.TB, h dns.Handler) string {
	t.Helper()
	var pc net.PacketConn
	var l net.Listener
	for try := 0; l == nil; try++ {
		var err error
		if pc, err = net.ListenPacket("udp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
		if l, err = net.Listen("tcp", pc.LocalAddr().String()); err != nil {
			pc.Close() // the TCP port is taken: another UDP port
			if try == 4 {
				t.Fatalf("dns over tcp on the udp port: %v", err)
			}
		}
	}
	up := make(chan struct{}, 2)
	udp := &dns.Server{PacketConn: pc, Handler: h, NotifyStartedFunc: func() { up <- struct{}{} }}
	tcp := &dns.Server{Listener: l, Handler: h, NotifyStartedFunc: func() { up <- struct{}{} }}
	go udp.ActivateAndServe()
	go tcp.ActivateAndServe()
	<-up
	<-up
	t.Cleanup(func() { udp.Shutdown(); tcp.Shutdown() })
	return pc.LocalAddr().String()
}

// Serve accepts connections on ln until it closes and hands each to handle
// in its own goroutine, closing it when handle returns. The test's cleanup
// closes ln and waits for the handlers.
func Serve(t testing.TB, ln net.Listener, handle func(net.Conn)) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				handle(c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })
}
