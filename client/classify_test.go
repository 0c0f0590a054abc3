package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http/httputil"
	"os"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/wufault/wufault/scenarios"
)

func transportErr(ph Phase, err error) error {
	return &TransportError{Phase: ph, URL: "http://wsus.lab/x", Err: err}
}

func dialErr(err error) error {
	return transportErr(PhaseConnect, &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", err)})
}

// TestClassify pins every rule with a synthetic error: the verdict's
// WinHTTP error, HRESULT and deciding rule.
func TestClassify(t *testing.T) {
	dnsErr := transportErr(PhaseResolve, &NameError{Host: "wsus.lab", Reason: ReasonNXDomain})
	timeout := transportErr(PhaseHeaders, &net.OpError{Op: "read", Err: os.ErrDeadlineExceeded})
	reset := transportErr(PhaseBody, &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)})
	cases := []struct {
		name    string
		err     error
		class   Class
		gen     Generation
		stack   Stack
		winhttp WinHTTPError
		code    string
		rule    string
	}{
		{"nxdomain scan", dnsErr, ClassScan, Modern, StackDO, 12007, "0x8024402C", "name-not-resolved > name-not-resolved-translated"},
		{"nxdomain selfupdate legacy", dnsErr, ClassSelfUpdate, Legacy, StackBITS, 12007, "0x8024402C", "name-not-resolved > name-not-resolved-translated"},
		{"nxdomain download", dnsErr, ClassDownload, Modern, StackDO, 12007, "0x80072EE7", "name-not-resolved > job-name-not-resolved"},
		{"servfail scan", transportErr(PhaseResolve, &NameError{Reason: ReasonServFail}), ClassScan, Modern, StackDO, 12007, "0x8024402C", "name-servfail > name-not-resolved-translated"},
		{"nodata selfupdate", transportErr(PhaseResolve, &NameError{Reason: ReasonNoData}), ClassSelfUpdate, Modern, StackDO, 12007, "0x8024402C", "name-no-answer > name-not-resolved-translated"},
		{"resolve timeout", transportErr(PhaseResolve, &NameError{Reason: ReasonResolveTimeout}), ClassScan, Legacy, StackBITS, 12002, "0x80072EE2", "resolve-timeout > scan-timeout-legacy"},
		{"refused", dialErr(syscall.ECONNREFUSED), ClassScan, Modern, StackDO, 12029, "0x80072EFD", "connect-refused > winhttp-raw"},
		{"unreachable", dialErr(syscall.EHOSTUNREACH), ClassScan, Modern, StackDO, 12029, "0x80072EFD", "connect-refused > winhttp-raw"},
		{"connect timeout", dialErr(os.ErrDeadlineExceeded), ClassSelfUpdate, Modern, StackDO, 12002, "0x80072EE2", "connect-timeout > winhttp-raw"},
		{"connect timeout scan modern", dialErr(os.ErrDeadlineExceeded), ClassScan, Modern, StackDO, 12002, "0x8024401C", "connect-timeout > scan-timeout-wwsapi"},
		{"connect reset", dialErr(syscall.ECONNRESET), ClassScan, Modern, StackDO, 12030, "0x80072EFE", "connect-reset > winhttp-raw"},
		{"connect other", dialErr(syscall.EINVAL), ClassScan, Modern, StackDO, 12029, "0x80072EFD", "connect-failed > winhttp-raw"},
		{"receive timeout modern scan", timeout, ClassScan, Modern, StackDO, 12002, "0x8024401C", "receive-timeout > scan-timeout-wwsapi"},
		{"receive timeout legacy scan", timeout, ClassScan, Legacy, StackBITS, 12002, "0x80072EE2", "receive-timeout > scan-timeout-legacy"},
		{"receive timeout selfupdate modern", timeout, ClassSelfUpdate, Modern, StackDO, 12002, "0x80072EE2", "receive-timeout > winhttp-raw"},
		{"reset", reset, ClassScan, Modern, StackDO, 12030, "0x80072EFE", "reset > winhttp-raw"},
		{"closed early", transportErr(PhaseBody, io.ErrUnexpectedEOF), ClassScan, Modern, StackDO, 12030, "0x80072EFE", "closed-early > winhttp-raw"},
		{"tls reset", transportErr(PhaseHandshake, io.EOF), ClassScan, Modern, StackDO, 12030, "0x80072EFE", "tls-reset > winhttp-raw"},
		{"client cert", transportErr(PhaseHandshake, fmt.Errorf("tls: %w", ErrClientCertNeeded)), ClassScan, Modern, StackDO, 12044, "0x80072F0C", "client-cert-needed > winhttp-raw"},
		{"expired", transportErr(PhaseHandshake, &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Reason: x509.Expired}}), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-expired > winhttp-raw"},
		{"hostname", transportErr(PhaseHandshake, x509.HostnameError{Host: "x"}), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-hostname > winhttp-raw"},
		{"untrusted", transportErr(PhaseHandshake, x509.UnknownAuthorityError{}), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-untrusted > winhttp-raw"},
		{"sha1", transportErr(PhaseHandshake, x509.InsecureAlgorithmError(x509.ECDSAWithSHA1)), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-invalid > winhttp-raw"},
		{"revoked", transportErr(PhaseHandshake, &RevocationError{Err: errors.New("x")}), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "cert-revoked > winhttp-raw"},
		{"revocation offline", transportErr(PhaseHandshake, &RevocationError{Offline: true, Err: errors.New("x")}), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "revocation-offline > winhttp-raw"},
		{"alert", transportErr(PhaseHandshake, tls.AlertError(70)), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "tls-alert > winhttp-raw"},
		{"tls other", transportErr(PhaseHandshake, errors.New("tls: server selected unsupported protocol version 301")), ClassScan, Modern, StackDO, 12175, "0x80072F8F", "tls-failure > winhttp-raw"},
		{"login failure", transportErr(PhaseProxy, ErrLoginFailure), ClassScan, Modern, StackDO, 12015, "0x80072EEF", "login-failure > winhttp-raw"},
		{"malformed", transportErr(PhaseHeaders, &ProtocolError{Phase: PhaseHeaders, Err: errors.New("malformed HTTP status code")}), ClassScan, Modern, StackDO, 12152, "0x80072F78", "malformed-response > winhttp-raw"},
		{"bad chunk", transportErr(PhaseBody, &ProtocolError{Phase: PhaseBody, Err: errors.New("invalid byte in chunk length")}), ClassScan, Modern, StackDO, 12152, "0x80072F78", "bad-chunk > winhttp-raw"},
		{"chunk line too long", transportErr(PhaseBody, &ProtocolError{Phase: PhaseBody, Err: httputil.ErrLineTooLong}), ClassScan, Modern, StackDO, 12183, "0x80072F97", "chunk-line-too-long > winhttp-raw"},
		{"header count", transportErr(PhaseHeaders, ErrHeaderCount), ClassScan, Modern, StackDO, 12181, "0x80072F95", "header-count > winhttp-raw"},
		{"header size", transportErr(PhaseHeaders, ErrHeaderSize), ClassScan, Modern, StackDO, 12182, "0x80072F96", "header-size > winhttp-raw"},
		{"redirect", transportErr(PhaseHeaders, &RedirectError{}), ClassSelfUpdate, Modern, StackDO, 12156, "0x80072F7C", "redirect-failed > winhttp-raw"},
		{"no scheme", transportErr("", &URLError{Scheme: true}), ClassSelfUpdate, Modern, StackDO, 12006, "0x80072EE6", "invalid-url-scheme > winhttp-raw"},
		{"bad url", transportErr("", &URLError{Err: errors.New("x")}), ClassSelfUpdate, Modern, StackDO, 12005, "0x80072EE5", "invalid-url > winhttp-raw"},
		{"unclassified", transportErr(PhaseBody, errors.New("strange")), ClassScan, Modern, StackDO, 12030, "0x80072EFE", "transport-other > winhttp-raw"},

		{"proxy list", &ProxyListError{Err: errors.New("x")}, ClassScan, Modern, StackDO, 0, "0x80240030", "invalid-proxy-list"},
		{"407", transportErr(PhaseProxy, &StatusError{Status: 407, Proxy: true}), ClassScan, Modern, StackDO, 0, "0x8024401B", "http-407"},
		{"connect 403", transportErr(PhaseProxy, &StatusError{Status: 403, Proxy: true}), ClassScan, Modern, StackDO, 0, "0x80244018", "proxy-refused-connect"},
		{"404", transportErr(PhaseHeaders, &StatusError{Status: 404}), ClassSelfUpdate, Modern, StackDO, 0, "0x80244019", "http-404"},
		{"501", transportErr(PhaseHeaders, &StatusError{Status: 501}), ClassScan, Modern, StackDO, 0, "0x80244020", "http-501"},
		{"504", transportErr(PhaseHeaders, &StatusError{Status: 504}), ClassScan, Legacy, StackDO, 0, "0x80244023", "http-504"},
		{"418", transportErr(PhaseHeaders, &StatusError{Status: 418}), ClassScan, Modern, StackDO, 0, "0x8024402B", "http-status-other"},
		{"fault modern", &SOAPFault{Code: "Client"}, ClassScan, Modern, StackDO, 0, "0x80244007", "soap-fault-wwsapi"},
		{"fault legacy server", &SOAPFault{Code: "Server"}, ClassScan, Legacy, StackDO, 0, "0x8024400E", "soap-fault-server"},
		{"fault legacy client", &SOAPFault{Code: "Client"}, ClassScan, Legacy, StackDO, 0, "0x8024400D", "soap-fault-client"},
		{"fault legacy version", &SOAPFault{Code: "VersionMismatch"}, ClassScan, Legacy, StackDO, 0, "0x8024400B", "soap-fault-version"},
		{"fault legacy must-understand", &SOAPFault{Code: "MustUnderstand"}, ClassScan, Legacy, StackDO, 0, "0x8024400C", "soap-fault-must-understand"},
		{"fault legacy wcf", &SOAPFault{Code: "InternalServiceFault"}, ClassScan, Legacy, StackDO, 0, "0x80244007", "soap-fault-unknown"},
		{"parse modern", &SOAPParseError{Err: errors.New("x")}, ClassScan, Modern, StackDO, 0, "0x80240439", "soap-parse-wwsapi"},
		{"parse legacy", &SOAPParseError{Err: errors.New("x")}, ClassScan, Legacy, StackDO, 0, "0x8024400A", "soap-parse-atl"},
		{"round trips", ErrMaxRoundTrips, ClassScan, Modern, StackDO, 0, "0x80244010", "max-round-trips"},
		{"content type", &ContentTypeError{}, ClassSelfUpdate, Modern, StackDO, 0, "0x80240038", "wrong-content-type"},
		{"content type redirector", &ContentTypeError{}, ClassRedirector, Legacy, StackBITS, 0, "0x80245005", "redirector-content-type"},
		{"ident cab", &CabError{Err: errors.New("x")}, ClassSelfUpdate, Modern, StackDO, 0, "0x8024D002", "invalid-ident-cab"},
		{"redirector cab", &CabError{Err: errors.New("x")}, ClassRedirector, Legacy, StackBITS, 0, "0x80245001", "invalid-redirector-cab"},

		{"range do", &JobError{Err: &RangeError{}}, ClassDownload, Modern, StackDO, 0, "0x80D05001", "range-mismatch-do"},
		{"range bits", &JobError{Err: &RangeError{}}, ClassDownload, Legacy, StackBITS, 0, "0x80200013", "range-mismatch-bits"},
		{"digest", &JobError{Err: &DigestError{}}, ClassDownload, Modern, StackDO, 0, "0x80246002", "digest-mismatch"},
		{"no url", &JobError{Err: ErrNoFileURL}, ClassDownload, Modern, StackDO, 0, "0x80246001", "no-file-url"},
		{"job 404", &JobError{Err: transportErr(PhaseHeaders, &StatusError{Status: 404})}, ClassDownload, Modern, StackBITS, 0, "0x80244019", "job-http-404"},
		{"job 407", &JobError{Err: transportErr(PhaseProxy, &StatusError{Status: 407, Proxy: true})}, ClassDownload, Modern, StackBITS, 0, "0x8024401B", "job-http-status"},
		{"job no progress do", &JobError{NoProgress: true, Err: timeout}, ClassDownload, Modern, StackDO, 12002, "0x80D02002", "receive-timeout > job-no-progress-do"},
		{"job no progress bits", &JobError{NoProgress: true, Err: reset}, ClassDownload, Legacy, StackBITS, 12030, "0x80072EFE", "reset > job-no-progress-bits"},
		{"job tls", &JobError{Err: transportErr(PhaseHandshake, x509.UnknownAuthorityError{})}, ClassDownload, Modern, StackDO, 12175, "0x80072F8F", "cert-untrusted > job-error-raw"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			v := Classify(c.err, c.class, c.gen, c.stack)
			if v.WinHTTP != c.winhttp || v.Code.Hex() != c.code || v.Rule != c.rule {
				t.Errorf("Classify(%v) = winhttp %d code %s rule %q, want %d %s %q", c.err, v.WinHTTP, v.Code.Hex(), v.Rule, c.winhttp, c.code, c.rule)
			}
			if v.Confidence == "" || !slices.Contains(scenarios.Confidences, v.Confidence) || v.Source == "" {
				t.Errorf("confidence %q source %q", v.Confidence, v.Source)
			}
		})
	}
	// The DNS rows' confidences are section 4's: #1 High, #2 Medium, #3
	// Medium-Low.
	for reason, want := range map[string]scenarios.Confidence{ReasonNXDomain: "high", ReasonServFail: "medium", ReasonRefused: "medium",
		ReasonNoData: "medium-low", ReasonTimeout: "medium-low"} {
		if v := Classify(transportErr(PhaseResolve, &NameError{Reason: reason}), ClassSelfUpdate, Modern, StackDO); v.Confidence != want {
			t.Errorf("%s: confidence %s, want %s", reason, v.Confidence, want)
		}
	}
	if v := Classify(nil, ClassScan, Modern, StackDO); v != (Verdict{}) {
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
		"cert-hostname":      x509.HostnameError{},
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
		if !slices.Contains(scenarios.Confidences, r.Confidence) {
			t.Errorf("%s: confidence %q is not one of %v", r.Name, r.Confidence, scenarios.Confidences)
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
		conf   scenarios.Confidence
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
