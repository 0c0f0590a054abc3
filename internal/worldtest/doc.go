// Package worldtest starts worlds (package simulate) for tests, as
// net/http/httptest starts servers: on 127.0.0.1:0, with the services and
// faults a test asks for, its log in the test's own output, closed when
// the test ends. It also starts the test's own WSUS emulator outside the
// lab zone (Origin), and hands out what tests reach a world with: the
// proxy URL, the DNS address, the control URL, a pool trusting the lab CA
// and the client environment (client.Env) whose "lab" values point at the
// world, as the lab command maps them (verify.LabEnv).
//
//	w := worldtest.Start(t, worldtest.Proxy(), worldtest.DNS(), worldtest.Faults("- {kind: dns.nxdomain}"))
//	m, _ := client.NewMachine(profile.Profile{}, w.Env())
//
// Who uses it: the tests of client, client/observe, ctl, cmd/wufault and
// simulate's external tests (package simulate_test). It imports simulate,
// scenarios, client and verify, so it lives under internal/ (not under
// client/, whose packages must never link the lab) and is imported only by
// _test files: the client side's dependency rule (go list -deps, which
// ignores test files) still holds.
//
// simulate's internal tests (package simulate) cannot import it: that would
// be an import cycle (worldtest imports simulate). They reach the world's
// unexported parts (services, journal, the proxy's state), so they keep one
// thin in-package starter, testWorld in simulate/proxy_helpers_test.go,
// with the same defaults as Start (loopback origins, Close checked at
// cleanup; testlog for the log); proxyWorld, controlWorld, dnsWorld and
// mitmWorld there are configurations of it that also plant unexported
// services. The lifecycle tests that check New and Close themselves call
// New. Tests of simulate that need only its exported API belong in package
// simulate_test and use this package.
package worldtest
