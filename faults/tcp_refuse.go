package faults

import "net"

// TCPRefuse refuses the connection: reset as soon as it is accepted, before a byte is read.
type TCPRefuse struct {
}

func init() {
	Register(Info{Kind: "tcp.refuse", Summary: "refuses the connection: reset as soon as it is accepted, before a byte is read", New: func() Fault { return new(TCPRefuse) },
		Arm: ArmWhole, Cures: map[string]Cure{"open-firewall": {}}})
}

var _ ConnHook = (*TCPRefuse)(nil)

// Validate checks the parameters.
func (f *TCPRefuse) Validate() error {
	return nil
}

// WrapConn resets the connection at once. The handshake has completed (a
// listening socket cannot answer a SYN with RST selectively), so the client
// sees ECONNRESET on its first read or write rather than ECONNREFUSED on
// connect; WinHTTP reports both as 12030/12029-class failures.
func (f *TCPRefuse) WrapConn(c net.Conn, notify Notify) net.Conn {
	return newCut(c, 0, func() {
		detail := "refused: reset before reading"
		if err := Abort(c); err != nil {
			detail += " (" + err.Error() + ")"
		}
		notify(detail)
	})
}
