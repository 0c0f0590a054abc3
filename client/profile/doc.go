// Package profile holds the words the emulated client and the lab share:
// the client profile a scenario sets (and its one validation), the phases
// of an exchange, the request classes and the one ClassOf that derives
// them from a URL, the confidence grades of the reference, durations as
// scenarios write them, and the TLS version and cipher suite names.
//
// It belongs to the client side: like a real Windows client, package
// client and its subpackages see only sockets, so they import this package,
// codes, the standard library and third-party libraries, and nothing else
// of this module. The lab's packages (faults, scenarios, simulate, verify)
// import it to speak the same words. A test pins the rule with go list.
package profile
