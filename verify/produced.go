package verify

import (
	"slices"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/codes"
)

// Produced lists every code a session showed, in order of first
// appearance: its final code, and for each request the HRESULT WUA
// reported, the BITS/DO job's own error and the WinHTTP error as an
// HRESULT (what a legacy log's "Send failed with hr = 80072ee7" shows).
func Produced(res *client.Result) []codes.Code {
	if res == nil {
		return nil
	}
	out := []codes.Code{res.Code}
	add := func(c codes.Code) {
		if c != codes.OK && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	for _, o := range res.Observations {
		add(o.Code)
		add(o.JobCode)
		if o.WinHTTP != 0 {
			add(o.WinHTTP.Code())
		}
	}
	return out
}

// Unproduced returns the codes of listed that the session never showed.
func Unproduced(listed []codes.Code, res *client.Result) []codes.Code {
	got := Produced(res)
	var out []codes.Code
	for _, c := range listed {
		if !slices.Contains(got, c) {
			out = append(out, c)
		}
	}
	return out
}
