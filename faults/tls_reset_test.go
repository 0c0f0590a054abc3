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

// no_shared_cipher resets only a ClientHello without a suite the server
// accepts; one with a TLS 1.2 ECDHE suite or TLS 1.3 goes on.
func TestTLSResetNoSharedCipher(t *testing.T) {
	f := &TLSReset{NoSharedCipher: true}
	for _, hello := range []*tls.ClientHelloInfo{
		{SupportedVersions: []uint16{tls.VersionTLS12}, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}},
		{SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12}, CipherSuites: []uint16{tls.TLS_AES_128_GCM_SHA256}},
	} {
		server, _ := tcpPair(t)
		hello.Conn = server
		if cfg, err := f.ConfigForClient(hello, newFakeEnv()); cfg != nil || err != nil {
			t.Errorf("hello %v %v: ConfigForClient = %v, %v; want nil, nil (no reset)", hello.SupportedVersions, hello.CipherSuites, cfg, err)
		}
	}
	server, client := tcpPair(t)
	hello := &tls.ClientHelloInfo{Conn: server, SupportedVersions: []uint16{tls.VersionTLS12}, CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}}
	if _, err := f.ConfigForClient(hello, newFakeEnv()); !errors.Is(err, ErrInjected) {
		t.Fatalf("RSA key exchange only: %v, want ErrInjected", err)
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadAll(client); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client read: %v, want ECONNRESET", err)
	}
}
