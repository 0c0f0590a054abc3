// Command wufault reproduces Windows Update network errors on demand.
//
// It runs a fault-injecting world (forward proxy, DNS server, TLS
// endpoints, the Windows Update emulator, a control API) and observes which
// Windows Update Agent code each fault produces with an emulated client:
//
//	wufault lab                      run the whole catalog, print the fault → code table
//	wufault run SCENARIO             one scenario, with its observations and fixes
//	wufault serve --scenario NAME    a world for real Windows VMs
//	wufault decode 0x80072EFE        what a code means
//
// main only calls run(ctx, args, stdout, stderr), which tests call too.
// See `wufault --help` and the README.
package main
