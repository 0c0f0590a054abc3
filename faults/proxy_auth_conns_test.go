package faults

import (
	"net/http/httptest"
	"strconv"
	"testing"
)

// Without a connection store each fault keeps its own table, bounded,
// forgetting the oldest connection first.
func TestProxyAuthFallbackConns(t *testing.T) {
	a, b := new(ProxyAuth), new(ProxyAuth)
	r := httptest.NewRequest("GET", "http://x.test/", nil)
	r.RemoteAddr = "127.0.0.1:1000"
	if st := a.connState(r); st != a.connState(r) {
		t.Fatal("one connection, two states")
	}
	if a.connState(r) == b.connState(r) {
		t.Fatal("two faults share a connection's state")
	}
	first := a.connState(r)
	for i := range maxFallbackConns {
		r2 := httptest.NewRequest("GET", "http://x.test/", nil)
		r2.RemoteAddr = "127.0.0.2:" + strconv.Itoa(2000+i)
		a.connState(r2)
	}
	if len(a.fallback.m) != maxFallbackConns || len(a.fallback.order) != maxFallbackConns {
		t.Fatalf("table holds %d (%d in order), want %d", len(a.fallback.m), len(a.fallback.order), maxFallbackConns)
	}
	if _, ok := a.fallback.m["127.0.0.1:1000"]; ok {
		t.Error("the oldest connection was not the one forgotten")
	}
	if a.connState(r) == first {
		t.Error("a forgotten connection kept its state")
	}
}
