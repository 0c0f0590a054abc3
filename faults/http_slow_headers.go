package faults

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// HTTPSlowHeaders trickles the response's status line and headers one
// byte per interval, so a client whose receive timeout is shorter than the
// interval gives up before the status line is complete (a slowloris toward
// the client; WinHTTP 12002, wu-codes.md section 4 #9).
type HTTPSlowHeaders struct {
	// Interval between two bytes (default 1s, at most 1m).
	Interval profile.Duration `yaml:"interval,omitempty" json:"interval,omitempty"`
	// Status of the trickled answer (default 200).
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
}

func init() {
	Register(Info{Kind: "http.slow_headers", Summary: "trickles the status line and headers one byte per interval, so the client's receive timeout fires before they complete",
		New: func() Fault { return new(HTTPSlowHeaders) }})
}

var _ HTTPHook = (*HTTPSlowHeaders)(nil)

// Validate checks the parameters.
func (f *HTTPSlowHeaders) Validate() error {
	if f.Interval < 0 || f.Interval.D() > time.Minute {
		return fieldErr("interval", "must be in [0, 1m], got %s", f.Interval)
	}
	if f.Status != 0 && (f.Status < 100 || f.Status > 599) {
		return fieldErr("status", "%d is not an HTTP status", f.Status)
	}
	return nil
}

// ServeHTTP takes the connection over and writes the answer's head one
// byte per interval. It stops as soon as the client closes the connection
// (a read ends), a write fails or the request's context ends, so a client
// that gave up holds nothing; a patient one gets the whole head and an
// empty body.
func (f *HTTPSlowHeaders) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	every := f.Interval.D()
	if every == 0 {
		every = time.Second
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	head := "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\nContent-Type: text/xml; charset=utf-8\r\nContent-Length: 0\r\n\r\n"
	if r.Body != nil {
		_, _ = io.CopyN(io.Discard, r.Body, maxDrain)
	}
	c, rw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		http.Error(w, "wufault: http.slow_headers cannot take the connection over", http.StatusInternalServerError)
		return
	}
	defer c.Close()
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		// The client's close (or ours) ends this read: stop trickling.
		_, _ = io.Copy(io.Discard, rw.Reader)
		cancel()
	}()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for i := range len(head) {
		if i > 0 {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
		if _, err := c.Write([]byte{head[i]}); err != nil {
			return
		}
	}
	_ = HalfClose(c)
}
