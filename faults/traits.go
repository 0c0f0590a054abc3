package faults

import (
	"time"

	"github.com/wufault/wufault/client/profile"
)

// What the core must know of a kind, declared in its registry entry (Info)
// so that no code outside this package names a concrete fault type.

// Arming says when the world arms a tcp.* kind.
type Arming int

const (
	// ArmAtPhase: the kind implements PhaseBinder and acts at its phase,
	// after its bytes (the default of tcp.* kinds that bind a phase).
	ArmAtPhase Arming = iota
	// ArmWhole: the kind acts on the whole connection from the moment it
	// is armed (tcp.refuse, and the shaping kinds tcp.latency,
	// tcp.bandwidth and tcp.slice): at accept when its match is empty,
	// otherwise at the first event that can match it.
	ArmWhole
)

// Cure is how a fix cures a fault of the kind whose Info lists it.
type Cure struct {
	// Applies reports whether the fix cures this configured fault; nil
	// means always.
	Applies func(f Fault) bool
	// Credential, when set, is what the fix gives the client: the fault
	// stays in the world and the client can now pass it. A Cure without
	// Credential takes the fault out of the world (the network change the
	// fix stands for).
	Credential func(f Fault) (profile.Credential, bool)
}

// ArmingOf returns how the world arms a kind.
func ArmingOf(kind string) Arming {
	i, _ := Lookup(kind)
	return i.Arm
}

// Unbounded reports whether a configured fault can hold a connection or a
// query longer than max (or without end), so the world must bound it at
// max.
func Unbounded(kind string, f Fault, max time.Duration) bool {
	i, _ := Lookup(kind)
	return i.Unbounded != nil && i.Unbounded(f, max)
}

// CureOf returns how fix cures the configured fault of kind, if it does.
func CureOf(kind string, f Fault, fix string) (Cure, bool) {
	i, _ := Lookup(kind)
	c, ok := i.Cures[fix]
	if !ok || (c.Applies != nil && !c.Applies(f)) {
		return Cure{}, false
	}
	return c, true
}
