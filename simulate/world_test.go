package simulate

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
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

func TestWriteFileAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ready.json")
	if err := os.WriteFile(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(path, []byte("new"), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	st, _ := os.Stat(path)
	if err != nil || string(b) != "new" || st.Mode().Perm() != 0o644 {
		t.Errorf("content %q mode %v err %v", b, st.Mode().Perm(), err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("temporary files left behind: %v", ents)
	}
	if err := WriteFileAtomic(filepath.Join(dir, "missing", "x"), nil, 0o644); err == nil {
		t.Error("a write into a missing directory succeeded")
	}
}
