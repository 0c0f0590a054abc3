package faults

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
)

// The six tcp kinds take direction; any value but down or up is an error
// naming the field, and up moves the default phase to request.
func TestDirection(t *testing.T) {
	ms := profile.Duration(time.Millisecond)
	kinds := map[string]func(Directed) Fault{
		"tcp.reset":     func(d Directed) Fault { return &TCPReset{Directed: d} },
		"tcp.close":     func(d Directed) Fault { return &TCPClose{Directed: d} },
		"tcp.stall":     func(d Directed) Fault { return &TCPStall{Directed: d} },
		"tcp.latency":   func(d Directed) Fault { return &TCPLatency{Latency: ms, Directed: d} },
		"tcp.bandwidth": func(d Directed) Fault { return &TCPBandwidth{Rate: 1024, Directed: d} },
		"tcp.slice":     func(d Directed) Fault { return &TCPSlice{Directed: d} },
	}
	for kind, mk := range kinds {
		for _, d := range []Direction{"", Down, Up} {
			f := mk(Directed{Direction: d})
			if err := f.Validate(); err != nil {
				t.Errorf("%s direction %q: %v", kind, d, err)
			}
			if Upstream(f) != (d == Up) {
				t.Errorf("%s direction %q: Upstream = %v", kind, d, Upstream(f))
			}
			if pb, ok := f.(PhaseBinder); ok {
				p, _ := pb.BoundPhase()
				want := profile.PhaseHeaders
				if d == Up {
					want = profile.PhaseRequest
				}
				if p != want {
					t.Errorf("%s direction %q: default phase %s, want %s", kind, d, p, want)
				}
			}
		}
		err := mk(Directed{Direction: "sideways"}).Validate()
		var fe *FieldError
		if !errors.As(err, &fe) || fe.Field != "direction" || !strings.Contains(err.Error(), `"sideways" is not one of down, up`) {
			t.Errorf("%s: %v, want a direction field error naming down, up", kind, err)
		}
	}
	if Upstream(&TCPRefuse{}) {
		t.Error("tcp.refuse has no direction")
	}
}
