package faults

import (
	"crypto/tls"
	"testing"
)

func TestTLSVersion(t *testing.T) {
	for _, tc := range []struct {
		f        TLSVersion
		min, max uint16
	}{
		{TLSVersion{Max: "1.1"}, tls.VersionTLS10, tls.VersionTLS11},
		{TLSVersion{Min: "1.3"}, tls.VersionTLS13, tls.VersionTLS13},
		{TLSVersion{Min: "1.0", Max: "1.0"}, tls.VersionTLS10, tls.VersionTLS10},
	} {
		env := newFakeEnv()
		env.base.MinVersion = tls.VersionTLS12
		if err := tc.f.Validate(); err != nil {
			t.Fatal(err)
		}
		cfg, err := tc.f.ConfigForClient(&tls.ClientHelloInfo{}, env)
		if err != nil || cfg.MinVersion != tc.min || cfg.MaxVersion != tc.max {
			t.Errorf("%+v: min %x max %x err %v, want %x %x", tc.f, cfg.MinVersion, cfg.MaxVersion, err, tc.min, tc.max)
		}
		if env.base.MinVersion != tls.VersionTLS12 || env.base.MaxVersion != 0 {
			t.Errorf("%+v: the base was changed", tc.f)
		}
	}
	for _, bad := range []TLSVersion{{}, {Min: "1.3", Max: "1.2"}, {Min: "2.0"}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}
