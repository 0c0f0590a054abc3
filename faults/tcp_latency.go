package faults

import "errors"

// TCPLatency delays every write toward the client by latency ± jitter.
type TCPLatency struct {
	Latency Duration `yaml:"latency" json:"latency"`
	Jitter  Duration `yaml:"jitter,omitempty" json:"jitter,omitempty"`
}

func init() {
	Register(Info{Kind: "tcp.latency", Summary: "delays every write toward the client by latency ± jitter", New: func() Fault { return new(TCPLatency) }})
}

// Validate checks the parameters.
func (f *TCPLatency) Validate() error {
	var errs []error
	if f.Latency <= 0 {
		errs = append(errs, fieldErr("latency", "must be positive, got %s", f.Latency))
	}
	if f.Jitter < 0 || f.Jitter > f.Latency {
		errs = append(errs, fieldErr("jitter", "must be between 0 and latency (%s), got %s", f.Latency, f.Jitter))
	}
	return errors.Join(errs...)
}
