//go:build !linux

package faults

import "time"

// waitUnsent cannot see the send queue on this system; a short pause lets
// most of it leave.
func waitUnsent(c lingerer, d time.Duration) { time.Sleep(min(d, 10*time.Millisecond)) }
