package main

import (
	"log"
	"net/http"

	"github.com/elazarl/goproxy"

	"github.com/wufault/wufault/scripts/peers"
)

func main() {
	ln, err := peers.Listen()
	if err != nil {
		log.Fatalf("goproxy: %v", err)
	}
	p := goproxy.NewProxyHttpServer()
	p.Tr.DisableCompression = true
	log.Fatal(http.Serve(ln, p))
}
