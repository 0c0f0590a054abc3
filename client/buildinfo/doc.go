// Package buildinfo reports what a wufault binary was built from: the
// module version and the VCS revision the go command records in the binary
// (runtime/debug.ReadBuildInfo), for --version and `wufault version`.
// It sits under client/ because wufault-agent, which links only the
// client side and codes, uses it too; it imports only the standard library.
package buildinfo
