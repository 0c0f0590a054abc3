//go:build !windows

package winagent

import (
	"context"

	"github.com/wufault/wufault/client"
)

// Probe needs Windows' winhttp.dll: elsewhere it reports ErrUnsupported
// in the result's note, with stage "open".
func Probe(ctx context.Context, ep client.Endpoint, o ProbeOptions) ProbeResult {
	r := ProbeResult{URL: ep.URL, Class: ep.Class, Role: ep.Role, Stage: "open", ContentLength: -1}
	Interpret(&r)
	r.Note = ErrUnsupported.Error()
	return r
}

// Scan needs the WUA COM API: elsewhere it reports ErrUnsupported.
func Scan(ctx context.Context, o ScanOptions) ScanResult {
	r := InterpretScan("com", 0x80004001, 0, 0, nil)
	r.Note = ErrUnsupported.Error()
	return r
}
