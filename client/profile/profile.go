package profile

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// Profile overrides the emulated client's environment and state. Unset
// fields keep the client's defaults (a modern Windows client with a healthy
// network). Values that a real client would reject (a malformed proxy list
// or WUServer URL) are kept as written: producing the client's error for
// them is the point.
type Profile struct {
	// Generation is modern (Windows 10/11, WWSAPI) or legacy (XP–8.1, ATL SOAP).
	Generation string `yaml:"generation,omitempty"`
	// Server is the WUServer policy URL; empty means Microsoft Update. "lab"
	// is the world's WSUS emulator over HTTP, "lab-https" over HTTPS.
	Server *string `yaml:"server,omitempty"`
	// AlternateDownloadServer is the UpdateServiceUrlAlternate policy URL
	// (with a WUServer): content is downloaded from it instead of the WSUS
	// server. "lab" is the world's emulator under the name content.wsus.lab.
	AlternateDownloadServer *string `yaml:"alternate_download_server,omitempty"`
	// Proxy is the WinHTTP system proxy: "lab" (the world's proxy by
	// address), "lab-name" (the same by the name proxy.lab, resolved through
	// the client's DNS), "dead" (an address where nothing listens), ""
	// (direct), otherwise a proxy list as netsh writes it.
	Proxy *string `yaml:"proxy,omitempty"`
	// UserProxy is the IE/user proxy, separate from the system proxy.
	UserProxy *string `yaml:"user_proxy,omitempty"`
	// ProxyFallback allows falling back to the user proxy
	// (SetProxyBehaviorForUpdateDetection = 1).
	ProxyFallback *bool `yaml:"proxy_fallback,omitempty"`
	// Bypass is the proxy bypass list.
	Bypass []string `yaml:"bypass,omitempty"`
	// ProxyCredentials the client can answer a 407 with.
	ProxyCredentials *Credential `yaml:"proxy_credentials,omitempty"`
	// AuthSchemes the client can answer (basic, ntlm, negotiate; negotiate
	// means SPNEGO with NTLM inside; kerberos models a Kerberos-only client).
	AuthSchemes []string `yaml:"auth_schemes,omitempty"`
	// DNS lists the resolvers in order: "lab" (the world's DNS, with its
	// faults), "healthy" (a second resolver without faults), or host:port.
	DNS []string `yaml:"dns,omitempty"`
	// Hosts are hosts-file entries.
	Hosts []HostEntry `yaml:"hosts,omitempty"`
	// TrustLabCA puts the lab CA in the client's trusted roots.
	TrustLabCA *bool `yaml:"trust_lab_ca,omitempty"`
	// TLSVersions the client enables ("1.0" … "1.3").
	TLSVersions []string `yaml:"tls_versions,omitempty"`
	// CipherSuites the client enables (Go names); empty: Go's defaults.
	CipherSuites []string `yaml:"cipher_suites,omitempty"`
	// CheckRevocation makes the client check OCSP/CRL as Windows does.
	CheckRevocation *bool `yaml:"check_revocation,omitempty"`
	// ClockOffset shifts the client's clock.
	ClockOffset *Duration `yaml:"clock_offset,omitempty"`
	// Timeouts override the WinHTTP timeouts (before time_scale).
	Timeouts *Timeouts `yaml:"timeouts,omitempty"`
	// TimeScale multiplies every client timeout (lab default 0.01).
	TimeScale *float64 `yaml:"time_scale,omitempty"`
	// Download is the download stack: do (Delivery Optimization) or bits.
	Download string `yaml:"download,omitempty"`
	// Running says the Windows Update service is already running when the
	// scenario starts: it read its proxy settings when it started, so a
	// later change of Proxy needs restart-wu-services (seed 002). Absent or
	// false: the service starts with the first session and reads Proxy then.
	Running *bool `yaml:"running,omitempty"`
	// RunningProxy is the system proxy the running service read when it
	// started, when it differs from Proxy (the proxy was changed since and
	// the service not restarted). Same values as Proxy; needs running: true.
	RunningProxy *string `yaml:"running_proxy,omitempty"`
}

// HostEntry is one line of the hosts file.
type HostEntry struct {
	Host    string `yaml:"host" required:"true"`
	Address string `yaml:"address" required:"true"`
}

// Timeouts are WinHTTP's four timeouts.
type Timeouts struct {
	Resolve *Duration `yaml:"resolve,omitempty"`
	Connect *Duration `yaml:"connect,omitempty"`
	Send    *Duration `yaml:"send,omitempty"`
	Receive *Duration `yaml:"receive,omitempty"`
}

// Secret is a password: it decodes from a scenario but never prints.
type Secret string

func (Secret) String() string { return "[redacted]" }

// MarshalText keeps secrets out of JSON, YAML and the journal.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret for the code that must check it.
func (s Secret) Reveal() string { return string(s) }

// Credential is a user and password: one the client answers a 407 with,
// one the proxy accepts.
type Credential struct {
	User     string `yaml:"user" json:"user"`
	Password Secret `yaml:"password" json:"password"`
}

// FieldError is a problem with one field. Field is the YAML key path
// ("after_bytes", "tls_versions[1]", "hosts[0].address"); the scenario
// loader adds the file, the line and the path of the enclosing block.
type FieldError struct {
	Field string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Err.Error() }
func (e *FieldError) Unwrap() error { return e.Err }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Err: fmt.Errorf(format, args...)}
}

// Generations, Downloads and AuthSchemes are the values the fields of the
// same names accept.
var (
	Generations = []string{"modern", "legacy"}
	Downloads   = []string{"do", "bits"}
	AuthSchemes = []string{"basic", "ntlm", "negotiate", "kerberos"}
)

// Validate checks what no Windows machine could hold: an unknown
// generation, download stack, TLS version, cipher suite or auth scheme, a
// resolver that is neither symbolic nor an address, a hosts entry that is
// not an address, a time scale outside (0, 1], a running proxy without a
// running service. Each problem is a *FieldError; they come joined. Proxy
// lists and server URLs are not checked: the client fails on them as
// Windows does.
func (p Profile) Validate() error {
	var errs []error
	if p.Generation != "" && !slices.Contains(Generations, p.Generation) {
		errs = append(errs, fieldErr("generation", "%q is not modern or legacy", p.Generation))
	}
	if p.Download != "" && !slices.Contains(Downloads, p.Download) {
		errs = append(errs, fieldErr("download", "%q is not do or bits", p.Download))
	}
	if p.TimeScale != nil && (*p.TimeScale <= 0 || *p.TimeScale > 1) {
		errs = append(errs, fieldErr("time_scale", "must be in (0, 1], got %v", *p.TimeScale))
	}
	for i, v := range p.TLSVersions {
		if _, ok := TLSVersions[v]; !ok {
			errs = append(errs, fieldErr(fmt.Sprintf("tls_versions[%d]", i), "%q is not a TLS version (1.0, 1.1, 1.2, 1.3)", v))
		}
	}
	for i, v := range p.DNS {
		if _, _, err := DNSServer(v); err != nil {
			errs = append(errs, fieldErr(fmt.Sprintf("dns[%d]", i), "%q is not lab, healthy, an IP address or host:port", v))
		}
	}
	for i, name := range p.CipherSuites {
		if _, ok := CipherSuiteID(name); !ok {
			errs = append(errs, fieldErr(fmt.Sprintf("cipher_suites[%d]", i), "%q is not a TLS cipher suite name (Go's names, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256)", name))
		}
	}
	for i, h := range p.Hosts {
		if _, err := netip.ParseAddr(h.Address); err != nil {
			errs = append(errs, fieldErr(fmt.Sprintf("hosts[%d].address", i), "%q is not an IP address", h.Address))
		}
	}
	if p.RunningProxy != nil && (p.Running == nil || !*p.Running) {
		errs = append(errs, fieldErr("running_proxy", "needs running: true (the proxy a running service read at start)"))
	}
	for i, s := range p.AuthSchemes {
		if !slices.Contains(AuthSchemes, s) {
			errs = append(errs, fieldErr(fmt.Sprintf("auth_schemes[%d]", i), "%q is not basic, ntlm, negotiate or kerberos", s))
		}
	}
	return errors.Join(errs...)
}

// DNSServer reads one profile.dns entry: the symbolic resolvers "lab" and
// "healthy" come back as they are (symbolic true); an address gets port 53;
// host:port stays.
func DNSServer(v string) (addr string, symbolic bool, err error) {
	switch v {
	case "lab", "healthy":
		return v, true, nil
	}
	if _, _, err := net.SplitHostPort(v); err == nil {
		return v, false, nil
	}
	if ip, err := netip.ParseAddr(strings.Trim(v, "[]")); err == nil {
		return net.JoinHostPort(ip.String(), "53"), false, nil
	}
	return "", false, fmt.Errorf("dns %q is not lab, healthy, an address or host:port", v)
}
