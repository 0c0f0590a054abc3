package faults

// DNSDrop never answers: the client's resolver times out.
type DNSDrop struct {
	DNSMatch `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.drop", Summary: "never answers: the client's resolver times out", New: func() Fault { return new(DNSDrop) }})
}

// Validate checks the parameters.
func (f *DNSDrop) Validate() error {
	return f.DNSMatch.validate()
}
