package faults

import (
	"errors"
	"net"
)

// DNSAnswer answers with a wrong address (A or AAAA by the address family).
type DNSAnswer struct {
	DNSMatch `yaml:",inline"`
	// Address is the IP address to answer with.
	Address string `yaml:"address" json:"address"`
	// TTL of the record (default 60s).
	TTL Duration `yaml:"ttl,omitempty" json:"ttl,omitempty"`
}

func init() {
	Register(Info{Kind: "dns.answer", Summary: "answers with a wrong address (A or AAAA by the address family)", New: func() Fault { return new(DNSAnswer) }})
}

// Validate checks the parameters.
func (f *DNSAnswer) Validate() error {
	var errs []error
	if net.ParseIP(f.Address) == nil {
		errs = append(errs, fieldErr("address", "%q is not an IP address", f.Address))
	}
	if f.TTL < 0 {
		errs = append(errs, fieldErr("ttl", "must not be negative, got %s", f.TTL))
	}
	return errors.Join(append(errs, f.DNSMatch.validate())...)
}
