package faults

import (
	"errors"
	"net"

	"github.com/wufault/wufault/client/profile"
)

// TCPSlice splits writes toward the client (with direction up, toward the server) into small segments with a delay between them.
type TCPSlice struct {
	// Size is the number of bytes per segment (default 1).
	Size int `yaml:"size,omitempty" json:"size,omitempty"`
	// Delay between segments.
	Delay    profile.Duration `yaml:"delay,omitempty" json:"delay,omitempty"`
	Directed `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "tcp.slice", Summary: "splits writes toward the client (or with direction up the server) into small segments with a delay between them", New: func() Fault { return new(TCPSlice) }, Arm: ArmWhole})
}

var _ ConnHook = (*TCPSlice)(nil)

// Validate checks the parameters.
func (f *TCPSlice) Validate() error {
	var errs []error
	if f.Size < 0 {
		errs = append(errs, fieldErr("size", "must be >= 0, got %d", f.Size))
	}
	if f.Delay < 0 {
		errs = append(errs, fieldErr("delay", "must not be negative, got %s", f.Delay))
	}
	return errors.Join(append(errs, f.Directed.validate())...)
}

// WrapConn writes every Size bytes as its own write (a segment of its own,
// TCP_NODELAY being Go's default) and waits Delay before each segment but
// the connection's first, so parsers meet status lines, headers and chunk
// sizes split at every byte.
func (f *TCPSlice) WrapConn(c net.Conn, notify Notify) net.Conn {
	return &sliceConn{wrapped: newWrapped(c), f: f, size: max(f.Size, 1), notify: notify}
}

type sliceConn struct {
	wrapped
	f       *TCPSlice
	size    int
	notify  Notify
	started bool
}

func (s *sliceConn) Write(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if !s.started {
			s.started = true
			s.notify("slicing writes into " + plural(int64(s.size)) + " every " + s.f.Delay.String())
		} else if !s.sleep(s.f.Delay.D()) {
			return n, net.ErrClosed
		}
		k := min(len(p)-n, s.size)
		m, err := s.Conn.Write(p[n : n+k])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}
