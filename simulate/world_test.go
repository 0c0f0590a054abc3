package simulate

import (
	"context"
	"net"
	"net/netip"
	"strings"
	"testing"
)

func TestNewRefusesNonLoopbackWithoutAllowList(t *testing.T) {
	_, err := New(context.Background(), Options{Proxy: "0.0.0.0:0"})
	if err == nil || !strings.Contains(err.Error(), "--allow-cidr") {
		t.Fatalf("err = %v, want a refusal naming --allow-cidr", err)
	}
	_, err = New(context.Background(), Options{Control: "0.0.0.0:0", AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}})
	if err == nil || !strings.Contains(err.Error(), "token") {
		t.Fatalf("err = %v, want a refusal asking for a control token", err)
	}
	_, err = New(context.Background(), Options{DNS: "localhost:0"})
	if err == nil || !strings.Contains(err.Error(), "IP address") {
		t.Fatalf("err = %v, want a refusal of a host name", err)
	}
}

func TestClientAllowed(t *testing.T) {
	w := &World{opts: Options{AllowCIDRs: []netip.Prefix{netip.MustParsePrefix("192.0.2.0/24")}}}
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "[::1]:5000": true, "192.0.2.7:1": true, "198.51.100.1:1": false, "[::ffff:192.0.2.9]:1": true,
	} {
		ap := netip.MustParseAddrPort(addr)
		if got := w.clientAllowed(tcpAddr(ap)); got != want {
			t.Errorf("clientAllowed(%s) = %v, want %v", addr, got, want)
		}
	}
}

func tcpAddr(ap netip.AddrPort) *net.TCPAddr { return net.TCPAddrFromAddrPort(ap) }
