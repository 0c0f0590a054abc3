package faults

import (
	"crypto/tls"
	"errors"
	"slices"
	"testing"
)

func TestTLSCert(t *testing.T) {
	for _, p := range CertProfiles {
		env := newFakeEnv()
		f := &TLSCert{Profile: p}
		if err := f.Validate(); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		cfg, err := f.ConfigForClient(&tls.ClientHelloInfo{ServerName: "wsus.lab"}, env)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if cfg == env.base || len(cfg.Certificates) != 1 || cfg.GetCertificate != nil || !slices.Equal(cfg.NextProtos, env.base.NextProtos) {
			t.Errorf("%s: config %+v: want a clone of the base serving the profile's certificate", p, cfg)
		}
		if len(env.base.Certificates) != 0 {
			t.Errorf("%s: the base was changed", p)
		}
		if !slices.Equal(env.asked, []string{"wsus.lab " + p}) {
			t.Errorf("%s: asked %v", p, env.asked)
		}
	}
	// Without SNI the env's own name is used ("").
	env := newFakeEnv()
	if _, err := (&TLSCert{Profile: "expired"}).ConfigForClient(&tls.ClientHelloInfo{}, env); err != nil || env.asked[0] != " expired" {
		t.Errorf("no SNI: asked %v, err %v", env.asked, err)
	}
	boom := errors.New("boom")
	env = newFakeEnv()
	env.err = boom
	if _, err := (&TLSCert{Profile: "revoked"}).ConfigForClient(&tls.ClientHelloInfo{}, env); !errors.Is(err, boom) {
		t.Errorf("env failure: %v", err)
	}
	if err := (&TLSCert{Profile: "weird"}).Validate(); err == nil {
		t.Error("unknown profile accepted")
	}
}
