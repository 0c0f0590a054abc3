package observe

import (
	"fmt"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// Signature names what the wire showed, independent of any fault that was
// injected: the analyzer never learns the scenario.
type Signature string

// Signatures the analyzer reports.
const (
	SigDNSNXDomain      Signature = "dns.nxdomain"            // RCODE 3
	SigDNSServFail      Signature = "dns.servfail"            // RCODE 2
	SigDNSRefused       Signature = "dns.refused"             // RCODE 5
	SigDNSNoData        Signature = "dns.nodata"              // NOERROR, no answer for A/AAAA
	SigDNSNoAnswer      Signature = "dns.no_answer"           // a query never answered
	SigDNSOther         Signature = "dns.rcode"               // another failing RCODE
	SigTCPRefused       Signature = "tcp.refused"             // SYN answered by RST
	SigTCPSYNTimeout    Signature = "tcp.syn_timeout"         // SYN never answered
	SigTCPReset         Signature = "tcp.reset"               // RST from the server on an open connection
	SigTCPClientReset   Signature = "tcp.client_reset"        // RST from the client (it gave up or cancelled)
	SigTCPFINMidBody    Signature = "tcp.fin_mid_body"        // FIN before Content-Length or the last chunk
	SigTCPFINNoResponse Signature = "tcp.fin_no_response"     // FIN after the request, nothing answered
	SigStall            Signature = "tcp.stall"               // a gap longer than the threshold
	SigTLSReset         Signature = "tls.reset_after_hello"   // RST or FIN right after the ClientHello
	SigTLSAlert         Signature = "tls.alert"               // a fatal alert from the server
	SigTLSClientAlert   Signature = "tls.client_alert"        // a fatal alert from the client (it rejected the server)
	SigTLSCertRequest   Signature = "tls.certificate_request" // the server asked for a client certificate
	SigHTTPStatus       Signature = "http.status"             // a failing HTTP status
	SigHTTPSOAPFault    Signature = "http.soap_fault"         // a SOAP Fault body
	SigHTTPMalformed    Signature = "http.malformed"          // the reply is not HTTP
	SigProxyAuth        Signature = "proxy.auth"              // 407 from a proxy
	SigProxyDenied      Signature = "proxy.deny_connect"      // CONNECT answered with another failure status
)

// Prediction is the Windows Update code a signature predicts, with the
// reference row, its source tags and its confidence.
type Prediction struct {
	Code       codes.Code         `json:"code"`
	Name       string             `json:"name,omitempty"`
	Confidence profile.Confidence `json:"confidence"`
	// Source holds the reference's evidence tags ("[L-WINHTTPERR] 12029").
	Source string `json:"source"`
	// Row is the reference row: "section 4 #6", "section 3.2".
	Row string `json:"row"`
	// Alt lists codes the same signature gives in other conditions.
	Alt []AltCode `json:"alt,omitempty"`
}

// AltCode is another code a signature may produce, and when.
type AltCode struct {
	Code codes.Code `json:"code"`
	When string     `json:"when"`
}

func (p Prediction) String() string {
	s := fmt.Sprintf("%s %s confidence, %s %s", p.Code, p.Confidence, p.Row, p.Source)
	for _, a := range p.Alt {
		s += fmt.Sprintf("; %s %s", a.When, a.Code.Hex())
	}
	return s
}

func pred(c codes.Code, conf profile.Confidence, row, source string, alt ...AltCode) *Prediction {
	p := &Prediction{Code: c, Confidence: conf, Row: row, Source: source, Alt: alt}
	if in, ok := codes.Lookup(c); ok {
		p.Name = in.Name
	}
	return p
}

// Predict maps a signature seen for a request of class c to the code WUA
// is expected to report, following reference/wu-codes.md section 4 (and
// 3.2 for statuses). status is the HTTP status for SigHTTPStatus,
// SigProxyAuth and SigProxyDenied; phase is where a stall or reset hit
// ("request", "headers", "body"). It returns nil for signatures that
// predict nothing (a client's own reset).
func Predict(sig Signature, c profile.Class, status int, phase string) *Prediction {
	download := c == profile.ClassDownload
	switch sig {
	case SigDNSNXDomain, SigDNSServFail, SigDNSRefused, SigDNSOther, SigDNSNoData, SigDNSNoAnswer:
		// The resolver fails and WinHTTP raises 12007: WUA's WinHTTP path
		// translates it, a BITS job reports it raw (client.WUACode, Code).
		r := dnsRows[sig]
		if download {
			return pred(client.WinHTTPNameNotResolved.Code(), profile.Low, r.row, r.jobSource)
		}
		return pred(client.WinHTTPNameNotResolved.WUACode(), r.conf, r.row, r.source, r.alt)
	case SigTCPRefused:
		return pred(0x80072EFD, profile.High, "section 4 #4", "[L-WINHTTPERR] 12029; [L-DLERR]")
	case SigTCPSYNTimeout:
		return pred(0x80072EE2, profile.Medium, "section 4 #5", "[L-WINHTTPERR] 12002; [AK]",
			AltCode{0x80072EFD, "possible instead"}, AltCode{0x80D02002, "download via DO, after the no-progress window"})
	case SigTCPReset:
		return pred(0x80072EFE, profile.MediumHigh, "section 4 #6", "[L-WINHTTPERR] 12030")
	case SigTCPFINMidBody:
		return pred(0x80072EFE, profile.Medium, "section 4 #7 (a)(b)", "inferred from 12030 semantics")
	case SigTCPFINNoResponse:
		return pred(0x80072EFE, profile.Medium, "section 4 #6", "[L-WINHTTPERR] 12030 (\"terminated by the server\")")
	case SigStall:
		if download {
			return pred(0x80D02002, profile.MediumLow, "section 4 #8/#9", "[L-DO]; BITS retries instead",
				AltCode{0x80072EE2, "BITS job (transient, retried)"})
		}
		row := "section 4 #9"
		if phase == "body" || phase == "headers" {
			row = "section 4 #8"
		}
		return pred(0x80072EE2, profile.Medium, row, "[L-TIMEOUTS] [AK]; [CM-401C]",
			AltCode{0x8024401C, "Windows 10+ talking SOAP to WSUS (NWS timeout)"})
	case SigTLSReset:
		return pred(0x80072EFE, profile.High, "section 4 #10", "[L-2EFE] [L-DLERR] [LU8]")
	case SigTLSAlert:
		return pred(0x80072F8F, profile.Medium, "section 4 #11", "[L-2EFE] [L-WUCOMMON]; which of 12030/12175 inferred",
			AltCode{0x80072EFE, "if the server aborts the TCP connection instead"})
	case SigTLSClientAlert:
		return pred(0x80072F8F, profile.High, "section 4 #12-#16", "[H] (WinHTTP C API folds certificate errors into 12175) [L-2F8F]")
	case SigTLSCertRequest:
		return pred(0x80072F0C, profile.High, "section 4 #17", "[L-SCAN]")
	case SigProxyAuth:
		if download {
			return pred(0x80190197, profile.Low, "section 4 #18", "[L-BITS]; inferred",
				AltCode{0x8024401B, "update level (probably)"})
		}
		return pred(0x8024401B, profile.High, "section 4 #18", "[L-WUCOMMON] [L-SCAN] [KTC]",
			AltCode{0x80072EEF, "a failing NTLM/Negotiate exchange [KB902093]"}, AltCode{0x8024401C, "one Windows 10+ report [ALI]"})
	case SigProxyDenied:
		c, ok := client.StatusCode(status)
		if !ok {
			c = 0x8024402B
		}
		return pred(c, profile.Low, "section 4 #20", "inferred; [L-SCAN]",
			AltCode{0x80072EFD, "if WinHTTP does not hand the proxy status to WUA"})
	case SigHTTPStatus:
		c, ok := client.StatusCode(status)
		if !ok {
			return nil
		}
		if download {
			return pred(client.BITSStatusCode(status), profile.Medium, "section 4 #21", "[L-BITS] [GG]",
				AltCode{c, "update level (observed for 404 [GG])"})
		}
		return pred(c, client.StatusConfidence(status), "section 3.2 / 4 #21", "[H] [L-WUANET]")
	case SigHTTPSOAPFault:
		return pred(0x80244007, profile.Medium, "section 3.2 (SOAP faults)", "[L-4007]",
			AltCode{0x8024400E, "legacy client, soap error code 400 (Server)"}, AltCode{0x8024400D, "legacy client, soap error code 300 (Client)"})
	case SigHTTPMalformed:
		return pred(0x80072F78, profile.High, "section 4 #22", "[LU76] [ES1] [L-WINHTTPERR] 12152")
	}
	return nil
}

// dnsRow is one of section 4's rows 1-3, the DNS failures.
type dnsRow struct {
	row       string
	conf      profile.Confidence
	source    string
	jobSource string
	alt       AltCode
}

var (
	dnsNXDomain = dnsRow{"section 4 #1", profile.High, "[H] [L-402C] [TW-402C]", "inferred (BITS job error); DO unverified",
		AltCode{0x80072EE7, "download path (BITS job)"}}
	dnsFailure = dnsRow{"section 4 #2", profile.Medium, "inferred (the OS resolver fails → WinHTTP 12007)", "inferred",
		AltCode{0x80072EE7, "download path (BITS job)"}}
	dnsNoAnswer = dnsRow{"section 4 #3", profile.MediumLow, "[L-TIMEOUTS]; inferred", "inferred",
		AltCode{0x80072EE2, "if WUA sets a resolve timeout (unknown)"}}
	dnsRows = map[Signature]dnsRow{SigDNSNXDomain: dnsNXDomain, SigDNSServFail: dnsFailure, SigDNSRefused: dnsFailure,
		SigDNSOther: dnsFailure, SigDNSNoData: dnsNoAnswer, SigDNSNoAnswer: dnsNoAnswer}
)
