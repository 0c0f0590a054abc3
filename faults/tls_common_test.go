package faults

import (
	"crypto/tls"
	"testing"

	"github.com/wufault/wufault/client/profile"
)

// fakeTLSEnv is a TLSEnv with a fixed base and certificate.
type fakeTLSEnv struct {
	base  *tls.Config
	cert  *tls.Certificate
	err   error
	asked []string // "host profile" per Certificate call
}

func (e *fakeTLSEnv) Base() *tls.Config { return e.base }

func (e *fakeTLSEnv) Certificate(host, profile string) (*tls.Certificate, error) {
	e.asked = append(e.asked, host+" "+profile)
	return e.cert, e.err
}

func newFakeEnv() *fakeTLSEnv {
	return &fakeTLSEnv{base: &tls.Config{MinVersion: tls.VersionTLS10, NextProtos: []string{"http/1.1"}}, cert: &tls.Certificate{Certificate: [][]byte{{1}}}}
}

// goAlertText is how crypto/tls names each alert: it pins TLSAlerts'
// codes to Go's own table.
var goAlertText = map[string]string{
	"access_denied": "tls: access denied", "bad_certificate": "tls: bad certificate",
	"bad_certificate_status_response": "tls: bad certificate status response", "bad_record_mac": "tls: bad record MAC",
	"certificate_expired": "tls: expired certificate", "certificate_required": "tls: certificate required",
	"certificate_revoked": "tls: revoked certificate", "certificate_unknown": "tls: unknown certificate",
	"close_notify": "tls: close notify", "decode_error": "tls: error decoding message",
	"decrypt_error": "tls: error decrypting message", "handshake_failure": "tls: handshake failure",
	"illegal_parameter": "tls: illegal parameter", "inappropriate_fallback": "tls: inappropriate fallback",
	"insufficient_security": "tls: insufficient security level", "internal_error": "tls: internal error",
	"missing_extension": "tls: missing extension", "no_application_protocol": "tls: no application protocol",
	"protocol_version": "tls: protocol version not supported", "record_overflow": "tls: record overflow",
	"unexpected_message": "tls: unexpected message", "unknown_ca": "tls: unknown certificate authority",
	"unknown_psk_identity": "tls: unknown PSK identity", "unrecognized_name": "tls: unrecognized name",
	"unsupported_certificate": "tls: unsupported certificate", "unsupported_extension": "tls: unsupported extension",
	"user_canceled": "tls: user canceled",
}

func TestTLSTables(t *testing.T) {
	for name, v := range profile.TLSVersions {
		if tls.VersionName(v) != "TLS "+name {
			t.Errorf("profile.TLSVersions[%q] = %s", name, tls.VersionName(v))
		}
	}
	if len(goAlertText) != len(TLSAlerts) {
		t.Errorf("%d alerts, %d Go names", len(TLSAlerts), len(goAlertText))
	}
	for name, code := range TLSAlerts {
		if got := tls.AlertError(code).Error(); got != goAlertText[name] {
			t.Errorf("TLSAlerts[%q] = %d, which Go calls %q, want %q", name, code, got, goAlertText[name])
		}
	}
}
