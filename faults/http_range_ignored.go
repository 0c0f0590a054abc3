package faults

import "net/http"

// HTTPRangeIgnored drops the Range header so the client gets 200 and the whole body.
type HTTPRangeIgnored struct {
}

func init() {
	Register(Info{Kind: "http.range_ignored", Summary: "drops the Range header so the client gets 200 and the whole body", New: func() Fault { return new(HTTPRangeIgnored) },
		Cures: map[string]Cure{"allow-range-requests": {}}})
}

// Validate checks the parameters.
func (f *HTTPRangeIgnored) Validate() error {
	return nil
}

var _ HTTPHook = (*HTTPRangeIgnored)(nil)

// ServeHTTP removes Range and If-Range before forwarding, so the origin
// answers 200 with the whole body, as a proxy that strips them does
// (DO reports 0x80D05001, wu-codes.md row 25).
func (f *HTTPRangeIgnored) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	r.Header.Del("Range")
	r.Header.Del("If-Range")
	next.ServeHTTP(w, r)
}
