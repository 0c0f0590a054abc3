// Package faults defines what wufault can break and when.
//
// A fault is one failure at one layer of the Windows Update traffic path: a DNS
// answer, a TCP connection, a TLS handshake, an HTTP exchange or the proxy's
// own behaviour. Every fault kind lives in one file named after it
// (dns_nxdomain.go, tcp_reset.go, …) and registers itself in init with
// [Register]; the registry drives `wufault faults list`, the scenario loader
// and the documentation, so there is no hand-kept list anywhere.
//
// # Hooks
//
// A fault implements exactly one hook, chosen by its layer (the part of the
// kind before the dot):
//
//	dns.*    DNSHook    ServeDNS(ctx, w, r, next) — a dns.Handler with a next
//	tcp.*    ConnHook   WrapConn(c, notify) net.Conn — acts on the bytes of a connection
//	tls.*    TLSHook    ConfigForClient(hello, env) — shapes one TLS handshake
//	http.*   HTTPHook   ServeHTTP(w, r, next) — an http.Handler with a next
//	proxy.*  ProxyHook  ServeProxy(w, r, next) — runs before the proxy forwards (407, 403)
//
// The injected failure is the product, not an error: a hook that answers
// NXDOMAIN or resets a connection has done its job. Hooks never decide
// whether they fire; the world asks the [Set] for the rules whose [Match]
// and [When] select an event and only then calls their hooks. Selection is
// central so that `when: {first: 3}` or `probability: 0.2` mean the same for
// every kind and are reproducible from the scenario seed.
//
// # Connection hooks
//
// WrapConn wraps the write path toward the client at the moment the fault's
// phase begins (PhaseBinder says which phase and after how many bytes); a
// fault with after_bytes 0 acts at once, inside WrapConn. To reset, call
// [Abort] (it finds the TCP socket under any wrapper through NetConn, waits
// for written bytes to leave, and closes with SO_LINGER 0); to end cleanly,
// call [HalfClose] (a FIN that keeps the read side open, so unread client
// bytes do not turn it into a reset). After acting, writes fail with
// [ErrInjected], which the world treats as the fault doing its job. A
// wrapper that holds bytes back implements [Drainer]; every wait must end
// when the wrapper is closed (the world closes it when the client gives
// up, at its maximum stall, and at shutdown). Random draws seed from
// [Seeder] so the scenario seed fixes them. Call notify when the fault
// acts: it becomes the journal's "fault" event.
//
// # Adding a fault
//
//  1. Create <layer>_<name>.go with a struct whose exported fields carry yaml
//     tags (snake_case), a Validate method that reports problems with
//     [FieldError] so the scenario loader can point at the line, the hook
//     method, and an init that calls Register.
//  2. Add <layer>_<name>_test.go that drives the hook through real sockets
//     or a recorder.
//  3. Run `go test ./...`: the conformance test checks the new kind, and the
//     golden fault→code table in verify shows its codes for review.
package faults
