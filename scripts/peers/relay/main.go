package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"

	"github.com/wufault/wufault/scripts/peers"
)

func main() {
	ln, err := peers.Listen()
	if err != nil {
		log.Fatalf("relay: %v", err)
	}
	for {
		c, err := ln.Accept()
		if err != nil {
			log.Fatalf("relay: %v", err)
		}
		go serve(c.(*net.TCPConn))
	}
}

// serve reads one CONNECT head, dials its target and splices both ways.
func serve(c *net.TCPConn) {
	defer c.Close()
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil || req.Method != http.MethodConnect || br.Buffered() > 0 {
		fmt.Fprint(c, "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
		return
	}
	up, err := net.Dial("tcp", req.Host)
	if err != nil {
		fmt.Fprintf(c, "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n%s\n", strings.ReplaceAll(err.Error(), "\n", " "))
		return
	}
	defer up.Close()
	if _, err := io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		return
	}
	done := make(chan struct{})
	go func() {
		_, _ = up.(*net.TCPConn).ReadFrom(c) // client → origin
		_ = up.(*net.TCPConn).CloseWrite()
		close(done)
	}()
	_, _ = c.ReadFrom(up) // origin → client
	_ = c.CloseWrite()
	<-done
}
