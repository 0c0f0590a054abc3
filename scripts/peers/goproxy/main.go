package main

import (
	"flag"
	"log"
	"net"
	"net/http"
	"os"

	"github.com/elazarl/goproxy"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "loopback address to listen on")
	ready := flag.String("ready", "", "file to write the listening address to")
	flag.Parse()
	host, _, err := net.SplitHostPort(*listen)
	if err != nil || !net.ParseIP(host).IsLoopback() {
		log.Fatalf("goproxy: -listen %q: want a loopback host:port", *listen)
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("goproxy: %v", err)
	}
	if *ready != "" {
		if err := os.WriteFile(*ready, []byte(ln.Addr().String()), 0o644); err != nil {
			log.Fatalf("goproxy: %v", err)
		}
	}
	p := goproxy.NewProxyHttpServer()
	p.Tr.DisableCompression = true
	log.Fatal(http.Serve(ln, p))
}
