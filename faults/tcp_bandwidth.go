package faults

import (
	"errors"
	"net"
	"time"
)

// TCPBandwidth limits the rate of bytes toward the client (with direction up, toward the server).
type TCPBandwidth struct {
	// Rate such as "64KiB/s".
	Rate     ByteRate `yaml:"rate" json:"rate"`
	Directed `yaml:",inline"`
}

func init() {
	Register(Info{Kind: "tcp.bandwidth", Summary: "limits the rate of bytes toward the client (or with direction up the server)", New: func() Fault { return new(TCPBandwidth) }, Arm: ArmWhole})
}

var _ ConnHook = (*TCPBandwidth)(nil)

// Validate checks the parameters.
func (f *TCPBandwidth) Validate() error {
	var errs []error
	if f.Rate <= 0 {
		errs = append(errs, fieldErr("rate", "must be a positive rate such as 64KiB/s"))
	}
	return errors.Join(append(errs, f.Directed.validate())...)
}

// WrapConn paces writes to Rate: bytes go out in slices of about 20 ms
// worth (at least one byte, at most 64 KiB), each when the rate allows.
// Idle time earns no burst beyond one slice.
func (f *TCPBandwidth) WrapConn(c net.Conn, notify Notify) net.Conn {
	slice := min(max(int64(f.Rate)/50, 1), 64<<10)
	return &rateConn{wrapped: newWrapped(c), f: f, slice: int(slice), notify: notify}
}

type rateConn struct {
	wrapped
	f      *TCPBandwidth
	slice  int
	notify Notify
	start  time.Time // when sent bytes began to count
	sent   int64
}

func (r *rateConn) Write(p []byte) (int, error) {
	if r.start.IsZero() {
		r.notify("limiting to " + r.f.Rate.String())
		r.start = time.Now()
	}
	// No credit for idle time beyond one slice.
	now := time.Now()
	if ideal := r.start.Add(r.at(r.sent)); now.Sub(ideal) > r.at(int64(r.slice)) {
		r.start, r.sent = now, 0
	}
	n := 0
	for n < len(p) {
		k := min(len(p)-n, r.slice)
		m, err := r.Conn.Write(p[n : n+k])
		n += m
		r.sent += int64(m)
		if err != nil {
			return n, err
		}
		if !r.until(r.start.Add(r.at(r.sent))) {
			return n, net.ErrClosed
		}
	}
	return n, nil
}

// at is how long bytes take at the rate.
func (r *rateConn) at(bytes int64) time.Duration {
	return time.Duration(float64(bytes) / float64(r.f.Rate) * float64(time.Second))
}
