// Command soak drives a running `wufault serve` with many concurrent
// clients for a bounded time and fails on anything a healthy world should
// not do: an unexpected answer or error, goroutines or descriptors that do
// not return to their baseline after the load, or memory that grows past a
// bound. It is the engine of scripts/soak.sh, not part of `go test`.
//
// Everything runs on loopback. The driver starts `wufault serve` itself
// (every port on 127.0.0.1:0, read back from its ready file) and its own
// origins: a plain HTTP origin on 127.0.0.1 and an HTTPS one on 127.0.0.2,
// which the proxy may reach through --allow-upstream. The clients are plain
// HTTP through the proxy (GET, spliced, and POST, through the Transport),
// HTTPS through CONNECT tunnels, and DNS over UDP to the world's DNS
// server; each has its own connections and now and then drops them. A
// swapper changes the active scenario through the control API (PUT and
// DELETE /scenario) between rules whose effect the clients accept on the
// one name or path they target (an http.status 503 on /fault/, a
// dns.nxdomain on nx.soak.lab), so a fault that leaks elsewhere is an
// error, and a fault that never shows is one too. The world's own figures
// (go_goroutines, process_open_fds, process_resident_memory_bytes, the
// error counters) come from its /metrics.
package main
