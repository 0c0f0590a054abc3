package client

// CoverageRow is one row of reference/wu-codes.md section 4 (fault →
// expected code) and how the emulated client covers it: the
// classification rules that reproduce it and, for what it cannot
// reproduce, the reason.
type CoverageRow struct {
	Row   string   `json:"row"` // "1" … "27", "22b", "22c"
	Fault string   `json:"fault"`
	Rules []string `json:"rules,omitempty"`
	// NotReproducible says which part of the row the client does not
	// reproduce, and why; empty when the row is covered whole.
	NotReproducible string `json:"not_reproducible,omitempty"`
}

// coverage lists every row of section 4 in order.
var coverage = []CoverageRow{
	{Row: "1", Fault: "DNS NXDOMAIN", Rules: []string{"name-not-resolved", "name-not-resolved-translated", "job-name-not-resolved"}},
	{Row: "2", Fault: "DNS SERVFAIL", Rules: []string{"name-servfail", "name-not-resolved-translated", "job-name-not-resolved"}},
	{Row: "3", Fault: "DNS no answer / timeout / NODATA", Rules: []string{"name-no-answer", "name-not-resolved-translated", "resolve-timeout", "job-name-not-resolved"}},
	{Row: "4", Fault: "TCP connection refused", Rules: []string{"connect-refused", "winhttp-raw", "job-error-raw"},
		NotReproducible: "a listening socket cannot answer a SYN with RST selectively: the world's tcp.refuse accepts and then resets, which WinHTTP reports as 12030 (rule connect-reset or reset); a true refusal (12029) comes from a port nobody listens on (dns.answer to 127.0.0.2, a proxy address that is closed)"},
	{Row: "5", Fault: "TCP connect timeout (SYNs dropped)", Rules: []string{"connect-timeout", "job-no-progress-do", "job-no-progress-bits"},
		NotReproducible: "dropping SYNs needs a black-hole route or a packet filter, which a loopback lab does not have: the rule is tested with synthetic dial errors; tcp.stall at connect stalls an accepted connection, which is rows 8 and 9"},
	{Row: "6", Fault: "TCP RST mid-response", Rules: []string{"reset", "winhttp-raw", "job-no-progress-do", "job-no-progress-bits"}},
	{Row: "7", Fault: "FIN mid-body", Rules: []string{"closed-early", "soap-parse-wwsapi", "soap-parse-atl", "digest-mismatch", "range-mismatch-do"}},
	{Row: "8", Fault: "Server stalls after headers", Rules: []string{"receive-timeout", "scan-timeout-wwsapi", "scan-timeout-legacy", "job-no-progress-do", "job-no-progress-bits"}},
	{Row: "9", Fault: "Server stalls before headers", Rules: []string{"receive-timeout", "scan-timeout-wwsapi", "scan-timeout-legacy", "job-no-progress-do", "job-no-progress-bits"}},
	{Row: "10", Fault: "TLS handshake reset", Rules: []string{"tls-reset"}},
	{Row: "11", Fault: "TLS protocol / cipher mismatch", Rules: []string{"tls-alert", "tls-failure", "tls-reset"},
		NotReproducible: "the SSL2-format ClientHello of XP-era clients (0x80072F7D [JMP]) is not emulated: crypto/tls cannot send one"},
	{Row: "12", Fault: "Expired certificate or clock skew", Rules: []string{"cert-expired"}},
	{Row: "13", Fault: "Wrong-hostname certificate", Rules: []string{"cert-hostname"}},
	{Row: "14", Fault: "Untrusted / self-signed CA", Rules: []string{"cert-untrusted", "cert-invalid"}},
	{Row: "15", Fault: "Revoked certificate", Rules: []string{"cert-revoked"}},
	{Row: "16", Fault: "Revocation check offline", Rules: []string{"revocation-offline"}},
	{Row: "17", Fault: "Server asks for a client certificate", Rules: []string{"client-cert-needed"}},
	{Row: "18", Fault: "Proxy 407 (Basic / NTLM / Negotiate)", Rules: []string{"http-407", "login-failure", "job-http-status"},
		NotReproducible: "the one Windows 10 report of 0x8024401C behind a Squid 407 [ALI] is unexplained and not reproduced"},
	{Row: "19", Fault: "Proxy unreachable", Rules: []string{"proxy-connect-refused", "connect-refused", "connect-timeout", "name-not-resolved", "name-not-resolved-translated"},
		NotReproducible: "(b) a black-holed proxy (SYNs dropped) needs a black-hole route: only a proxy that accepts and stays silent (tcp.stall) is reproduced, which ends at the receive timeout"},
	{Row: "20", Fault: "Proxy refuses CONNECT (403)", Rules: []string{"proxy-refused-connect", "job-http-status"}},
	{Row: "21", Fault: "Upstream 403 / 404 / 500 / 502 / 503 / 504", Rules: []string{"http-403", "http-404", "http-500", "http-502", "http-503", "http-504",
		"soap-fault-wwsapi", "soap-fault-server", "soap-fault-client", "job-http-404-bits", "job-http-status"}},
	{Row: "22", Fault: "Malformed HTTP response", Rules: []string{"malformed-response"}},
	{Row: "22b", Fault: "Header flood / oversize / bad chunk size", Rules: []string{"header-count", "header-size", "bad-chunk", "chunk-line-too-long"}},
	{Row: "22c", Fault: "200 with a non-SOAP body on client.asmx", Rules: []string{"soap-parse-atl", "soap-parse-wwsapi"}},
	{Row: "23", Fault: "Wrong Content-Type", Rules: []string{"wrong-content-type", "redirector-content-type", "digest-mismatch"},
		NotReproducible: "download-filtering devices' 0x80200053 (BG_E_VALIDATION_FAILED) is not emulated: the client does not model BITS content validation"},
	{Row: "24", Fault: "Truncated CAB", Rules: []string{"ecp-cab", "ecp-fetch", "invalid-ident-cab", "invalid-redirector-cab", "digest-mismatch", "range-mismatch-do", "range-mismatch-bits"},
		NotReproducible: "the metadata (ECP) cab's inner code is the client's own digest mismatch, not [AC]'s 0x80246003, and only Windows 10+ clients of fe3 fetch metadata cabs in the lab; with Range pieces, a truncated 206 is a block size mismatch (0x80D05001) before any hash check"},
	{Row: "25", Fault: "Range ignored", Rules: []string{"range-ignored-do", "range-mismatch-do", "range-mismatch-bits"}},
	{Row: "26", Fault: "Endless SyncUpdates paging", Rules: []string{"max-round-trips"}},
	{Row: "27", Fault: "WUServer policy without a scheme", Rules: []string{"invalid-url-scheme", "winhttp-raw"}},
}

// beyondSection4 are the rules no section-4 row asks for, with where they
// come from.
var beyondSection4 = map[string]string{
	"invalid-url":                "a WUServer or redirect URL WinHTTP cannot crack (12005, reference section 1)",
	"redirect-failed":            "http.redirect_loop: too many redirects or HTTPS to HTTP (12156, reference section 1)",
	"connect-reset":              "a connection reset while it was being accepted (the world's tcp.refuse)",
	"connect-failed":             "any other connect failure (12029)",
	"transport-other":            "a socket failure no other rule names",
	"invalid-proxy-list":         "a malformed proxy list, 0x80240030 (reference 5.2)",
	"proxy-refused-connect":      "row 20",
	"http-400":                   "the status table of reference 3.2",
	"http-401":                   "the status table of reference 3.2",
	"http-405":                   "the status table of reference 3.2",
	"http-408":                   "the status table of reference 3.2",
	"http-409":                   "the status table of reference 3.2",
	"http-410":                   "the status table of reference 3.2",
	"http-501":                   "the status table of reference 3.2",
	"http-505":                   "the status table of reference 3.2",
	"http-status-other":          "the status table of reference 3.2 (0x8024402B)",
	"soap-fault-version":         "ATL SOAP_E_VERSION_MISMATCH (reference 2.2)",
	"soap-fault-must-understand": "ATL SOAP_E_MUST_UNDERSTAND (reference 2.2)",
	"soap-fault-unknown":         "ATL SOAP_E_UNK, a fault code ATL does not know (reference 2.2)",
	"no-file-url":                "a file without a URL, WU_E_DM_URLNOTAVAILABLE (reference 2.5)",
	"sls-invalid":                "an SLS answer the client cannot read, WU_E_REDIRECTOR_SLS_GENERIC_ERROR (reference 2.4)",
	"same-redirector-id":         "redirector recovery returning the same redirectorId, WU_E_PT_SAME_REDIR_ID (reference 2.2; seed 002)",
}

// Coverage returns how the client covers every row of section 4, in
// order.
func Coverage() []CoverageRow {
	out := make([]CoverageRow, len(coverage))
	for i, r := range coverage {
		r.Rules = append([]string(nil), r.Rules...)
		out[i] = r
	}
	return out
}
