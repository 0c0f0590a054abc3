package faults

// TCPBandwidth limits the rate of bytes toward the client.
type TCPBandwidth struct {
	// Rate such as "64KiB/s".
	Rate ByteRate `yaml:"rate" json:"rate"`
}

func init() {
	Register(Info{Kind: "tcp.bandwidth", Summary: "limits the rate of bytes toward the client", New: func() Fault { return new(TCPBandwidth) }})
}

// Validate checks the parameters.
func (f *TCPBandwidth) Validate() error {
	if f.Rate <= 0 {
		return fieldErr("rate", "must be a positive rate such as 64KiB/s")
	}
	return nil
}
