package faults

// connPhases are the phases a connection-level fault can be armed at.
var connPhases = []Phase{PhaseConnect, PhaseProxy, PhaseHandshake, PhaseRequest, PhaseHeaders, PhaseBody}
