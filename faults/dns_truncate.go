package faults

// DNSTruncate answers UDP queries with the TC bit and no records, forcing a retry over TCP.
type DNSTruncate struct {
	DNSMatch `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "dns.truncate", Summary: "answers UDP queries with the TC bit and no records, forcing a retry over TCP", New: func() Fault { return new(DNSTruncate) }})
}

// Validate checks the parameters.
func (f *DNSTruncate) Validate() error {
	return f.DNSMatch.validate()
}
