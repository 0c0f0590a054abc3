// Package simulate runs a world: the fault-injecting intermediary that sits
// between a Windows Update client and the update servers.
//
// A World owns a forward proxy (CONNECT and plain HTTP, on
// github.com/elazarl/goproxy), a DNS server (github.com/miekg/dns), the lab
// CA and TLS endpoints, the embedded Windows Update emulator (package
// simulate/wsus), a control API and a journal. One fault list is active at
// a time (Activate swaps it atomically); every service asks the active
// faults.Set which rules fire for each event and calls their hooks, and
// records connections, requests, answers and firings in the Journal with
// ids, so each failure a client sees is attributed.
//
// Safety: every service binds to loopback unless client networks are
// allowed explicitly, and then answers only those networks.
package simulate
