// Package testnet holds the loopback servers the client packages' tests
// share: a DNS server with the test's handler, and an accept loop.
package testnet
