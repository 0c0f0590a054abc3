// Package client is the emulated Windows Update client: the component
// that observes which code a fault produces. It behaves as DESIGN.md "The
// emulated client" describes and reports the code the real Windows Update
// Agent (WUA) would, per reference/wu-codes.md.
//
// Like a real Windows client it sees only sockets: a DNS server address, a
// proxy address, URLs. It never learns which fault a world injected; it
// classifies what its resolver, sockets, TLS stack and parsers saw. Of
// this module it imports only client/profile (the words it shares with the
// lab) and codes: never faults, scenarios, simulate or verify
// (client/profile's TestClientStandsAlone checks it).
//
// # Machine, profile, state
//
// A Machine is an emulated Windows machine: its Config (a
// profile.Profile with the lab's defaults, symbolic values such as
// "lab" mapped to real addresses through an Env) and the state that lasts
// across sessions:
//
//   - the DNS client cache: positive answers for their TTL (capped by
//     MaxCacheTtl, 86,400 s), NXDOMAIN and NODATA for the SOA minimum
//     (capped by MaxNegativeCacheTtl, 900 s) [DNSCACHE]; entries expire on
//     the machine clock (Env.Clock), which the lab can advance, so a
//     cached NXDOMAIN keeps failing after the network is fixed until
//     FlushDNS or expiry;
//   - the Windows Update service: running or not, and the system proxy it
//     read when it started. Proxy settings are read at service start
//     (seed 002): SetWinHTTPProxy changes the configuration, RestartServices
//     makes the service use it.
//
// Each fix of DESIGN.md's table with a client-side effect is a method
// (FlushDNS, RestartServices, SetWinHTTPProxy, ImportIEProxy,
// ResetWinHTTPProxy, SetProxyCredentials, EnableNegotiate, SetDNS,
// UsePublicDNS, RemoveHostsOverride, TrustLabCA,
// EnableTLS12Ciphers, FixClock, ResetWUComponents); the fix table of package
// verify maps each catalog id to them. Run runs one session and returns a
// Result.
//
// # Transport
//
// The transport is an HTTP/1.1 client with WinHTTP semantics, on
// crypto/tls and net/http's message functions: its own resolver (hosts
// file, cache, the configured DNS servers through golang.org/x/net/dns/dnsmessage
// with the Windows DNS client's retry schedule [KB2834226]); the system
// proxy list (netsh syntax, bypass list, CONNECT for HTTPS), proxy
// authentication with Basic, NTLM and Negotiate (SPNEGO with NTLM inside,
// github.com/Azure/go-ntlmssp); per-operation send and receive timeouts;
// keep-alive; WinHTTP's redirect and header limits; a trust store,
// protocol versions, cipher suites, a skewed clock and revocation checking
// (a stapled OCSP answer, then the CRLs the chain names). Every failure
// carries its phase (resolve, connect, proxy, handshake, request, headers,
// body).
//
// # Timeouts and time_scale
//
// WinHTTP's defaults are resolve none (the DNS client's 10 s schedule
// bounds it), connect 60 s, send 30 s, receive 30 s [L-TIMEOUTS]. Every
// client timeout is multiplied by time_scale (0.01 in the lab; 1 keeps
// Windows' values); each scaled step of the DNS schedule is at least 50
// ms. BITS/DO job timers (no-progress 3,600 s, retry delay 600 s) are
// hours, so they scale by time_scale² (0.36 s and 60 ms in the lab); a job
// always makes at least two attempts at a piece. A catalog scenario thus
// ends within about a second.
//
// # Session
//
// With a WUServer (WSUS) the session is: self-update check
// (selfupdate/wuident.cab), GetConfig, GetAuthorizationCookie, GetCookie,
// RegisterComputer when required, SyncUpdates while Truncated (at most 200
// round trips, then 0x80244010), GetExtendedUpdateInfo, GetFileLocations
// for files without a location, the content download as a BITS or DO job,
// and ReportEventBatch. Jobs download in Range requests of 16 KiB, retry
// transient failures until the no-progress timeout, and check the SHA-1
// and SHA-256 digests; a 200 or a 206 of the wrong size is DO's block size
// mismatch, while BITS keeps a short piece and asks for the rest. SOAP faults InvalidCookie, ServerChanged,
// ConfigChanged and CookieExpired make the client redo the handshake.
//
// Without a WUServer the client uses Microsoft Update's host names
// (reference 6.2) on ports 443 and 80: modern clients start at the fe3 scan
// service (the SLS request that names it is not emulated), legacy clients
// at wuredir.cab. In the lab that works only through the world's proxy,
// which routes the lab zone's host names to the emulator (and over HTTPS
// only once the lab CA is trusted).
//
// Proxy choice follows [L-PROXY]: detection traffic uses the system proxy
// the running service read, falling back to the user proxy only with
// ProxyFallback; reporting tries the user proxy first. Downloads use the
// system proxy (a modelling choice). The reported code is the last
// attempt's (reference 3.5).
//
// # Classification
//
// classify.go holds the ordered tables: transport evidence → WinHTTP error
// (transportRules), WinHTTP error → WUA HRESULT on the WinHTTP path
// (translationRules: raw 0x80070000|n, 12007 → 0x8024402C, the modern scan
// timeout → 0x8024401C), WUA's own decisions (wuaRules: proxy list, HTTP
// status table, SOAP faults per generation, SOAP parse errors, content
// type, cabinets, round trips) and download jobs (jobRules). Each rule
// carries the confidence and source tags of reference/wu-codes.md; a
// verdict's confidence is the weaker of the rules that made it. Rules
// lists them all; Coverage maps every row of the reference's section 4 to
// rules or says why it is not reproducible.
//
// # Probe
//
// Probe checks endpoints the way a network team asks: DNS, TCP, TLS
// (chain, issuer, expiry), HTTP status, Range support, and the code a
// Windows Update client behind the same path would get (wufault probe).
package client
