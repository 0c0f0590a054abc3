// Command relay is the floor of the proxy benchmarks: an HTTP CONNECT
// relay that answers 200 and then only splices bytes between the client
// and the destination (Go's TCPConn.ReadFrom uses splice(2) on Linux).
// It has no faults, no journal and no policy: it is a measuring stick,
// listening on loopback only.
//
//	relay -listen 127.0.0.1:0 -ready FILE
package main
