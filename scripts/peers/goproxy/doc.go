// Command goproxy is a peer in the proxy benchmarks: elazarl/goproxy's
// ProxyHttpServer with nothing configured (the library wufault's proxy is
// built on, without wufault's layers), listening on loopback only.
//
//	goproxy -listen 127.0.0.1:0 -ready FILE
package main
