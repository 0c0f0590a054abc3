package faults

// ServFail answers SERVFAIL (RCODE 2).
type ServFail struct {
	DNSMatch `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.servfail", Summary: "answers SERVFAIL (RCODE 2)", New: func() Fault { return new(ServFail) }})
}

// Validate checks the parameters.
func (f *ServFail) Validate() error {
	return f.DNSMatch.validate()
}
