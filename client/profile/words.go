package profile

import "strings"

// Phase is where in an exchange something happens: where a fault fires,
// where a client's request failed. The phases come in the order an
// exchange passes through them. For a failure, the empty phase means no
// socket failed: the client's own configuration (a malformed proxy list or
// URL), or a decision WUA took on a whole response (a SOAP fault, a
// content type, a cabinet, a digest, a range).
type Phase string

// The phases.
const (
	PhaseResolve   Phase = "resolve"   // DNS lookup of the target or proxy host
	PhaseConnect   Phase = "connect"   // TCP connect / accept
	PhaseProxy     Phase = "proxy"     // CONNECT request and the proxy's answer (407)
	PhaseHandshake Phase = "handshake" // TLS handshake
	PhaseRequest   Phase = "request"   // sending the request; received, nothing answered
	PhaseHeaders   Phase = "headers"   // the status line and headers
	PhaseBody      Phase = "body"      // the response body
)

// Phases lists every phase in order.
var Phases = []Phase{PhaseResolve, PhaseConnect, PhaseProxy, PhaseHandshake, PhaseRequest, PhaseHeaders, PhaseBody}

// Valid reports whether p is one of Phases.
func (p Phase) Valid() bool { return oneOf(p, Phases) }

// Class is what the Windows Update client was doing when it sent a request.
type Class string

// The request classes.
const (
	ClassScan       Class = "scan"       // SOAP: client, SimpleAuth and reporting web services
	ClassSelfUpdate Class = "selfupdate" // wuident.cab and the rest of /selfupdate/
	ClassRedirector Class = "redirector" // wuredir.cab, SLS
	ClassDownload   Class = "download"   // content, through BITS or Delivery Optimization
)

// Classes lists every class.
var Classes = []Class{ClassScan, ClassSelfUpdate, ClassRedirector, ClassDownload}

// Valid reports whether c is one of Classes.
func (c Class) Valid() bool { return oneOf(c, Classes) }

func oneOf[T comparable](v T, all []T) bool {
	for _, w := range all {
		if v == w {
			return true
		}
	}
	return false
}

// Join lists values for an error message ("scan, selfupdate, …").
func Join[T ~string](xs []T) string {
	s := make([]string, len(xs))
	for n, x := range xs {
		s[n] = string(x)
	}
	return strings.Join(s, ", ")
}

// MetadataPath is the path under which the lab's emulator serves
// metadata (ECP) cabs (its own shape; [AC]'s real ones sit beside
// payloads under /msdownload/update/software/).
const MetadataPath = "/msdownload/update/software/meta/"

// ClassOf derives the class of a request from its URL path and host name,
// the way reference/wu-codes.md sections 6.1 and 6.2 lay out the
// endpoints (paths compare without case, as IIS does). Either may be
// empty. Any other path is content: the only traffic of the client
// outside the service endpoints is the files the server's
// GetFileLocations names, at URLs of its choosing. The host decides only
// when the path says nothing (empty or "/": no file), and "" is the answer
// when neither tells.
//
//   - selfupdate: wuident.cab, anything under /selfupdate/ (6.1: "and
//     /Selfupdate/…", the agent's self-update tree)
//   - redirector: wuredir.cab, /SLS/, the sls and slscr hosts
//   - scan: .asmx and the ClientWebService, SimpleAuthWebService and
//     ReportingWebService paths, with or without a trailing slash; the
//     lab's metadata (ECP) cabs under /msdownload/update/software/meta/,
//     which the client fetches during the scan (real metadata cabs share
//     the payloads' paths [AC], so on a real network they count as
//     download); the fe2/fe3 and update.microsoft.com hosts
//   - download: /Content/, /msdownload/, /filestreamingservice/, payload
//     extensions and any other path but "/"; the download and dl.delivery
//     hosts
func ClassOf(host, path string) Class {
	p := strings.ToLower(path)
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if i := strings.LastIndexByte(h, ':'); i >= 0 && !strings.Contains(h[i:], "]") {
		h = strings.TrimSuffix(h[:i], ".")
	}
	switch {
	case strings.Contains(p, "wuident.cab") || strings.Contains(p, "/selfupdate/"):
		return ClassSelfUpdate
	case strings.Contains(p, "wuredir.cab") || strings.HasPrefix(p, "/sls/") || strings.HasPrefix(h, "sls.") || strings.HasPrefix(h, "slscr."):
		return ClassRedirector
	case strings.Contains(p, ".asmx") || strings.Contains(p, MetadataPath) || strings.Contains(p, "clientwebservice") || strings.Contains(p, "simpleauthwebservice") || strings.Contains(p, "reportingwebservice"):
		return ClassScan
	case strings.HasPrefix(p, "/content/") || strings.Contains(p, "/msdownload/") || strings.Contains(p, "/filestreamingservice/") ||
		strings.HasSuffix(p, ".cab") || strings.HasSuffix(p, ".psf") || strings.HasSuffix(p, ".esd") || strings.HasSuffix(p, ".exe") || strings.HasSuffix(p, ".msu"):
		return ClassDownload
	}
	if p != "" && p != "/" {
		return ClassDownload
	}
	switch {
	case strings.HasPrefix(h, "fe3") || strings.HasPrefix(h, "fe2") || h == "update.microsoft.com" || h == "www.update.microsoft.com":
		return ClassScan
	case strings.Contains(h, "download.windowsupdate.com") || strings.Contains(h, "dl.delivery.mp.microsoft.com"):
		return ClassDownload
	}
	return ""
}

// Confidence grades how well a fault→code mapping is established, with the
// words of reference/wu-codes.md section 4.
type Confidence string

// The grades, strongest first.
const (
	High       Confidence = "high"
	MediumHigh Confidence = "medium-high"
	Medium     Confidence = "medium"
	MediumLow  Confidence = "medium-low"
	Low        Confidence = "low"
)

// Confidences lists the grades, strongest first.
var Confidences = []Confidence{High, MediumHigh, Medium, MediumLow, Low}

// Valid reports whether c is one of Confidences.
func (c Confidence) Valid() bool { return oneOf(c, Confidences) }

// Weaker reports whether c is a weaker grade than d.
func (c Confidence) Weaker(d Confidence) bool {
	return index(Confidences, c) > index(Confidences, d)
}

func index[T comparable](all []T, v T) int {
	for i, w := range all {
		if w == v {
			return i
		}
	}
	return -1
}
