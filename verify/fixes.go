package verify

import (
	"errors"
	"fmt"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/scenarios"
)

// fixEffect is what one fix does in the lab, in one place: to the
// client's state (a Machine method), to the world (the faults whose kinds
// list the fix among their cures, faults.Info.Cures) and to the clock.
// applyFix applies it, in that order: clock, client, world.
type fixEffect struct {
	clock  time.Duration
	client func(m *client.Machine) error
	world  func(l *lab, m *client.Machine, sc *scenarios.Scenario, id string) error
}

// do adapts a Machine method without an error.
func do(f func(*client.Machine)) func(*client.Machine) error {
	return func(m *client.Machine) error { f(m); return nil }
}

// fixTable holds every fix of scenarios.Fixes (TestFixTableCoversCatalog).
// A fix with no entry for the client nor the world changes nothing the lab
// models (sfc-dism: the files it repairs are not broken here;
// install-root-certs and raise-timeouts: see their entries).
var fixTable = map[string]fixEffect{
	"retry-later":         {clock: RetryDelay},
	"flush-dns":           {client: do((*client.Machine).FlushDNS)},
	"restart-wu-services": {client: do((*client.Machine).RestartServices)},
	// The documented reset (KB971058) also resets the WinHTTP proxy.
	"reset-wu-components":   {client: do((*client.Machine).ResetWUComponents)},
	"re-register-wups2":     {client: do((*client.Machine).RestartServices)},
	"set-winhttp-proxy":     {client: func(m *client.Machine) error { return m.SetWinHTTPProxy("lab") }},
	"import-ie-proxy":       {client: do((*client.Machine).ImportIEProxy)},
	"reset-winhttp-proxy":   {client: do((*client.Machine).ResetWinHTTPProxy)},
	"enable-negotiate":      {client: do((*client.Machine).EnableNegotiate)},
	"use-public-dns":        {client: (*client.Machine).UsePublicDNS},
	"remove-hosts-override": {client: do((*client.Machine).RemoveHostsOverride)},
	"trust-lab-ca":          {client: do((*client.Machine).TrustLabCA)},
	// Microsoft's root list (certutil -generateSSTFromWU) never holds a lab
	// or TLS-inspection CA: the lab client's trust store does not change.
	"install-root-certs":   {},
	"enable-tls12-ciphers": {client: do((*client.Machine).EnableTLS12Ciphers)},
	// Seed 000's ReceiveTimeOut/SendTimeOut are WinINet's values; WUA's
	// WinHTTP timeouts are set by WUA and not documented ([L-TIMEOUTS],
	// reference 5.1): nothing documented reaches the client, so no change.
	"raise-timeouts":            {},
	"fix-clock":                 {client: do((*client.Machine).FixClock)},
	"provide-proxy-credentials": {world: giveCredential},
	"open-firewall":             {world: removeCured},
	"allow-range-requests":      {world: removeCured},
	"sfc-dism":                  {},
}

// applyFix applies one fix to the lab through fixTable.
func applyFix(l *lab, m *client.Machine, sc *scenarios.Scenario, id string) error {
	e, ok := fixTable[id]
	if !ok {
		return fmt.Errorf("no lab effect defined for fix %q", id)
	}
	if e.clock > 0 {
		l.clock.Advance(e.clock)
	}
	if e.client != nil {
		if err := e.client(m); err != nil {
			return err
		}
	}
	if e.world != nil {
		return e.world(l, m, sc, id)
	}
	return nil
}

// removeCured activates the scenario again without the faults fix cures
// (the network change the fix stands for).
func removeCured(l *lab, _ *client.Machine, sc *scenarios.Scenario, id string) error {
	var keep []faults.Spec
	for _, sp := range sc.Faults {
		if c, ok := faults.CureOf(sp.Kind, sp.Fault, id); !ok || c.Credential != nil {
			keep = append(keep, sp)
		}
	}
	l.world.Activate(sc.Name, sc.Seed, keep)
	return nil
}

// giveCredential gives the client the first credential a fault cured by
// fix accepts; the world is unchanged.
func giveCredential(_ *lab, m *client.Machine, sc *scenarios.Scenario, id string) error {
	for _, sp := range sc.Faults {
		if c, ok := faults.CureOf(sp.Kind, sp.Fault, id); ok && c.Credential != nil {
			if cr, ok := c.Credential(sp.Fault); ok {
				m.SetProxyCredentials(cr.User, cr.Password.Reveal())
				return nil
			}
		}
	}
	return errors.New("the scenario has no fault with a credential to give the client")
}
