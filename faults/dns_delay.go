package faults

import "errors"

// DNSDelay delays the answer by duration (absent: until the client gives up, bounded).
type DNSDelay struct {
	DNSMatch `yaml:",inline"`
	// Duration is the delay; zero holds the answer until the world's maximum.
	Duration Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
}

func init() {
	Register(Info{Kind: "dns.delay", Summary: "delays the answer by duration (absent: until the client gives up, bounded)", New: func() Fault { return new(DNSDelay) }})
}

// Validate checks the parameters.
func (f *DNSDelay) Validate() error {
	var errs []error
	if f.Duration < 0 {
		errs = append(errs, fieldErr("duration", "must not be negative, got %s", f.Duration))
	}
	return errors.Join(append(errs, f.DNSMatch.validate())...)
}
