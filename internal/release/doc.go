// Package release checks the release artifacts kept at the top of the
// repository: the Dockerfile (its contract always, its build where a
// container engine runs) and scripts/cross-build.sh. It has no code of
// its own.
package release
