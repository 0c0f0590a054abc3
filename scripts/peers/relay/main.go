package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	ready := flag.String("ready", "", "file to write the listening address to")
	flag.Parse()
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("relay: -listen %q: want a loopback host:port", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("relay: %v", err)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(ln.Addr().String()), 0o644); err != nil {
			log.Fatalf("relay: %v", err)
		}
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
