package profile

import (
	"errors"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestValidate(t *testing.T) {
	scale := 2.0
	if err := (Profile{}).Validate(); err != nil {
		t.Fatalf("empty profile: %v", err)
	}
	ok := Profile{Generation: "legacy", Download: "bits", TLSVersions: []string{"1.0", "1.3"}, DNS: []string{"lab", "healthy", "10.0.0.1", "[::1]:5353"},
		CipherSuites: []string{"TLS_RSA_WITH_AES_128_CBC_SHA"}, Hosts: []HostEntry{{"wsus.lab", "127.0.0.2"}}, AuthSchemes: []string{"kerberos"}}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid profile: %v", err)
	}
	bad := Profile{Generation: "vista", Download: "ftp", TimeScale: &scale, TLSVersions: []string{"1.2", "2.0"}, DNS: []string{"nowhere"},
		CipherSuites: []string{"TLS_MADE_UP"}, Hosts: []HostEntry{{"wsus.lab", "10.0.0.300"}}, RunningProxy: new(string), AuthSchemes: []string{"digest"}}
	err := bad.Validate()
	want := []string{"generation", "download", "time_scale", "tls_versions[1]", "dns[0]", "cipher_suites[0]", "hosts[0].address", "running_proxy", "auth_schemes[0]"}
	var got []string
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if !errors.As(e, &fe) {
			t.Fatalf("%v is not a *FieldError", e)
		}
		got = append(got, fe.Field)
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("fields %v, want %v", got, want)
	}
}

func TestDuration(t *testing.T) {
	var v struct {
		D Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 1m30s"), &v); err != nil || v.D.D() != 90*time.Second {
		t.Fatalf("1m30s: %v %v", v.D, err)
	}
	for _, in := range []string{"d: 30", "d: 1.5", "d: soon"} {
		if err := yaml.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if b, _ := Duration(1500 * time.Millisecond).MarshalText(); string(b) != "1.5s" {
		t.Errorf("MarshalText = %s", b)
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c := Credential{User: "alice", Password: "hunter2"}
	b, _ := yaml.Marshal(c)
	if strings.Contains(string(b), "hunter2") || c.Password.String() != "[redacted]" || c.Password.Reveal() != "hunter2" {
		t.Errorf("secret leaks or is lost: %s", b)
	}
}

func TestNames(t *testing.T) {
	if _, ok := CipherSuiteID("TLS_RSA_WITH_AES_128_CBC_SHA"); !ok {
		t.Error("an insecure suite is not found")
	}
	if TLSVersionNames() != "1.0, 1.1, 1.2, 1.3" {
		t.Errorf("TLSVersionNames = %s", TLSVersionNames())
	}
	for in, want := range map[string]string{"lab": "lab", "10.0.0.1": "10.0.0.1:53", "[::1]": "[::1]:53", "h:5353": "h:5353"} {
		if got, _, err := DNSServer(in); err != nil || got != want {
			t.Errorf("DNSServer(%q) = %q, %v", in, got, err)
		}
	}
}
