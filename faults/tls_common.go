package faults

import (
	"slices"
	"strings"

	"github.com/wufault/wufault/client/profile"
)

// CertProfiles are the tls.cert profiles: each a way a server certificate.
// can be wrong (reference/wu-codes.md section 4 rows 12–16).
var CertProfiles = []string{
	"expired", "not-yet-valid", "wrong-host", "self-signed", "untrusted-ca", "revoked",
	"missing-intermediate", "sha1", "rsa1024", "no-serverauth",
}

// TLSAlerts maps alert names (RFC 8446 6.2, with underscores) to their codes.
var TLSAlerts = map[string]uint8{
	"close_notify": 0, "unexpected_message": 10, "bad_record_mac": 20, "record_overflow": 22,
	"handshake_failure": 40, "bad_certificate": 42, "unsupported_certificate": 43,
	"certificate_revoked": 44, "certificate_expired": 45, "certificate_unknown": 46,
	"illegal_parameter": 47, "unknown_ca": 48, "access_denied": 49, "decode_error": 50,
	"decrypt_error": 51, "protocol_version": 70, "insufficient_security": 71,
	"internal_error": 80, "inappropriate_fallback": 86, "user_canceled": 90,
	"missing_extension": 109, "unsupported_extension": 110, "unrecognized_name": 112,
	"bad_certificate_status_response": 113, "unknown_psk_identity": 115,
	"certificate_required": 116, "no_application_protocol": 120,
}

func sortedKeys[V any](m map[string]V) string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return strings.Join(ks, ", ")
}

func oneOf(field, v string, allowed []string) error {
	if slices.Contains(allowed, v) {
		return nil
	}
	return fieldErr(field, "%q is not one of %s", v, strings.Join(allowed, ", "))
}

func tlsVersion(field, v string) (uint16, error) {
	n, ok := profile.TLSVersions[v]
	if !ok {
		return 0, fieldErr(field, "%q is not a TLS version (want one of %s)", v, profile.TLSVersionNames())
	}
	return n, nil
}
