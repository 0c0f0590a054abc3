// Package scenarios is the declarative input of wufault: a named YAML file
// with the faults to inject, the client profile to run, the Windows Update
// code it is expected to produce, and the fixes to check.
//
// Loading is strict and complete: unknown keys, wrong types, unknown fault
// kinds, bad codes and bad durations are all reported at once, each as
// "file:line: path: problem", before any socket opens. The catalog
// (catalog/*.yaml) is embedded in the binary.
//
// The loader bounds its work on hostile input: a file is at most MaxSize
// bytes, YAML aliases may add at most MaxAliasNodes values in all (a shared
// match block is fine; an alias bomb is refused before it is expanded), and
// at most MaxProblems problems are listed, with a count of the rest.
//
//	name: connection-aborted-scan
//	summary: Connection reset while the SyncUpdates response streams
//	codes: [0x80072EFE]
//	seed: 1
//	profile: {generation: modern}
//	faults:
//	  - kind: tcp.reset
//	    match: {host: "*.update.microsoft.com", path: "/ClientWebService/*", class: scan}
//	    at: body
//	    after_bytes: 512
//	    when: {first: 3}
//	expect:
//	  code: 0x80072EFE
//	  class: scan
//	  confidence: medium
//	  source: "[L-WINHTTPERR] 12030"
//	fixes:
//	  - {fix: retry-later, outcome: fixes}
//	  - {fix: flush-dns, outcome: no-effect}
package scenarios
