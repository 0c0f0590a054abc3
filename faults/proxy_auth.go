package faults

import (
	"errors"
	"strings"
)

// AuthSchemes are the proxy authentication schemes wufault can demand, in
// the order a corporate proxy usually offers them.
var AuthSchemes = []string{"negotiate", "ntlm", "basic"}

// AuthRejectModes say when proxy.auth turns a client away.
var AuthRejectModes = []string{
	"always",            // every request gets 407, whatever it carries
	"wrong-credentials", // only the configured users get through
	"scheme-mismatch",   // offers only schemes the client lacks (Kerberos-only for Negotiate)
	"loop",              // challenges again after a valid answer
}

// Secret is a password: it decodes from a scenario but never prints.
type Secret string

func (Secret) String() string { return "[redacted]" }

// MarshalText keeps secrets out of JSON, YAML and the journal.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Reveal returns the secret for the code that must check it.
func (s Secret) Reveal() string { return string(s) }

// Credential is one user the proxy accepts.
type Credential struct {
	User     string `yaml:"user" json:"user"`
	Password Secret `yaml:"password" json:"password"`
}

// ProxyAuth demands proxy authentication (407) with Basic, NTLM or Negotiate.
type ProxyAuth struct {
	// Schemes offered, in order (default: negotiate, ntlm, basic).
	Schemes []string `yaml:"schemes,omitempty" json:"schemes,omitempty"`
	// Users who may pass. A user may be written DOMAIN\user for NTLM.
	Users []Credential `yaml:"users,omitempty" json:"users,omitempty"`
	// Realm for Basic (default "wufault").
	Realm string `yaml:"realm,omitempty" json:"realm,omitempty"`
	// Reject is one of AuthRejectModes (default: wrong-credentials when
	// users are set, otherwise always).
	Reject string `yaml:"reject,omitempty" json:"reject,omitempty"`
}

func init() {
	Register(Info{Kind: "proxy.auth", Summary: "demands proxy authentication (407) with Basic, NTLM or Negotiate", New: func() Fault { return new(ProxyAuth) }})
}

// Validate checks the parameters.
func (f *ProxyAuth) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range f.Schemes {
		if err := oneOf("schemes", s, AuthSchemes); err != nil {
			errs = append(errs, err)
		}
		if seen[s] {
			errs = append(errs, fieldErr("schemes", "%q is listed twice", s))
		}
		seen[s] = true
	}
	for _, u := range f.Users {
		if u.User == "" || strings.ContainsAny(u.User, ":\r\n") {
			errs = append(errs, fieldErr("users", "user %q must be non-empty and contain no colon", u.User))
		}
	}
	if f.Reject != "" {
		errs = append(errs, oneOf("reject", f.Reject, AuthRejectModes))
	}
	if f.RejectMode() == "wrong-credentials" && len(f.Users) == 0 {
		errs = append(errs, fieldErr("users", "reject: wrong-credentials needs at least one user"))
	}
	if strings.ContainsAny(f.Realm, "\"\r\n") {
		errs = append(errs, fieldErr("realm", "must not contain quotes or line breaks"))
	}
	return errors.Join(errs...)
}

// OfferedSchemes returns Schemes or the default list.
func (f *ProxyAuth) OfferedSchemes() []string {
	if len(f.Schemes) == 0 {
		return AuthSchemes
	}
	return f.Schemes
}

// RejectMode returns Reject or its default.
func (f *ProxyAuth) RejectMode() string {
	switch {
	case f.Reject != "":
		return f.Reject
	case len(f.Users) > 0:
		return "wrong-credentials"
	}
	return "always"
}
