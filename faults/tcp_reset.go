package faults

import (
	"errors"
	"net"

	"github.com/wufault/wufault/client/profile"
)

// TCPReset resets the connection (TCP RST via SO_LINGER 0) at a phase, after N bytes.
type TCPReset struct {
	PhaseBound `yaml:",inline"`
	Directed   `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "tcp.reset", Summary: "resets the connection (TCP RST via SO_LINGER 0) at a phase, after N bytes toward the client (or with direction up the server)", New: func() Fault { return new(TCPReset) }})
}

var _ ConnHook = (*TCPReset)(nil)

// Validate checks the parameters.
func (f *TCPReset) Validate() error {
	return errors.Join(f.PhaseBound.validate(connPhases...), f.Directed.validate())
}

// BoundPhase implements PhaseBinder; the default phase is headers (request
// with direction up).
func (f *TCPReset) BoundPhase() (profile.Phase, int64) {
	return f.Directed.phase(f.PhaseBound, profile.PhaseHeaders), f.AfterBytes
}

// WrapConn lets AfterBytes bytes reach the client, waits until they have
// left the socket, and resets it: the client's next read fails with
// ECONNRESET (WinHTTP 12030). With AfterBytes 0 the reset happens now.
func (f *TCPReset) WrapConn(c net.Conn, notify Notify) net.Conn {
	return newCut(c, f.AfterBytes, func() {
		detail := "reset after " + plural(f.AfterBytes)
		if err := Abort(c); err != nil {
			detail += " (" + err.Error() + ")"
		}
		notify(detail)
	})
}
