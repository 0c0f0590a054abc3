package faults

import (
	"crypto/tls"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

func TestTLSReset(t *testing.T) {
	server, client := tcpPair(t)
	cfg, err := (&TLSReset{}).ConfigForClient(&tls.ClientHelloInfo{Conn: server}, newFakeEnv())
	if cfg != nil || !errors.Is(err, ErrInjected) {
		t.Fatalf("ConfigForClient = %v, %v; want nil, ErrInjected", cfg, err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(client); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client read: %v, want ECONNRESET", err)
	}
}
