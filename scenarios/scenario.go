package scenarios

import (
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
)

// Scenario is one named situation: faults, client profile, expectation.
type Scenario struct {
	// Name is unique and kebab-case.
	Name string `yaml:"name" required:"true"`
	// Summary is one line for listings.
	Summary string `yaml:"summary,omitempty"`
	// Codes are the codes the scenario reproduces (shown in listings).
	Codes []codes.Code `yaml:"codes,omitempty"`
	// Notes explain the scenario: evidence, caveats, seed claims it corrects.
	Notes string `yaml:"notes,omitempty"`
	// Seed feeds every random choice (probability selection, jitter).
	Seed int64 `yaml:"seed,omitempty"`
	// Profile overrides the emulated client's default profile.
	Profile Profile `yaml:"profile,omitempty"`
	// Faults are the faults to inject, in order.
	Faults []faults.Spec `yaml:"faults,omitempty"`
	// Expect is what the session should end with; nil for a scenario that
	// only drives a world (wufault serve).
	Expect *Expect `yaml:"expect,omitempty"`
	// Fixes are the documented remedies to check, with their expected outcome.
	Fixes []FixCheck `yaml:"fixes,omitempty"`

	// File is where the scenario was loaded from ("catalog/x.yaml" for
	// embedded ones).
	File string `yaml:"-"`
}

// Expect is the expected outcome of a session.
type Expect struct {
	// Code is the session's final code; 0x0 means success (S_OK).
	Code codes.Code `yaml:"code" required:"true"`
	// Class is the request class that fails.
	Class faults.Class `yaml:"class,omitempty"`
	// Confidence of the mapping, from reference/wu-codes.md section 4.
	Confidence Confidence `yaml:"confidence,omitempty"`
	// Source is the evidence tag, e.g. "[L-WINHTTPERR] 12030".
	Source string `yaml:"source,omitempty"`
}

// Confidence grades how well a fault→code mapping is established.
type Confidence string

// Confidences, strongest first.
var Confidences = []Confidence{"high", "medium-high", "medium", "medium-low", "low"}

// Outcome is what applying a fix did.
type Outcome string

// The outcomes of a fix.
const (
	OutcomeFixes    Outcome = "fixes"     // the session now succeeds
	OutcomeNoEffect Outcome = "no-effect" // the same failure
	OutcomePartial  Outcome = "partial"   // a different failure, or success only sometimes
)

// Outcomes lists every outcome.
var Outcomes = []Outcome{OutcomeFixes, OutcomeNoEffect, OutcomePartial}

// FixCheck is a fix and its expected outcome on the scenario.
type FixCheck struct {
	Fix     string  `yaml:"fix" required:"true"`
	Outcome Outcome `yaml:"outcome" required:"true"`
	// With lists fixes applied first, in order: a fix that only works in
	// combination (reset-winhttp-proxy needs restart-wu-services, seed 002)
	// is checked as the last of the chain.
	With []string `yaml:"with,omitempty"`
	// Code is the code expected after the fix when it is not success.
	Code *codes.Code `yaml:"code,omitempty"`
}

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
	ProxyCredentials *faults.Credential `yaml:"proxy_credentials,omitempty"`
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
	ClockOffset *faults.Duration `yaml:"clock_offset,omitempty"`
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
	Resolve *faults.Duration `yaml:"resolve,omitempty"`
	Connect *faults.Duration `yaml:"connect,omitempty"`
	Send    *faults.Duration `yaml:"send,omitempty"`
	Receive *faults.Duration `yaml:"receive,omitempty"`
}
