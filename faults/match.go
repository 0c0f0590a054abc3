package faults

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"unicode/utf8"

	"github.com/wufault/wufault/client/profile"
)

// Target describes the event a rule is asked about. Fields the event does
// not know are empty: a DNS query has only Host (and QType), a CONNECT tunnel
// only Host and Method.
type Target struct {
	Host   string // with or without port, any case
	Path   string
	Method string
	Class  profile.Class
	QType  string // DNS query type ("A", "AAAA"), DNS events only
}

// Match restricts a fault to some traffic. Empty fields match anything; a
// field that is set never matches an event that does not know it (a rule
// with a path never fires on a DNS query or an opaque tunnel).
type Match struct {
	// Host is a case-insensitive glob on the host name ("*.update.microsoft.com");
	// "*" matches any run of characters, dots included. Ports are ignored.
	Host string `yaml:"host,omitempty" json:"host,omitempty"`
	// Path is a case-insensitive glob on the URL path ("/ClientWebService/*").
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// Method is an HTTP method (CONNECT included), case-insensitive.
	Method string `yaml:"method,omitempty" json:"method,omitempty"`
	// Class is the request class (scan, selfupdate, redirector, download).
	Class profile.Class `yaml:"class,omitempty" json:"class,omitempty"`
}

// NeedsHTTP reports whether the match looks inside HTTP (path or class), so
// that an HTTPS tunnel to a matching host must be intercepted to apply it.
func (m Match) NeedsHTTP() bool { return m.Path != "" || m.Class != "" }

// Validate checks the match block.
func (m Match) Validate() error {
	var errs []error
	if m.Class != "" && !m.Class.Valid() {
		errs = append(errs, &FieldError{Field: "class", Err: fmt.Errorf("unknown class %q (want one of %s)", m.Class, profile.Join(profile.Classes))})
	}
	if strings.ContainsAny(m.Host, "/ ") {
		errs = append(errs, &FieldError{Field: "host", Err: fmt.Errorf("%q is not a host name pattern", m.Host)})
	}
	if m.Path != "" && !strings.HasPrefix(m.Path, "/") && !strings.HasPrefix(m.Path, "*") {
		errs = append(errs, &FieldError{Field: "path", Err: fmt.Errorf("%q must start with / or *", m.Path)})
	}
	if strings.ContainsAny(m.Method, " /") {
		errs = append(errs, &FieldError{Field: "method", Err: fmt.Errorf("%q is not an HTTP method", m.Method)})
	}
	return errors.Join(errs...)
}

// MatchesHost reports whether host falls under the host pattern alone.
func (m Match) MatchesHost(host string) bool {
	return m.Host == "" || Glob(strings.ToLower(m.Host), NormHost(host))
}

// Matches reports whether t falls under m.
func (m Match) Matches(t Target) bool { return m.lower().matches(t, NormHost(t.Host)) }

// lower returns m with its host and path patterns in lowercase, as
// matches wants them (a Set lowers every rule's once, when it arms it).
func (m Match) lower() Match {
	m.Host, m.Path = strings.ToLower(m.Host), strings.ToLower(m.Path)
	return m
}

// matches is Matches for lowercase patterns (lower) and t's host already
// normalized (NormHost): a Set normalizes an event once, not once per
// rule, and compares the path without lowering a copy of it.
func (m Match) matches(t Target, host string) bool {
	if m.Host != "" && !Glob(m.Host, host) {
		return false
	}
	if m.Path != "" && (t.Path == "" || !globFold(m.Path, t.Path)) {
		return false
	}
	if m.Method != "" && !strings.EqualFold(m.Method, t.Method) {
		return false
	}
	if m.Class != "" && m.Class != t.Class {
		return false
	}
	return true
}

// NormHost returns the host of host[:port] as rules match it: lowercase,
// without the port and the trailing dot. It allocates only for a host
// with uppercase letters.
func NormHost(h string) string {
	if strings.IndexByte(h, ':') >= 0 { // SplitHostPort's error for a bare host is an allocation
		if host, _, err := net.SplitHostPort(h); err == nil {
			h = host
		}
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// Glob reports whether s matches pattern, where '*' matches any run of
// characters (including none) and every other byte matches itself. It runs
// in linear time, so hostile patterns cannot stall the proxy.
func Glob(pattern, s string) bool { return glob(pattern, s, false) }

// globFold is Glob for a lowercase pattern and s in any case, as if s were
// lowercased first, without the copy for an ASCII s.
func globFold(pattern, s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return Glob(pattern, strings.ToLower(s))
		}
	}
	return glob(pattern, s, true)
}

// glob is Glob, folding the ASCII capitals of s to lowercase when fold.
func glob(pattern, s string, fold bool) bool {
	p, n := 0, 0
	star, mark := -1, 0
	for n < len(s) {
		c := s[n]
		if fold && 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, n
			p++
		case p < len(pattern) && pattern[p] == c:
			p++
			n++
		case star >= 0:
			p = star + 1
			mark++
			n = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
