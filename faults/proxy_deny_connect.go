package faults

// ProxyDenyConnect refuses CONNECT tunnels with an HTTP status, as a proxy
// whose policy blocks the destination does.
type ProxyDenyConnect struct {
	// Status answers the CONNECT (default 403).
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
}

func init() {
	Register(Info{Kind: "proxy.deny_connect", Summary: "refuses CONNECT tunnels with an HTTP status (default 403)", New: func() Fault { return new(ProxyDenyConnect) }})
}

// Validate checks the parameters.
func (f *ProxyDenyConnect) Validate() error {
	if f.Status == 0 {
		return nil
	}
	return validStatus("status", f.Status, 300, 599)
}

// StatusCode returns Status or its default.
func (f *ProxyDenyConnect) StatusCode() int {
	if f.Status == 0 {
		return 403
	}
	return f.Status
}
