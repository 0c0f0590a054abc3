package faults

import "errors"

// TCPSlice splits writes toward the client into small segments with a delay between them.
type TCPSlice struct {
	// Size is the number of bytes per segment (default 1).
	Size int `yaml:"size,omitempty" json:"size,omitempty"`
	// Delay between segments.
	Delay Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
}

func init() {
	Register(Info{Kind: "tcp.slice", Summary: "splits writes toward the client into small segments with a delay between them", New: func() Fault { return new(TCPSlice) }})
}

// Validate checks the parameters.
func (f *TCPSlice) Validate() error {
	var errs []error
	if f.Size < 0 {
		errs = append(errs, fieldErr("size", "must be >= 0, got %d", f.Size))
	}
	if f.Delay < 0 {
		errs = append(errs, fieldErr("delay", "must not be negative, got %s", f.Delay))
	}
	return errors.Join(errs...)
}
