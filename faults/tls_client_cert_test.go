package faults

import (
	"crypto/tls"
	"testing"
)

func TestTLSClientCert(t *testing.T) {
	for mode, want := range map[string]tls.ClientAuthType{"": tls.RequireAnyClientCert, "require": tls.RequireAnyClientCert, "request": tls.RequestClientCert} {
		env := newFakeEnv()
		f := &TLSClientCert{Mode: mode}
		if err := f.Validate(); err != nil {
			t.Fatal(err)
		}
		cfg, err := f.ConfigForClient(&tls.ClientHelloInfo{}, env)
		if err != nil || cfg.ClientAuth != want || env.base.ClientAuth != tls.NoClientCert {
			t.Errorf("mode %q: ClientAuth %v (base %v), err %v; want %v", mode, cfg.ClientAuth, env.base.ClientAuth, err, want)
		}
	}
	if err := (&TLSClientCert{Mode: "verify"}).Validate(); err == nil {
		t.Error("unknown mode accepted")
	}
}
