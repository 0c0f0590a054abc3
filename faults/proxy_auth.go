package faults

import (
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults/ntlm"
)

// AuthSchemes are the proxy authentication schemes wufault can demand, in
// the order a corporate proxy usually offers them.
var AuthSchemes = []string{"negotiate", "ntlm", "basic"}

// AuthRejectModes say when proxy.auth turns a client away.
var AuthRejectModes = []string{
	"always",            // every request gets 407, whatever it carries
	"wrong-credentials", // only the configured users get through
	"scheme-mismatch",   // offers only schemes the client lacks (Kerberos-only for Negotiate)
	"loop",              // challenges again after a valid answer
}

// ProxyAuth demands proxy authentication (407) with Basic, NTLM or Negotiate.
type ProxyAuth struct {
	// Schemes offered, in order (default: negotiate, ntlm, basic).
	Schemes []string `yaml:"schemes,omitempty" json:"schemes,omitempty"`
	// Users who may pass. A user may be written DOMAIN\user for NTLM.
	Users []profile.Credential `yaml:"users,omitempty" json:"users,omitempty"`
	// Realm for Basic (default "wufault").
	Realm string `yaml:"realm,omitempty" json:"realm,omitempty"`
	// Reject is one of AuthRejectModes (default: wrong-credentials when
	// users are set, otherwise always).
	Reject string `yaml:"reject,omitempty" json:"reject,omitempty"`
	// NTLMv1 accepts NTLMv1 responses (plain or with extended session
	// security), as a proxy allowing LmCompatibilityLevel < 3 clients does.
	// Off: only NTLMv2 passes, as on any current Windows server.
	NTLMv1 bool `yaml:"ntlmv1,omitempty" json:"ntlmv1,omitempty"`

	// fallback holds the connections of requests without a connection
	// store (connState), made on first use.
	fallbackOnce sync.Once
	fallback     *connTable
}

func init() {
	Register(Info{Kind: "proxy.auth", Summary: "demands proxy authentication (407) with Basic, NTLM or Negotiate", New: func() Fault { return new(ProxyAuth) },
		Cures: map[string]Cure{"provide-proxy-credentials": {Credential: func(f Fault) (profile.Credential, bool) {
			if u := f.(*ProxyAuth).Users; len(u) > 0 {
				return u[0], true
			}
			return profile.Credential{}, false
		}}}})
}

// Validate checks the parameters.
func (f *ProxyAuth) Validate() error {
	var errs []error
	seen := map[string]bool{}
	for _, s := range f.Schemes {
		if err := oneOf("schemes", s, AuthSchemes); err != nil {
			errs = append(errs, err)
		}
		if seen[s] {
			errs = append(errs, fieldErr("schemes", "%q is listed twice", s))
		}
		seen[s] = true
	}
	for _, u := range f.Users {
		if u.User == "" || strings.ContainsAny(u.User, ":\r\n") {
			errs = append(errs, fieldErr("users", "user %q must be non-empty and contain no colon", u.User))
		}
	}
	if f.Reject != "" {
		errs = append(errs, oneOf("reject", f.Reject, AuthRejectModes))
	}
	if f.RejectMode() == "wrong-credentials" && len(f.Users) == 0 {
		errs = append(errs, fieldErr("users", "reject: wrong-credentials needs at least one user"))
	}
	if strings.ContainsAny(f.Realm, "\"\r\n") {
		errs = append(errs, fieldErr("realm", "must not contain quotes or line breaks"))
	}
	return errors.Join(errs...)
}

// OfferedSchemes returns Schemes or the default list: every scheme, or
// only Negotiate (standing for Kerberos) with reject: scheme-mismatch.
func (f *ProxyAuth) OfferedSchemes() []string {
	switch {
	case len(f.Schemes) > 0:
		return f.Schemes
	case f.Reject == "scheme-mismatch":
		return []string{"negotiate"}
	}
	return AuthSchemes
}

// RealmName returns Realm or its default.
func (f *ProxyAuth) RealmName() string {
	if f.Realm == "" {
		return "wufault"
	}
	return f.Realm
}

// RejectMode returns Reject or its default.
func (f *ProxyAuth) RejectMode() string {
	switch {
	case f.Reject != "":
		return f.Reject
	case len(f.Users) > 0:
		return "wrong-credentials"
	}
	return "always"
}

var _ ProxyHook = (*ProxyAuth)(nil)

// ServeProxy demands proxy authentication from every request it sees,
// CONNECT or plain (reference/wu-codes.md section 4 row 18: 0x8024401B, or
// 0x80072EEF when an NTLM/Negotiate exchange fails). A request without
// credentials gets a 407 listing the offered schemes, one
// Proxy-Authenticate line each. Basic is checked at once; NTLM and
// Negotiate run their legs on the one connection: every 407 is written
// through w with Content-Length: 0, so the connection stays open, and the
// server challenge lives in the connection's store ([ConnValue]). A
// request that passes goes to next without its Proxy-Authorization
// header. Once a connection has authenticated, later requests on it pass
// without credentials, except with reject: loop. Every leg is reported
// with [ReportAuth].
func (f *ProxyAuth) ServeProxy(w http.ResponseWriter, r *http.Request, next http.Handler) {
	ans := f.answer(r, f.connState(r))
	ev := ans.ev
	if !ans.pass {
		ev.Status = ans.status
	}
	ReportAuth(r.Context(), ev)
	r.Header.Del("Proxy-Authorization")
	if ans.pass {
		if ans.final != "" {
			w.Header().Set("Proxy-Authenticate", ans.final)
		}
		next.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	h.Del("Proxy-Authenticate")
	for _, o := range ans.offers {
		h.Add("Proxy-Authenticate", o)
	}
	for _, s := range f.OfferedSchemes() {
		if s != "basic" {
			// RFC 4559 5: the authentication is bound to the connection.
			h.Set("Proxy-Support", "Session-Based-Authentication")
		}
	}
	h.Set("Content-Length", "0")
	w.WriteHeader(ans.status)
}

// authAnswer is what one request gets.
type authAnswer struct {
	pass   bool
	status int      // 407 or 400 when not passing
	offers []string // Proxy-Authenticate lines of the 407
	final  string   // a Proxy-Authenticate line for the passing response (SPNEGO accept-completed)
	ev     AuthEvent
}

// authConn is proxy.auth's state for one client connection.
type authConn struct {
	mu            sync.Mutex
	pending       *ntlmPending // the CHALLENGE awaiting its AUTHENTICATE
	spnegoReplied bool         // the SPNEGO exchange has had its first reply (supportedMech sent)
	authed        bool
	user, scheme  string
}

// ntlmPending is the server side of an NTLM exchange between its legs.
type ntlmPending struct {
	challenge [8]byte
	scheme    string // "ntlm" or "negotiate"
	spnego    bool
}

// knownSchemes are the Proxy-Authorization schemes the journal may name.
var knownSchemes = []string{"basic", "ntlm", "negotiate", "kerberos", "digest", "bearer"}

// maxCredential bounds the base64 text of one Proxy-Authorization value.
var maxCredential = base64.StdEncoding.EncodedLen(ntlm.MaxMessage)

func (f *ProxyAuth) answer(r *http.Request, st *authConn) authAnswer {
	st.mu.Lock()
	defer st.mu.Unlock()
	mode := f.RejectMode()
	hdr := strings.TrimSpace(r.Header.Get("Proxy-Authorization"))
	if hdr == "" {
		st.pending = nil
		if st.authed && mode != "loop" {
			return authAnswer{pass: true, ev: AuthEvent{Scheme: st.scheme, Leg: LegConnection, User: st.user, Outcome: AuthAccepted}}
		}
		return authAnswer{status: http.StatusProxyAuthRequired, offers: f.offerLines(), ev: AuthEvent{Leg: LegOffer, Outcome: AuthChallenged}}
	}
	name, cred, _ := strings.Cut(hdr, " ")
	scheme := strings.ToLower(name)
	cred = strings.TrimSpace(cred)
	if len(scheme) > 16 {
		scheme = scheme[:16]
	}
	leg := LegCredentials
	if scheme != "basic" {
		leg = LegNegotiate
		if st.pending != nil {
			leg = LegAuthenticate
		}
	}
	if !f.offers(scheme) {
		st.pending = nil
		// Only a scheme the proxy knows is named: an unknown one may be
		// bare credentials sent without a scheme (base64 of user:password).
		if !slices.Contains(knownSchemes, scheme) {
			scheme = "unrecognised"
		}
		return f.reject(AuthEvent{Scheme: scheme, Leg: leg, Reason: "scheme not offered"})
	}
	if len(cred) > maxCredential {
		st.pending = nil
		return f.reject(AuthEvent{Scheme: scheme, Leg: leg, Reason: "credentials larger than 64 KiB"})
	}
	raw, err := decodeBase64(cred)
	if err != nil || len(raw) == 0 {
		st.pending = nil
		return f.reject(AuthEvent{Scheme: scheme, Leg: leg, Reason: "malformed base64"})
	}
	switch scheme {
	case "basic":
		return f.basic(st, raw, mode)
	case "ntlm":
		return f.ntlmMessage(st, raw, "ntlm", false, mode)
	}
	return f.negotiate(st, raw, mode)
}

// basic checks RFC 7617 credentials.
func (f *ProxyAuth) basic(st *authConn, raw []byte, mode string) authAnswer {
	ev := AuthEvent{Scheme: "basic", Leg: LegCredentials}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return f.reject(with(ev, "malformed credentials: no colon"))
	}
	ev.User = user
	if mode == "scheme-mismatch" {
		return f.reject(with(ev, "reject: scheme-mismatch"))
	}
	domain, name := splitUser(user)
	valid, why := f.checkUser(domain, name, func(c profile.Credential) bool {
		return subtle.ConstantTimeCompare([]byte(pass), []byte(c.Password.Reveal())) == 1
	})
	return f.finish(st, ev, valid, why, mode)
}

// finish applies the reject mode to a verified answer.
func (f *ProxyAuth) finish(st *authConn, ev AuthEvent, valid bool, why, mode string) authAnswer {
	if valid && why == "" {
		why = "credentials were valid"
	}
	switch {
	case mode == "always":
		return f.reject(with(ev, "reject: always ("+why+")"))
	case !valid:
		return f.reject(with(ev, why))
	case mode == "loop":
		st.authed = false
		return f.reject(with(ev, "reject: loop ("+why+")"))
	}
	st.authed, st.user, st.scheme = true, ev.User, ev.Scheme
	ev.Outcome = AuthAccepted
	return authAnswer{pass: true, ev: ev}
}

// checkUser looks user up among the configured users and checks the
// password with ok; the reason says why not. With no users configured every
// well-formed answer counts as valid (reject: always and loop need none).
func (f *ProxyAuth) checkUser(domain, user string, ok func(profile.Credential) bool) (bool, string) {
	if len(f.Users) == 0 {
		return true, "no users to check"
	}
	known := false
	for _, c := range f.Users {
		if !matchUser(c.User, domain, user) {
			continue
		}
		known = true
		if ok(c) {
			return true, ""
		}
	}
	if !known {
		return false, "unknown user"
	}
	return false, "wrong password"
}

// matchUser compares a configured user ("DOMAIN\user" or "user") with
// the domain and user a client sent: user names case-insensitively, and
// the domains too when both sides name one.
func matchUser(cfg, domain, user string) bool {
	cd, cu := splitUser(cfg)
	return strings.EqualFold(cu, user) && (cd == "" || domain == "" || strings.EqualFold(cd, domain))
}

// splitUser splits "DOMAIN\user" into its parts ("" and s without a
// backslash).
func splitUser(s string) (domain, user string) {
	if d, u, ok := strings.Cut(s, `\`); ok {
		return d, u
	}
	return "", s
}

// offers reports whether scheme is one of the offered schemes.
func (f *ProxyAuth) offers(scheme string) bool {
	for _, s := range f.OfferedSchemes() {
		if s == scheme {
			return true
		}
	}
	return false
}

// offerLines are the Proxy-Authenticate lines of a fresh challenge.
func (f *ProxyAuth) offerLines() []string {
	var out []string
	for _, s := range f.OfferedSchemes() {
		out = append(out, offerLine(s, f.RealmName()))
	}
	return out
}

func offerLine(scheme, realm string) string {
	switch scheme {
	case "negotiate":
		return "Negotiate"
	case "ntlm":
		return "NTLM"
	}
	return `Basic realm="` + realm + `"`
}

// reject answers 407 with a fresh challenge.
func (f *ProxyAuth) reject(ev AuthEvent) authAnswer {
	ev.Outcome = AuthRejected
	return authAnswer{status: http.StatusProxyAuthRequired, offers: f.offerLines(), ev: ev}
}

func with(ev AuthEvent, reason string) AuthEvent {
	ev.Reason = reason
	return ev
}

// decodeBase64 accepts padded and unpadded standard base64.
func decodeBase64(s string) ([]byte, error) {
	if b, err := base64.StdEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
}
