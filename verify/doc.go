// Package verify runs scenarios end to end and reports what they show.
//
// Run builds a world on loopback (random ports) for one scenario, runs the
// emulated Windows Update client against it and compares the session's
// final code with the scenario's expectation. Matrix runs many scenarios in
// parallel and renders the fault × class → code table in several formats
// (text table, markdown, JSON, JUnit XML, a self-contained HTML heat map).
// Fix verification applies each documented fix to the failing state and
// runs the session again: fixes, no-effect or partial.
//
// The golden table testdata/golden/fault_codes.txt is regenerated with
// `go test ./verify -update` and reviewed as a diff.
package verify
