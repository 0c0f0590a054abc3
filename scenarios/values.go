package scenarios

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// CipherSuiteID returns the ID of a TLS cipher suite by its Go name
// ("TLS_RSA_WITH_AES_128_CBC_SHA"), secure or not: the names
// profile.cipher_suites accepts.
func CipherSuiteID(name string) (uint16, bool) {
	for _, cs := range append(tls.CipherSuites(), tls.InsecureCipherSuites()...) {
		if cs.Name == name {
			return cs.ID, true
		}
	}
	return 0, false
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
