package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http/httputil"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

func transportErr(ph profile.Phase, err error) error {
	return &TransportError{Phase: ph, URL: "http://wsus.lab/x", Err: err}
}

func dialErr(err error) error {
	return transportErr(profile.PhaseConnect, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)})
}

// TestClassify pins every rule with a synthetic error: the verdict's
// WinHTTP error, HRESULT and deciding rule.
func TestClassify(t *testing.T) {
	dnsErr := transportErr(profile.PhaseResolve, &NameError{Host: "wsus.lab", Reason: ReasonNXDomain})
	timeout := transportErr(profile.PhaseHeaders, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded})
	reset := transportErr(profile.PhaseBody, &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)})
	cases := []struct {
		name    string
		err     error
		class   profile.Class
		gen     Generation
		stack   Stack
		winhttp WinHTTPError
		code    string
		rule    string
	}{
		{"nxdomain scan", dnsErr, profile.ClassScan, Modern, StackDO, 12007, "0x8024402C", "name-not-resolved > name-not-resolved-translated"},
		{"nxdomain selfupdate legacy", dnsErr, profile.ClassSelfUpdate, Legacy, StackBITS, 12007, "0x8024402C", "name-not-resolved > name-not-resolved-translated"},
		{"nxdomain download", dnsErr, profile.ClassDownload, Modern, StackDO, 12007, "0x80072EE7", "name-not-resolved > job-name-not-resolved"},
		{"servfail scan", transportErr(profile.PhaseResolve, &NameError{Reason: ReasonServFail}), profile.ClassScan, Modern, StackDO, 12007, "0x8024402C", "name-servfail > name-not-resolved-translated"},
		{"nodata selfupdate", transportErr(profile.PhaseResolve, &NameError{Reason: ReasonNoData}), profile.ClassSelfUpdate, Modern, StackDO, 12007, "0x8024402C", "name-no-answer > name-not-resolved-translated"},
		{"resolve timeout", transportErr(profile.PhaseResolve, &NameError{Reason: ReasonResolveTimeout}), profile.ClassScan, Legacy, StackBITS, 12002, "0x80072EE2", "resolve-timeout > scan-timeout-legacy"},
		{"refused", dialErr(syscall.ECONNREFUSED), profile.ClassScan, Modern, StackDO, 12029, "0x80072EFD", "connect-refused > winhttp-raw"},
		{"unreachable", dialErr(syscall.EHOSTUNREACH), profile.ClassScan, Modern, StackDO, 12029, "0x80072EFD", "connect-refused > winhttp-raw"},
		{"connect timeout", dialErr(os.ErrDeadlineExceeded), profile.ClassSelfUpdate, Modern, StackDO, 12002, "0x80072EE2", "connect-timeout > winhttp-raw"},
		{"connect timeout scan modern", dialErr(os.ErrDeadlineExceeded), profile.ClassScan, Modern, StackDO, 12002, "0x8024401C", "connect-timeout > scan-timeout-wwsapi"},
		{"connect reset", dialErr(syscall.ECONNRESET), profile.ClassScan, Modern, StackDO, 12030, "0x80072EFE", "connect-reset > winhttp-raw"},
		{"connect other", dialErr(syscall.EINVAL), profile.ClassScan, Modern, StackDO, 12029, "0x80072EFD", "connect-failed > winhttp-raw"},
		{"receive timeout modern scan", timeout, profile.ClassScan, Modern, StackDO, 12002, "0x8024401C", "receive-timeout > scan-timeout-wwsapi"},
		{"receive timeout legacy scan", timeout, profile.ClassScan, Legacy, StackBITS, 12002, "0x80072EE2", "receive-timeout > scan-timeout-legacy"},
		{"receive timeout selfupdate modern", timeout, profile.ClassSelfUpdate, Modern, StackDO, 12002, "0x80072EE2", "receive-timeout > winhttp-raw"},
		{"reset", reset, profile.ClassScan, Modern, StackDO, 12030, "0x80072EFE", "reset > winhttp-raw"},
		{"closed early", transportErr(profile.PhaseBody, io.ErrUnexpectedEOF), profile.ClassScan, Modern, StackDO, 12030, "0x80072EFE", "closed-early > winhttp-raw"},
		{"tls reset", transportErr(profile.PhaseHandshake, io.EOF), profile.ClassScan, Modern, StackDO, 12030, "0x80072EFE", "tls-reset > winhttp-raw"},
		{"client cert", transportErr(profile.PhaseHandshake, fmt.Errorf("tls: %w", ErrClientCertNeeded)), profile.ClassScan, Modern, StackDO, 12044, "0x80072F0C", "client-cert-needed > winhttp-raw"},
		{"expired", transportErr(profile.PhaseHandshake, &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-expired > winhttp-raw"},
		{"hostname", transportErr(profile.PhaseHandshake, x509.HostnameError{Host: "x"}), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-hostname > winhttp-raw"},
		{"untrusted", transportErr(profile.PhaseHandshake, x509.UnknownAuthorityError{}), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-untrusted > winhttp-raw"},
		{"sha1", transportErr(profile.PhaseHandshake, x509.InsecureAlgorithmError(x509.ECDSAWithSHA1)), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-invalid > winhttp-raw"},
		{"revoked", transportErr(profile.PhaseHandshake, &RevocationError{Err: errors.New("x")}), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-revoked > winhttp-raw"},
		{"revocation offline", transportErr(profile.PhaseHandshake, &RevocationError{Offline: true, Err: errors.New("x")}), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "revocation-offline > winhttp-raw"},
		{"alert", transportErr(profile.PhaseHandshake, tls.AlertError(70)), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "tls-alert > winhttp-raw"},
		{"tls other", transportErr(profile.PhaseHandshake, errors.New("tls: server selected unsupported protocol version 301")), profile.ClassScan, Modern, StackDO, 12175, "0x80072F8F", "tls-failure > winhttp-raw"},
		{"login failure", transportErr(profile.PhaseProxy, ErrLoginFailure), profile.ClassScan, Modern, StackDO, 12015, "0x80072EEF", "login-failure > winhttp-raw"},
		{"malformed", transportErr(profile.PhaseHeaders, &ProtocolError{Phase: profile.PhaseHeaders, Err: errors.New("malformed HTTP status code")}), profile.ClassScan, Modern, StackDO, 12152, "0x80072F78", "malformed-response > winhttp-raw"},
		{"bad chunk", transportErr(profile.PhaseBody, &ProtocolError{Phase: profile.PhaseBody, Err: errors.New("invalid byte in chunk length")}), profile.ClassScan, Modern, StackDO, 12152, "0x80072F78", "bad-chunk > winhttp-raw"},
		{"chunk line too long", transportErr(profile.PhaseBody, &ProtocolError{Phase: profile.PhaseBody, Err: httputil.ErrLineTooLong}), profile.ClassScan, Modern, StackDO, 12183, "0x80072F97", "chunk-line-too-long > winhttp-raw"},
		{"header count", transportErr(profile.PhaseHeaders, ErrHeaderCount), profile.ClassScan, Modern, StackDO, 12181, "0x80072F95", "header-count > winhttp-raw"},
		{"header size", transportErr(profile.PhaseHeaders, ErrHeaderSize), profile.ClassScan, Modern, StackDO, 12182, "0x80072F96", "header-size > winhttp-raw"},
		{"redirect", transportErr(profile.PhaseHeaders, &RedirectError{}), profile.ClassSelfUpdate, Modern, StackDO, 12156, "0x80072F7C", "redirect-failed > winhttp-raw"},
		{"no scheme", transportErr("", &URLError{Scheme: true}), profile.ClassSelfUpdate, Modern, StackDO, 12006, "0x80072EE6", "invalid-url-scheme > winhttp-raw"},
		{"bad url", transportErr("", &URLError{Err: errors.New("x")}), profile.ClassSelfUpdate, Modern, StackDO, 12005, "0x80072EE5", "invalid-url > winhttp-raw"},
		{"unclassified", transportErr(profile.PhaseBody, errors.New("strange")), profile.ClassScan, Modern, StackDO, 12030, "0x80072EFE", "transport-other > winhttp-raw"},

		{"proxy list", &ProxyListError{Err: errors.New("x")}, profile.ClassScan, Modern, StackDO, 0, "0x80240030", "invalid-proxy-list"},
		{"407", transportErr(profile.PhaseProxy, &StatusError{Status: 407, Proxy: true}), profile.ClassScan, Modern, StackDO, 0, "0x8024401B", "http-407"},
		{"connect 403", transportErr(profile.PhaseProxy, &StatusError{Status: 403, Proxy: true}), profile.ClassScan, Modern, StackDO, 0, "0x80244018", "proxy-refused-connect"},
		{"404", transportErr(profile.PhaseHeaders, &StatusError{Status: 404}), profile.ClassSelfUpdate, Modern, StackDO, 0, "0x80244019", "http-404"},
		{"501", transportErr(profile.PhaseHeaders, &StatusError{Status: 501}), profile.ClassScan, Modern, StackDO, 0, "0x80244020", "http-501"},
		{"504", transportErr(profile.PhaseHeaders, &StatusError{Status: 504}), profile.ClassScan, Legacy, StackDO, 0, "0x80244023", "http-504"},
		{"418", transportErr(profile.PhaseHeaders, &StatusError{Status: 418}), profile.ClassScan, Modern, StackDO, 0, "0x8024402B", "http-status-other"},
		{"fault modern", &SOAPFault{Code: "Client"}, profile.ClassScan, Modern, StackDO, 0, "0x80244007", "soap-fault-wwsapi"},
		{"fault legacy server", &SOAPFault{Code: "Server"}, profile.ClassScan, Legacy, StackDO, 0, "0x8024400E", "soap-fault-server"},
		{"fault legacy client", &SOAPFault{Code: "Client"}, profile.ClassScan, Legacy, StackDO, 0, "0x8024400D", "soap-fault-client"},
		{"fault legacy version", &SOAPFault{Code: "VersionMismatch"}, profile.ClassScan, Legacy, StackDO, 0, "0x8024400B", "soap-fault-version"},
		{"fault legacy must-understand", &SOAPFault{Code: "MustUnderstand"}, profile.ClassScan, Legacy, StackDO, 0, "0x8024400C", "soap-fault-must-understand"},
		{"fault legacy wcf", &SOAPFault{Code: "InternalServiceFault"}, profile.ClassScan, Legacy, StackDO, 0, "0x80244007", "soap-fault-unknown"},
		{"parse modern", &SOAPParseError{Err: errors.New("x")}, profile.ClassScan, Modern, StackDO, 0, "0x80240439", "soap-parse-wwsapi"},
		{"parse legacy", &SOAPParseError{Err: errors.New("x")}, profile.ClassScan, Legacy, StackDO, 0, "0x8024400A", "soap-parse-atl"},
		{"round trips", ErrMaxRoundTrips, profile.ClassScan, Modern, StackDO, 0, "0x80244010", "max-round-trips"},
		{"content type", &ContentTypeError{}, profile.ClassSelfUpdate, Modern, StackDO, 0, "0x80240038", "wrong-content-type"},
		{"content type redirector", &ContentTypeError{}, profile.ClassRedirector, Legacy, StackBITS, 0, "0x80245005", "redirector-content-type"},
		{"ident cab", &CabError{Err: errors.New("x")}, profile.ClassSelfUpdate, Modern, StackDO, 0, "0x8024D002", "invalid-ident-cab"},
		{"redirector cab", &CabError{Err: errors.New("x")}, profile.ClassRedirector, Legacy, StackBITS, 0, "0x80245001", "invalid-redirector-cab"},

		{"range do", &JobError{Err: &RangeError{}}, profile.ClassDownload, Modern, StackDO, 0, "0x80D05001", "range-mismatch-do"},
		{"range bits", &JobError{Err: &RangeError{}}, profile.ClassDownload, Legacy, StackBITS, 0, "0x80200013", "range-mismatch-bits"},
		{"digest", &JobError{Err: &DigestError{}}, profile.ClassDownload, Modern, StackDO, 0, "0x80246002", "digest-mismatch"},
		{"no url", &JobError{Err: ErrNoFileURL}, profile.ClassDownload, Modern, StackDO, 0, "0x80246001", "no-file-url"},
		{"job 404", &JobError{Err: transportErr(profile.PhaseHeaders, &StatusError{Status: 404})}, profile.ClassDownload, Modern, StackBITS, 0, "0x80244019", "job-http-404-bits"},
		{"job 404 do", &JobError{Err: transportErr(profile.PhaseHeaders, &StatusError{Status: 404})}, profile.ClassDownload, Modern, StackDO, 0, "0x80244019", "job-http-status"},
		{"range ignored do", &JobError{Err: &RangeError{Status: 200}}, profile.ClassDownload, Modern, StackDO, 0, "0x80D05001", "range-ignored-do"},
		{"job 407", &JobError{Err: transportErr(profile.PhaseProxy, &StatusError{Status: 407, Proxy: true})}, profile.ClassDownload, Modern, StackBITS, 0, "0x8024401B", "job-http-status"},
		{"job no progress do", &JobError{NoProgress: true, Err: timeout}, profile.ClassDownload, Modern, StackDO, 12002, "0x80D02002", "receive-timeout > job-no-progress-do"},
		{"job no progress bits", &JobError{NoProgress: true, Err: reset}, profile.ClassDownload, Legacy, StackBITS, 12030, "0x80072EFE", "reset > job-no-progress-bits"},
		{"job tls", &JobError{Err: transportErr(profile.PhaseHandshake, x509.UnknownAuthorityError{})}, profile.ClassDownload, Modern, StackDO, 12175, "0x80072F8F", "cert-untrusted > job-error-raw"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Classify(c.err, c.class, c.gen, c.stack)
			if v.WinHTTP != c.winhttp || v.Code.Hex() != c.code || v.Rule != c.rule {
				t.Errorf("Classify(%v) = winhttp %d code %s rule %q, want %d %s %q", c.err, v.WinHTTP, v.Code.Hex(), v.Rule, c.winhttp, c.code, c.rule)
			}
			if v.Confidence == "" || !slices.Contains(profile.Confidences, v.Confidence) || v.Source == "" {
				t.Errorf("confidence %q source %q", v.Confidence, v.Source)
			}
		})
	}
	// The DNS rows' confidences are section 4's: #1 High, #2 Medium, #3
	// Medium-Low.
	for reason, want := range map[string]profile.Confidence{ReasonNXDomain: "high", ReasonServFail: "medium", ReasonRefused: "medium",
		ReasonNoData: "medium-low", ReasonTimeout: "medium-low"} {
		if v := Classify(transportErr(profile.PhaseResolve, &NameError{Reason: reason}), profile.ClassSelfUpdate, Modern, StackDO); v.Confidence != want {
			t.Errorf("%s: confidence %s, want %s", reason, v.Confidence, want)
		}
	}
	if v := Classify(nil, profile.ClassScan, Modern, StackDO); v != (Verdict{}) {
		t.Errorf("Classify(nil) = %+v", v)
	}
}

// TestRuleMatchesBothWays checks that each transport rule's match refuses
// evidence of another kind: the tables must not lean on their order alone.
func TestRuleMatchesBothWays(t *testing.T) {
	samples := map[string]error{
		"name-not-resolved":  &NameError{Reason: ReasonNXDomain},
		"name-servfail":      &NameError{Reason: ReasonServFail},
		"name-no-answer":     &NameError{Reason: ReasonNoData},
		"client-cert-needed": ErrClientCertNeeded,
		"login-failure":      ErrLoginFailure,
		"redirect-failed":    &RedirectError{},
		"header-count":       ErrHeaderCount,
		"header-size":        ErrHeaderSize,
		"connect-refused":    syscall.ECONNREFUSED,
		"connect-timeout":    os.ErrDeadlineExceeded,
		"reset":              syscall.ECONNRESET,
		"closed-early":       io.ErrUnexpectedEOF,
		"cert-revoked":       &RevocationError{Err: errors.New("listed")},
		"cert-expired":       x509.CertificateInvalidError{Reason: x509.Expired},
		"cert-hostname":      x509.HostnameError{Certificate: &x509.Certificate{}},
		"cert-untrusted":     x509.UnknownAuthorityError{},
		"tls-alert":          tls.AlertError(40),
		"malformed-response": &ProtocolError{Err: errors.New("bad status")},
	}
	for i := range transportRules {
		r := &transportRules[i]
		own, ok := samples[r.Name]
		if !ok {
			continue
		}
		if !r.match(own) {
			t.Errorf("%s does not match its own evidence %v", r.Name, own)
		}
		for name, other := range samples {
			if name == r.Name {
				continue
			}
			if r.match(other) && !sameFamily(r.Name, name) {
				t.Errorf("%s matches %s's evidence %v", r.Name, name, other)
			}
		}
	}
}

// sameFamily: rules that share evidence on purpose (a revoked certificate
// is also revocation evidence).
func sameFamily(a, b string) bool {
	fam := [][]string{{"cert-revoked", "revocation-offline"}, {"name-not-resolved", "name-servfail", "name-no-answer"}}
	for _, f := range fam {
		if slices.Contains(f, a) && slices.Contains(f, b) {
			return true
		}
	}
	return false
}

func TestRulesDocumented(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.Name] {
			t.Errorf("rule %s twice", r.Name)
		}
		seen[r.Name] = true
		if !slices.Contains(profile.Confidences, r.Confidence) {
			t.Errorf("%s: confidence %q is not one of %v", r.Name, r.Confidence, profile.Confidences)
		}
		if r.Source == "" {
			t.Errorf("%s: no source", r.Name)
		}
		// A mapping that is inferred carries low or medium confidence.
		if strings.Contains(r.Source, "inferred") && (r.Confidence == "high" || r.Confidence == "medium-high") && r.Name != "winhttp-raw" && r.Name != "tls-reset" {
			t.Errorf("%s: inferred mapping with confidence %s", r.Name, r.Confidence)
		}
		if r.Code != 0 && !r.Code.Known() {
			t.Errorf("%s: code %s is not in the catalog", r.Name, r.Code)
		}
		if r.WinHTTP != 0 && !r.WinHTTP.Code().Known() {
			t.Errorf("%s: winhttp %d is not in the catalog", r.Name, r.WinHTTP)
		}
	}
}

// TestCoverage: every row of reference section 4 is covered by rules or
// says what it cannot reproduce, every named rule exists, and every rule
// is used by a row or explained.
func TestCoverage(t *testing.T) {
	rows := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
		"20", "21", "22", "22b", "22c", "23", "24", "25", "26", "27"}
	var got []string
	rules := map[string]bool{}
	for _, r := range Rules() {
		rules[r.Name] = true
	}
	used := map[string]bool{}
	for _, c := range Coverage() {
		got = append(got, c.Row)
		if c.Fault == "" || (len(c.Rules) == 0 && c.NotReproducible == "") {
			t.Errorf("row %s: no fault, or neither rules nor a reason", c.Row)
		}
		for _, n := range c.Rules {
			if !rules[n] {
				t.Errorf("row %s names unknown rule %q", c.Row, n)
			}
			used[n] = true
		}
	}
	if !slices.Equal(got, rows) {
		t.Errorf("rows %v, want %v", got, rows)
	}
	for n := range rules {
		if !used[n] && beyondSection4[n] == "" {
			t.Errorf("rule %s is in no row of section 4 and not explained in beyondSection4", n)
		}
	}
	for n := range beyondSection4 {
		if !rules[n] {
			t.Errorf("beyondSection4 names unknown rule %q", n)
		}
	}
}

// TestStatusAndTranslationLookups pins the exported views of the tables
// that observe and winagent read instead of keeping copies.
func TestStatusAndTranslationLookups(t *testing.T) {
	for _, c := range []struct {
		status int
		code   uint32
		ok     bool
		conf   profile.Confidence
	}{
		{200, 0, false, "low"}, {206, 0, false, "low"}, {302, 0, false, "low"},
		{400, 0x80244016, true, "high"}, {404, 0x80244019, true, "high"}, {407, 0x8024401B, true, "high"},
		{500, 0x8024401F, true, "medium"}, {501, 0x80244020, true, "medium"}, {504, 0x80244023, true, "medium"},
		{418, 0x8024402B, true, "low"}, {599, 0x8024402B, true, "low"},
	} {
		code, ok := StatusCode(c.status)
		if uint32(code) != c.code || ok != c.ok || StatusConfidence(c.status) != c.conf {
			t.Errorf("status %d: %s %v %s, want 0x%08X %v %s", c.status, code, ok, StatusConfidence(c.status), c.code, c.ok, c.conf)
		}
	}
	if got := BITSStatusCode(404); got != 0x80190194 {
		t.Errorf("BITSStatusCode(404) = %s", got)
	}
	for w, want := range map[WinHTTPError]uint32{0: 0, 12007: 0x8024402C, 12002: 0x80072EE2, 12029: 0x80072EFD, 12030: 0x80072EFE, 12175: 0x80072F8F} {
		if got := w.WUACode(); uint32(got) != want {
			t.Errorf("WinHTTPError(%d).WUACode() = %s, want 0x%08X", w, got, want)
		}
	}
}

// TestRemoteHandshakeFailureAlert: a real TLS server on loopback that
// shares no cipher suite with the client answers the ClientHello with a
// fatal handshake_failure alert; crypto/tls hands the client that alert
// wrapped in its own unexported type, and the tls-alert rule must still
// decide (not the tls-failure catch-all).
func TestRemoteHandshakeFailureAlert(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cert := selfSignedForTest(t)
	done := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- err
			return
		}
		defer c.Close()
		srv := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS12,
			CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256}})
		done <- srv.Handshake()
	}()
	raw, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	cl := tls.Client(raw, &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS12,
		CipherSuites: []uint16{tls.TLS_RSA_WITH_AES_128_CBC_SHA}})
	herr := cl.Handshake()
	if serr := <-done; serr == nil {
		t.Fatal("the server completed a handshake with no common cipher suite")
	}
	if herr == nil || !strings.Contains(herr.Error(), "handshake failure") {
		t.Fatalf("client handshake error %v, want the server's handshake_failure alert", herr)
	}
	if _, ok := errors.AsType[tls.AlertError](herr); ok {
		t.Log("crypto/tls now returns tls.AlertError on TCP too")
	}
	v := Classify(transportErr(profile.PhaseHandshake, herr), profile.ClassScan, Modern, StackDO)
	if v.Rule != "tls-alert > winhttp-raw" || v.WinHTTP != WinHTTPSecureFailure || v.Code.Hex() != "0x80072F8F" {
		t.Errorf("remote handshake_failure: rule %q, winhttp %d, code %s; want tls-alert > winhttp-raw, 12175, 0x80072F8F", v.Rule, v.WinHTTP, v.Code)
	}
	// A local handshake error (no alert from the peer) stays with the
	// catch-all.
	v = Classify(transportErr(profile.PhaseHandshake, errors.New("tls: server selected unsupported protocol version 301")), profile.ClassScan, Modern, StackDO)
	if !strings.HasPrefix(v.Rule, "tls-failure") {
		t.Errorf("local handshake error decided by %q, want tls-failure", v.Rule)
	}
}

func selfSignedForTest(t *testing.T) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "wsus.lab"}, DNSNames: []string{"wsus.lab"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
