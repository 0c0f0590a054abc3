package profile

import (
	"crypto/tls"
	"slices"
	"strings"
)

// TLSVersions maps the scenario spelling of a protocol version ("1.2") to
// Go's: the names of profile.tls_versions and of tls.version's min and max.
var TLSVersions = map[string]uint16{
	"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11, "1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13,
}

// TLSVersionNames lists the keys of TLSVersions, sorted and joined for an
// error message.
func TLSVersionNames() string {
	ks := make([]string, 0, len(TLSVersions))
	for k := range TLSVersions {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

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
