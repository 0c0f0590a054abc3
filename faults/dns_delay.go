package faults

import (
	"context"
	"errors"
	"time"

	"github.com/miekg/dns"
	"github.com/wufault/wufault/client/profile"
)

// DNSDelay delays the answer by duration (absent: until the client gives up, bounded).
type DNSDelay struct {
	DNSMatch `yaml:",inline"`
	// Duration is the delay; zero holds the answer until the world's maximum.
	Duration profile.Duration `yaml:"duration,omitempty" json:"duration,omitempty"`
}

func init() {
	Register(Info{Kind: "dns.delay", Summary: "delays the answer by duration (absent: until the client gives up, bounded)", New: func() Fault { return new(DNSDelay) }})
}

// Validate checks the parameters.
func (f *DNSDelay) Validate() error {
	var errs []error
	if f.Duration < 0 {
		errs = append(errs, fieldErr("duration", "must not be negative, got %s", f.Duration))
	}
	return errors.Join(append(errs, f.DNSMatch.validate())...)
}

// ServeDNS holds the query for Duration, then passes it on to next, which
// answers late. With no Duration it holds it until ctx ends: the world
// bounds ctx by its maximum stall, and the late answer follows. When ctx
// is cancelled (the world shuts down) the query is dropped unanswered.
func (f *DNSDelay) ServeDNS(ctx context.Context, w dns.ResponseWriter, r *dns.Msg, next dns.Handler) {
	if d := f.Duration.D(); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			next.ServeDNS(w, r)
			return
		case <-ctx.Done():
		}
	} else {
		<-ctx.Done()
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		next.ServeDNS(w, r)
	}
}

var _ DNSHook = (*DNSDelay)(nil)
