package simulate

import (
	"context"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// authContext returns ctx carrying a faults.AuthReporter that records every
// proxy authentication leg rule's hook reports as an EventAuth, tied to the
// connection and request of ev. The proxy wraps the request context of each
// ProxyHook it calls with it:
//
//	hook.ServeProxy(rw, r.WithContext(p.w.authContext(r.Context(), ev, rule)), next)
//
// The event carries what faults.AuthEvent carries (scheme, leg, user,
// outcome, reason), never a password, hash or token.
func (w *World) authContext(ctx context.Context, ev event, rule *faults.Rule) context.Context {
	return faults.WithAuthReporter(ctx, func(a faults.AuthEvent) {
		w.journal.Add(authEvent(ev, rule, a))
	})
}

// authEvent is the journal entry of one authentication leg.
func authEvent(ev event, rule *faults.Rule, a faults.AuthEvent) Event {
	e := ev.entry(EventAuth)
	e.Phase, e.Status, e.Detail, e.Auth = profile.PhaseProxy, a.Status, a.String(), &a
	if rule != nil {
		e.Fault, e.Rule = rule.Kind, rule.Index+1
	}
	return e
}
