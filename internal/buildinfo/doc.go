// Package buildinfo reports what a wufault binary was built from: the
// module version and the VCS revision the go command records in the binary
// (runtime/debug.ReadBuildInfo), for --version and `wufault version`.
package buildinfo
