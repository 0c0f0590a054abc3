package faults

import (
	"fmt"
	"sort"
	"strconv"
)

// Variant is one parameter setting of a fault kind that the atlas runs: a
// label for tables ("status=404", "at=body") and the parameters as YAML
// flow-mapping entries ("status: 404"), empty for a kind without any.
type Variant struct {
	Label  string `json:"label"`
	Params string `json:"params,omitempty"`
}

// atlasStatuses are the HTTP statuses of reference 3.2 (each has its own
// WU code) and one it does not name (418, which falls to
// WU_E_PT_HTTP_STATUS_NOT_MAPPED).
var atlasStatuses = []int{400, 401, 403, 404, 405, 407, 408, 409, 410, 418, 500, 501, 502, 503, 504, 505}

// atlasAlerts are the alerts a server most plausibly sends to a client it
// cannot serve, and close_notify (a warning: read as an abrupt close).
var atlasAlerts = []string{"handshake_failure", "protocol_version", "internal_error", "unknown_ca", "close_notify"}

// Variants returns the main variants of a registered kind for the atlas:
// every phase a phase-bound kind supports, every certificate profile,
// malformed-response variant, a set of statuses and alerts; one default
// variant for a kind without such a choice. The lists come from the
// kinds' own validation lists, so a new profile or variant shows up in the
// atlas without a change here; a new kind gets its default variant.
func Variants(kind string) []Variant {
	one := func(label, params string) []Variant { return []Variant{{Label: label, Params: params}} }
	each := func(field string, values []string) []Variant {
		out := make([]Variant, 0, len(values))
		for _, v := range values {
			out = append(out, Variant{Label: field + "=" + v, Params: fmt.Sprintf("%s: %q", field, v)})
		}
		return out
	}
	switch kind {
	case "tcp.reset", "tcp.close", "tcp.stall":
		out := make([]Variant, 0, len(connPhases))
		for _, p := range connPhases {
			out = append(out, Variant{Label: "at=" + string(p), Params: "at: " + string(p)})
		}
		return out
	case "tcp.latency":
		return one("latency=50ms", "latency: 50ms")
	case "tcp.bandwidth":
		return one("rate=256KiB/s", `rate: "256KiB/s"`)
	case "tcp.slice":
		return one("size=1", "size: 1")
	case "dns.answer":
		return one("address=127.0.0.2", `address: "127.0.0.2"`)
	case "tls.cert":
		return each("profile", CertProfiles)
	case "tls.alert":
		known := make([]string, 0, len(atlasAlerts))
		for _, a := range atlasAlerts {
			if _, ok := TLSAlerts[a]; ok {
				known = append(known, a)
			}
		}
		return each("alert", known)
	case "tls.version":
		return []Variant{{Label: "min=1.3", Params: `min: "1.3"`}, {Label: "max=1.0", Params: `max: "1.0"`}}
	case "http.status":
		out := make([]Variant, 0, len(atlasStatuses))
		for _, s := range atlasStatuses {
			out = append(out, Variant{Label: "status=" + strconv.Itoa(s), Params: "status: " + strconv.Itoa(s)})
		}
		return out
	case "http.malformed":
		return each("variant", MalformedVariants)
	case "http.content_type":
		return one("type=text/html", `type: "text/html"`)
	case "http.truncate":
		return []Variant{{Label: "length=keep", Params: "after_bytes: 100, length: keep"},
			{Label: "length=match", Params: "after_bytes: 100, length: match"},
			{Label: "length=none", Params: "after_bytes: 100, length: none"}}
	case "http.soap_fault":
		return each("code", []string{"server", "client"})
	case "proxy.auth":
		schemes := append([]string(nil), AuthSchemes...)
		sort.Strings(schemes)
		out := make([]Variant, 0, len(schemes))
		for _, s := range schemes {
			out = append(out, Variant{Label: "schemes=" + s, Params: "schemes: [" + s + "]"})
		}
		return out
	}
	return one("default", "")
}
