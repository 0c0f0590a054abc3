package faults

import (
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults/ntlm"
)

// ntlmMessage runs one NTLM leg: a NEGOTIATE gets a CHALLENGE, an
// AUTHENTICATE is verified against the CHALLENGE this connection was
// sent. scheme is the HTTP scheme it came in ("ntlm" or "negotiate");
// spnego says whether it was wrapped in SPNEGO (answers are wrapped alike).
func (f *ProxyAuth) ntlmMessage(st *authConn, msg []byte, scheme string, spnego bool, mode string) authAnswer {
	detail := ""
	if spnego {
		detail = "spnego"
	}
	pending := st.pending
	st.pending = nil
	leg := LegNegotiate
	if pending != nil {
		leg = LegAuthenticate
	}
	ev := AuthEvent{Scheme: scheme, Leg: leg, Detail: detail}
	t, err := ntlm.PeekType(msg)
	if err != nil {
		return f.reject(with(ev, reason(err)))
	}
	switch t {
	case ntlm.TypeNegotiate:
		ev.Leg = LegNegotiate
		neg, err := ntlm.ParseNegotiate(msg)
		if err != nil {
			return f.reject(with(ev, reason(err)))
		}
		st.authed = false
		if mode == "scheme-mismatch" {
			if spnego {
				return f.spnegoReject(with(ev, "reject: scheme-mismatch (the proxy takes Kerberos only)"))
			}
			return f.reject(with(ev, "reject: scheme-mismatch"))
		}
		ch, err := f.ntlmServer().Challenge(neg)
		if err != nil {
			return authAnswer{status: http.StatusInternalServerError, ev: with(ev, err.Error())}
		}
		st.pending = &ntlmPending{challenge: ch.ServerChallenge, scheme: scheme, spnego: spnego}
		token := ch.Marshal()
		if spnego {
			resp := &ntlm.NegTokenResp{NegState: ntlm.NegStateAcceptIncomplete, ResponseToken: token}
			if !st.spnegoReplied {
				resp.SupportedMech = ntlm.OIDNTLMSSP
				st.spnegoReplied = true
			}
			token = resp.Marshal()
		}
		ev.Outcome = AuthChallenged
		return authAnswer{status: http.StatusProxyAuthRequired, offers: []string{httpScheme(scheme) + " " + base64.StdEncoding.EncodeToString(token)}, ev: ev}
	case ntlm.TypeAuthenticate:
		ev.Leg = LegAuthenticate
		a, err := ntlm.ParseAuthenticate(msg)
		if err == nil {
			ev.User = qualified(a.Domain, a.User)
		}
		switch {
		case pending == nil:
			return f.reject(with(ev, "AUTHENTICATE without a CHALLENGE on this connection"))
		case pending.scheme != scheme:
			return f.reject(with(ev, "scheme changed during the exchange"))
		case err != nil:
			return f.reject(with(ev, reason(err)))
		}
		valid, why, kind := f.checkNTLM(a, pending.challenge)
		ev.Detail = strings.Trim(string(kind)+", "+detail, ", ")
		ans := f.finish(st, ev, valid, why, mode)
		if ans.pass && spnego {
			done := &ntlm.NegTokenResp{NegState: ntlm.NegStateAcceptCompleted}
			ans.final = "Negotiate " + base64.StdEncoding.EncodeToString(done.Marshal())
		}
		return ans
	}
	return f.reject(with(ev, "unexpected "+t.String()+" message"))
}

// negotiate runs one leg of HTTP Negotiate (RFC 4559): SPNEGO around NTLM,
// or NTLM bare as Windows sends it when Kerberos is out of reach. Kerberos
// itself is refused: a lab has no KDC to check a ticket against.
func (f *ProxyAuth) negotiate(st *authConn, raw []byte, mode string) authAnswer {
	ev := AuthEvent{Scheme: "negotiate", Leg: LegNegotiate}
	tok, err := ntlm.ParseToken(raw)
	if err != nil {
		st.pending = nil
		return f.reject(with(ev, reason(err)))
	}
	switch tok.Kind {
	case ntlm.TokenNTLM:
		return f.ntlmMessage(st, tok.Raw, "negotiate", false, mode)
	case ntlm.TokenKerberos:
		st.pending = nil
		ev.Detail = "kerberos"
		return f.spnegoReject(with(ev, "kerberos is not available (no KDC in the lab)"))
	case ntlm.TokenResp:
		if !ntlm.IsNTLM(tok.Resp.ResponseToken) {
			st.pending = nil
			ev.Detail = "spnego"
			return f.reject(with(ev, "negTokenResp without an NTLM token"))
		}
		return f.ntlmMessage(st, tok.Resp.ResponseToken, "negotiate", true, mode)
	}
	// A NegTokenInit starts a new SPNEGO exchange.
	st.pending, st.spnegoReplied, st.authed = nil, false, false
	init := tok.Init
	ev.Detail = "spnego: " + mechNames(init.MechTypes)
	hasNTLM := false
	for _, m := range init.MechTypes {
		hasNTLM = hasNTLM || m.Equal(ntlm.OIDNTLMSSP)
	}
	switch {
	case mode == "scheme-mismatch":
		return f.spnegoReject(with(ev, "reject: scheme-mismatch (the proxy takes Kerberos only)"))
	case !hasNTLM:
		return f.spnegoReject(with(ev, "kerberos is not available (no KDC in the lab) and the client offers no NTLM"))
	case init.MechTypes[0].Equal(ntlm.OIDNTLMSSP) && ntlm.IsNTLM(init.MechToken):
		return f.ntlmMessage(st, init.MechToken, "negotiate", true, mode)
	}
	// NTLM is listed but not first: select it and drop the optimistic
	// token of the client's preferred mechanism (RFC 4178 3.2).
	st.spnegoReplied = true
	resp := &ntlm.NegTokenResp{NegState: ntlm.NegStateAcceptIncomplete, SupportedMech: ntlm.OIDNTLMSSP}
	ev.Outcome = AuthChallenged
	ev.Reason = "ntlm selected over the client's preferred mechanism"
	return authAnswer{status: http.StatusProxyAuthRequired, offers: []string{"Negotiate " + base64.StdEncoding.EncodeToString(resp.Marshal())}, ev: ev}
}

// spnegoReject answers 407 whose Negotiate line carries a SPNEGO
// NegTokenResp with negState reject, followed by the other offered
// schemes.
func (f *ProxyAuth) spnegoReject(ev AuthEvent) authAnswer {
	ans := f.reject(ev)
	token := (&ntlm.NegTokenResp{NegState: ntlm.NegStateReject}).Marshal()
	offers := []string{"Negotiate " + base64.StdEncoding.EncodeToString(token)}
	for _, o := range ans.offers {
		if o != "Negotiate" {
			offers = append(offers, o)
		}
	}
	ans.offers = offers
	return ans
}

// checkNTLM verifies an AUTHENTICATE against the configured users.
func (f *ProxyAuth) checkNTLM(a *ntlm.Authenticate, challenge [8]byte) (bool, string, ntlm.ResponseKind) {
	if a.Anonymous() {
		return false, "anonymous", ntlm.ResponseNone
	}
	var last error
	valid, why := f.checkUser(a.Domain, a.User, func(c profile.Credential) bool {
		_, last = ntlm.Verify(a, challenge, c.Password.Reveal(), f.NTLMv1)
		return last == nil
	})
	if len(f.Users) == 0 {
		// Nothing to check against; a malformed response still fails.
		if k := a.Kind(); k == ntlm.ResponseBad || k == ntlm.ResponseNone {
			return false, reason(ntlm.ErrResponse), k
		}
	}
	if !valid && last != nil && !errors.Is(last, ntlm.ErrPassword) {
		why = reason(last)
	}
	return valid, why, a.Kind()
}

// ntlmServer describes the proxy in its CHALLENGE messages: the NetBIOS
// domain is the domain of the first configured DOMAIN\user, else WUFAULT.
func (f *ProxyAuth) ntlmServer() *ntlm.Server {
	s := &ntlm.Server{}
	for _, c := range f.Users {
		if d, _ := splitUser(c.User); d != "" {
			s.NetBIOSDomain = strings.ToUpper(d)
			s.DNSDomain = strings.ToLower(d) + ".test"
			break
		}
	}
	return s
}

// connState returns the state of r's client connection: from the
// connection's store when the proxy set one up ([WithConnID]), otherwise
// from this fault's own bounded table keyed by the client's address.
func (f *ProxyAuth) connState(r *http.Request) *authConn {
	if st, ok := ConnValue(r.Context(), f, func() *authConn { return new(authConn) }); ok {
		return st
	}
	f.fallbackOnce.Do(func() { f.fallback = &connTable{max: maxFallbackConns, m: map[string]*authConn{}} })
	return f.fallback.get(r.RemoteAddr)
}

// maxFallbackConns bounds a fault's table of connections without a store.
const maxFallbackConns = 4096

// connTable holds per-connection state for requests whose context has no
// connection store, for one fault (one world's rule): client addresses
// identify live connections. Past max entries it forgets the oldest
// first, so which state a client loses does not depend on map order.
type connTable struct {
	mu    sync.Mutex
	max   int
	m     map[string]*authConn
	order []string // insertion order, oldest first
}

func (t *connTable) get(addr string) *authConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st, ok := t.m[addr]; ok {
		return st
	}
	if len(t.order) >= t.max {
		delete(t.m, t.order[0])
		t.order = append(t.order[:0], t.order[1:]...)
	}
	st := new(authConn)
	t.m[addr] = st
	t.order = append(t.order, addr)
	return st
}

// httpScheme is the scheme's name as HTTP headers spell it.
func httpScheme(s string) string {
	if s == "negotiate" {
		return "Negotiate"
	}
	return "NTLM"
}

func qualified(domain, user string) string {
	if domain == "" {
		return user
	}
	return domain + `\` + user
}

// reason turns a parse or verification error into a journal reason.
func reason(err error) string {
	switch {
	case errors.Is(err, ntlm.ErrPassword):
		return "wrong password"
	case errors.Is(err, ntlm.ErrV1Refused):
		return "ntlmv1 response refused (ntlmv1: false)"
	case errors.Is(err, ntlm.ErrAnonymous):
		return "anonymous"
	}
	return "malformed: " + strings.TrimPrefix(strings.TrimPrefix(err.Error(), "ntlm: "), "spnego: ")
}

// mechNames names SPNEGO mechanisms for the journal.
func mechNames(oids []asn1.ObjectIdentifier) string {
	var out []string
	for _, o := range oids {
		switch {
		case o.Equal(ntlm.OIDNTLMSSP):
			out = append(out, "ntlm")
		case ntlm.IsKerberos(o):
			out = append(out, "kerberos")
		case o.Equal(ntlm.OIDNegoEx):
			out = append(out, "negoex")
		default:
			out = append(out, o.String())
		}
	}
	return strings.Join(out, ",")
}
