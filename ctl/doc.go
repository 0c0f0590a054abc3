// Package ctl is a Go client of a running world's control API (wufault
// serve --control): the default scenario and the per-client assignments,
// the journal (a page, or followed live), reports. `wufault ctl` is built
// on it; a test harness can drive a lab the same way.
//
//	c := ctl.New("127.0.0.1:8081", token)
//	_, err := c.UseScenario(ctx, "dns-nxdomain-scan")
//	err = c.Follow(ctx, ctl.JournalQuery{Event: "fault"}, func(e simulate.Event) error { … })
package ctl
