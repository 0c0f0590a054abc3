package client

import (
	"errors"
	"net"
	"strconv"
	"strings"
)

// ProxyList is a parsed WinHTTP proxy list: for each scheme, the proxies
// to try in order. The zero value means a direct connection.
type ProxyList struct {
	// Raw is the list as written ("" for direct).
	Raw string
	// HTTP and HTTPS are host:port proxies for http:// and https:// URLs.
	HTTP, HTTPS []string
}

// Direct reports whether the list names no proxy.
func (l ProxyList) Direct() bool { return len(l.HTTP) == 0 && len(l.HTTPS) == 0 }

// For returns the proxies for a URL scheme.
func (l ProxyList) For(scheme string) []string {
	if scheme == "https" {
		return l.HTTPS
	}
	return l.HTTP
}

// ParseProxyList reads a proxy list the way netsh winhttp and proxycfg
// write it: entries separated by semicolons or white space, each
// [<scheme>=][<scheme>://]<host>[:<port>], the scheme http or https; an
// entry without "<scheme>=" serves both. The port defaults to 80. An entry
// WinHTTP cannot use makes the whole list invalid: WUA then fails with
// WU_E_INVALID_PROXY_SERVER 0x80240030 ([WUERR], [L-SCAN]; reference 5.2).
func ParseProxyList(s string) (ProxyList, error) {
	l := ProxyList{Raw: s}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' || r == '\r' || r == '\n' })
	for _, f := range fields {
		forScheme, rest, hasFor := strings.Cut(f, "=")
		if !hasFor {
			rest, forScheme = f, ""
		}
		forScheme = strings.ToLower(forScheme)
		if hasFor && forScheme != "http" && forScheme != "https" {
			return ProxyList{}, &ProxyListError{List: s, Err: errors.New("entry " + strconv.Quote(f) + ": scheme must be http or https")}
		}
		if scheme, after, ok := strings.Cut(rest, "://"); ok {
			if sc := strings.ToLower(scheme); sc != "http" && sc != "https" {
				return ProxyList{}, &ProxyListError{List: s, Err: errors.New("entry " + strconv.Quote(f) + ": proxy scheme must be http")}
			}
			rest = strings.TrimSuffix(after, "/")
		}
		hp, err := proxyHostPort(rest)
		if err != nil {
			return ProxyList{}, &ProxyListError{List: s, Err: errors.New("entry " + strconv.Quote(f) + ": " + err.Error())}
		}
		switch forScheme {
		case "http":
			l.HTTP = append(l.HTTP, hp)
		case "https":
			l.HTTPS = append(l.HTTPS, hp)
		default:
			l.HTTP = append(l.HTTP, hp)
			l.HTTPS = append(l.HTTPS, hp)
		}
	}
	if strings.TrimSpace(s) != "" && l.Direct() {
		return ProxyList{}, &ProxyListError{List: s, Err: errors.New("no proxy in the list")}
	}
	return l, nil
}

// proxyHostPort checks host[:port] and returns host:port.
func proxyHostPort(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty proxy")
	}
	host, port := s, "80"
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.Count(s, ":") == 1 {
		return "", errors.New("bad port")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return "", errors.New("port " + strconv.Quote(port) + " is not a number in 1..65535")
	}
	if !validHost(host) {
		return "", errors.New("host " + strconv.Quote(host) + " is not a host name or address")
	}
	return net.JoinHostPort(host, port), nil
}

// validHost accepts an IP address or a DNS name of letters, digits,
// hyphens, underscores and dots.
func validHost(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	if net.ParseIP(h) != nil {
		return true
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.', r == '_':
		default:
			return false
		}
	}
	return !strings.HasPrefix(h, ".") && !strings.Contains(h, "..")
}

// Bypass is a WinHTTP proxy bypass list: host patterns with * wildcards,
// and <local> for names without a dot.
type Bypass []string

// Match reports whether host (without port) bypasses the proxy.
func (b Bypass) Match(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, p := range b {
		p = strings.ToLower(strings.TrimSpace(p))
		switch {
		case p == "":
		case p == "<local>":
			if !strings.Contains(h, ".") && net.ParseIP(h) == nil {
				return true
			}
		case glob(p, h):
			return true
		}
	}
	return false
}

// glob matches s against a pattern where * matches any run of characters.
func glob(p, s string) bool {
	i := strings.IndexByte(p, '*')
	if i < 0 {
		return p == s
	}
	if !strings.HasPrefix(s, p[:i]) {
		return false
	}
	s, p = s[i:], p[i+1:]
	if p == "" {
		return true
	}
	for j := 0; j <= len(s); j++ {
		if glob(p, s[j:]) {
			return true
		}
	}
	return false
}
