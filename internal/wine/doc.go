// Package wine runs the Windows agent (cmd/wufault-agent) under Wine: a
// private win64 prefix with the agent built for Windows, the one-function
// ProcessPrng shim Go's Windows binaries need on Wine 8 (built with mingw
// from the source embedded here), a persistent wineserver, optionally a
// private /etc/resolv.conf for Wine's name lookups, and the lab's roots
// in the prefix's machine Root store. The agent's Wine test and
// `wufault atlas --wine` both use it.
package wine
