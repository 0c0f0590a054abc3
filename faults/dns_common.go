package faults

import (
	"errors"
	"strings"

	"github.com/miekg/dns"
)

// DNSMatch restricts a dns.* fault to some query types; empty means all.
type DNSMatch struct {
	QTypes []string `yaml:"qtypes,omitempty" json:"qtypes,omitempty"`
}

// MatchesQType reports whether the query type (e.g. "AAAA") is covered.
func (m DNSMatch) MatchesQType(qtype string) bool {
	if len(m.QTypes) == 0 {
		return true
	}
	for _, t := range m.QTypes {
		if strings.EqualFold(t, qtype) {
			return true
		}
	}
	return false
}

func (m DNSMatch) validate() error {
	var errs []error
	for _, t := range m.QTypes {
		if _, ok := dns.StringToType[strings.ToUpper(t)]; !ok {
			errs = append(errs, fieldErr("qtypes", "%q is not a DNS query type", t))
		}
	}
	return errors.Join(errs...)
}

// NegativeTTL is the SOA minimum of a negative answer: how long a resolver.
// (the Windows DNS client included) may cache the "does not exist".
type NegativeTTL struct {
	NegativeTTL Duration `yaml:"negative_ttl,omitempty" json:"negative_ttl,omitempty"`
}

func (n NegativeTTL) validate() error {
	if n.NegativeTTL < 0 || n.NegativeTTL.D().Seconds() > 1<<31-1 {
		return fieldErr("negative_ttl", "must be between 0s and 68y, got %s", n.NegativeTTL)
	}
	return nil
}
