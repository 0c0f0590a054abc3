// Package atlas builds the fault → code atlas: every registered fault kind
// × its main variants (faults.Variants) × request class × client
// generation × download stack, each cell run against the emulated client
// in a real world on loopback. A cell records what the client saw (code,
// phase, WinHTTP error, job code) and the deciding client rule with that
// rule's confidence and source, never an expectation. Cells can be run
// in shards (Plan with a Shard) and merged.
package atlas
