package faults

import (
	"context"
	"fmt"
	"strings"
)

// AuthEvent is one leg of a proxy authentication exchange, as proxy.auth
// reports it for the journal. It never carries a secret: no password, no
// hash, no token, only the user name the client gave.
type AuthEvent struct {
	// Scheme is the scheme the client answered with ("basic", "ntlm",
	// "negotiate"), or "" for a request that carried none.
	Scheme string `json:"scheme,omitempty"`
	// Leg is which step of the exchange this was: one of the Leg constants.
	Leg string `json:"leg"`
	// User is DOMAIN\user (or user) as the client named it; empty before
	// the client names one.
	User string `json:"user,omitempty"`
	// Outcome is AuthChallenged, AuthAccepted or AuthRejected.
	Outcome string `json:"outcome"`
	// Reason says why, for rejections and second challenges ("wrong
	// password", "reject: loop"); Detail adds what was negotiated
	// ("ntlmv2", "spnego").
	Reason string `json:"reason,omitempty"`
	Detail string `json:"detail,omitempty"`
	// Status is what the client was answered: 407 (or 400), 0 when the
	// request passed.
	Status int `json:"status,omitempty"`
}

// The legs of a proxy authentication exchange.
const (
	LegOffer        = "offer"        // no credentials: 407 listing the schemes
	LegCredentials  = "credentials"  // Basic user and password
	LegNegotiate    = "negotiate"    // NTLM NEGOTIATE (or a first Negotiate token): CHALLENGE or reject
	LegAuthenticate = "authenticate" // NTLM AUTHENTICATE: verified
	LegConnection   = "connection"   // a request on an already authenticated connection
)

// The outcomes of one leg.
const (
	AuthChallenged = "challenged" // 407 asking for (more of) the exchange
	AuthAccepted   = "accepted"   // the request passed to the proxy
	AuthRejected   = "rejected"   // 407 (or 400): the answer was refused
)

// String renders the event for logs and journal details, without secrets:
// "ntlm authenticate user=LAB\alice rejected: wrong password (ntlmv2)".
func (e AuthEvent) String() string {
	var b strings.Builder
	if e.Scheme != "" {
		b.WriteString(e.Scheme + " ")
	}
	b.WriteString(e.Leg)
	if e.User != "" {
		fmt.Fprintf(&b, " user=%s", e.User)
	}
	b.WriteString(" " + e.Outcome)
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
	if e.Detail != "" {
		b.WriteString(" (" + e.Detail + ")")
	}
	return b.String()
}

// AuthReporter receives the legs of proxy authentication exchanges.
type AuthReporter func(AuthEvent)

type authReporterKey struct{}

// WithAuthReporter returns ctx carrying rep: the world puts one in each
// request context it hands to a ProxyHook, bound to that connection and
// request, and records what it receives as journal events.
func WithAuthReporter(ctx context.Context, rep AuthReporter) context.Context {
	return context.WithValue(ctx, authReporterKey{}, rep)
}

// ReportAuth passes e to the reporter in ctx, if there is one.
func ReportAuth(ctx context.Context, e AuthEvent) {
	if rep, ok := ctx.Value(authReporterKey{}).(AuthReporter); ok && rep != nil {
		rep(e)
	}
}
