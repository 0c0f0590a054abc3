package faults

import (
	"errors"
	"net"

	"github.com/wufault/wufault/client/profile"
)

// TCPClose closes the connection cleanly (FIN) at a phase, after N bytes.
type TCPClose struct {
	PhaseBound `yaml:",inline"`
	Directed   `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "tcp.close", Summary: "closes the connection cleanly (FIN) at a phase, after N bytes toward the client (or with direction up: the server reads the end of the request stream)", New: func() Fault { return new(TCPClose) }})
}

var _ ConnHook = (*TCPClose)(nil)

// Validate checks the parameters.
func (f *TCPClose) Validate() error {
	return errors.Join(f.PhaseBound.validate(connPhases...), f.Directed.validate())
}

// BoundPhase implements PhaseBinder; the default phase is headers (request
// with direction up).
func (f *TCPClose) BoundPhase() (profile.Phase, int64) {
	return f.Directed.phase(f.PhaseBound, profile.PhaseHeaders), f.AfterBytes
}

// WrapConn lets AfterBytes bytes reach the client and then shuts the write
// side down: the client reads a clean end of stream (EOF), never a reset,
// because the read side stays open to swallow what the client still sends.
// With AfterBytes 0 the FIN goes out now.
func (f *TCPClose) WrapConn(c net.Conn, notify Notify) net.Conn {
	return newCut(c, f.AfterBytes, func() {
		detail := "closed (FIN) after " + plural(f.AfterBytes)
		if err := HalfClose(c); err != nil {
			detail += " (" + err.Error() + ")"
		}
		notify(detail)
	})
}
