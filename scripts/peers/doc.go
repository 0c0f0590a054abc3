// Package peers measures wufault's forward proxy against a floor and
// against peer proxies in one run: BenchmarkPeers downloads from an
// origin of its own through each proxy named in WUFAULT_PEERS and
// reports the speed and each proxy process's CPU time per GiB.
//
// scripts/bench-peers.sh builds the two floor and peer programs in the
// subdirectories (relay: a CONNECT relay that only splices bytes; goproxy:
// elazarl/goproxy with nothing configured), starts every proxy, runs the
// benchmark and prints the table recorded in docs/benchmarks.md. Nothing
// here runs in `go test ./...` beyond compiling: benchmarks are never
// timed tests. Listen is the command line the two programs share.
package peers
