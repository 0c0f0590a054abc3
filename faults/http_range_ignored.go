package faults

// HTTPRangeIgnored drops the Range header so the client gets 200 and the whole body.
type HTTPRangeIgnored struct {
}

func init() {
	Register(Info{Kind: "http.range_ignored", Summary: "drops the Range header so the client gets 200 and the whole body", New: func() Fault { return new(HTTPRangeIgnored) }})
}

// Validate checks the parameters.
func (f *HTTPRangeIgnored) Validate() error {
	return nil
}
