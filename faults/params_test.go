package faults

import (
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"go.yaml.in/yaml/v3"
)

func TestParseByteRate(t *testing.T) {
	for in, want := range map[string]ByteRate{
		"64KiB/s": 64 << 10, "1MiB/s": 1 << 20, "8000B/s": 8000, "1MB/s": 1e6, "512kbit/s": 64000, "1.5KiB/s": 1536, " 2 kb/s ": 2000,
	} {
		got, err := ParseByteRate(in)
		if err != nil || got != want {
			t.Errorf("ParseByteRate(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "64KiB", "64/s", "-1KiB/s", "0B/s", "x KiB/s", "1e30GB/s", "64 furlongs/s"} {
		if got, err := ParseByteRate(in); err == nil {
			t.Errorf("ParseByteRate(%q) = %d, want an error", in, got)
		}
	}
	if s := ByteRate(64 << 10).String(); s != "64KiB/s" {
		t.Errorf("String = %s", s)
	}
}

func TestDurationYAML(t *testing.T) {
	var v struct {
		D profile.Duration `yaml:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 1m30s"), &v); err != nil || v.D.D() != 90*time.Second {
		t.Errorf("got %v, %v", v.D, err)
	}
	for _, in := range []string{"d: 30", "d: 1.5", "d: soon", "d: [1s]"} {
		if err := yaml.Unmarshal([]byte(in), &v); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	c := profile.Credential{User: "alice", Password: "hunter2"}
	b, _ := yaml.Marshal(c)
	if got := string(b); got != "user: alice\npassword: '[redacted]'\n" {
		t.Errorf("yaml = %q", got)
	}
	if c.Password.Reveal() != "hunter2" {
		t.Error("Reveal lost the secret")
	}
}
