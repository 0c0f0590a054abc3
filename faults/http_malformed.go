package faults

// HTTPMalformed answers with a broken HTTP response (garbage-status, bad-header, bad-chunk, http09, header-flood, huge-header).
type HTTPMalformed struct {
	// Variant is one of MalformedVariants.
	Variant string `yaml:"variant" json:"variant"`
}

func init() {
	Register(Info{Kind: "http.malformed", Summary: "answers with a broken HTTP response (garbage-status, bad-header, bad-chunk, http09, header-flood, huge-header)", New: func() Fault { return new(HTTPMalformed) }})
}

// Validate checks the parameters.
func (f *HTTPMalformed) Validate() error {
	return oneOf("variant", f.Variant, MalformedVariants)
}

// MalformedVariants are the ways http.malformed breaks a response.
var MalformedVariants = []string{"garbage-status", "bad-header", "bad-chunk", "http09", "header-flood", "huge-header"}
