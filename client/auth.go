package client

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"sync"

	"github.com/Azure/go-ntlmssp"
)

// Credentials are what the client answers a proxy's 407 with. User may be
// DOMAIN\user for NTLM.
type Credentials struct {
	User     string
	Password string
}

// Proxy authentication schemes the client may be able to answer.
const (
	SchemeBasic     = "basic"
	SchemeNTLM      = "ntlm"
	SchemeNegotiate = "negotiate" // SPNEGO with NTLM inside
	SchemeKerberos  = "kerberos"  // a Kerberos-only client: no NTLM, and no KDC in the lab
)

// authPreference is the order WinHTTP prefers the schemes a proxy offers:
// Negotiate, then NTLM, then Basic.
var authPreference = []string{SchemeNegotiate, SchemeNTLM, SchemeBasic}

// errNoAnswer means the client cannot answer the 407 (no credentials, no
// scheme in common, or its Basic credentials were refused): the 407
// stands and WUA reports it (0x8024401B).
var errNoAnswer = errors.New("no answer to the proxy's challenge")

// authenticator holds the client's proxy credentials and schemes and a
// session per proxy.
type authenticator struct {
	creds       *Credentials
	schemes     []string
	workstation string

	mu       sync.Mutex
	sessions map[string]*proxySession
}

func newAuthenticator(creds *Credentials, schemes []string) *authenticator {
	return &authenticator{creds: creds, schemes: schemes, workstation: "WUFAULT-CLIENT", sessions: map[string]*proxySession{}}
}

// session returns the authentication state for a proxy; it lives as long
// as the transport (Basic credentials, once accepted, are sent with every
// later request, as WinHTTP does).
func (a *authenticator) session(proxy string) *proxySession {
	a.mu.Lock()
	defer a.mu.Unlock()
	s, ok := a.sessions[proxy]
	if !ok {
		s = &proxySession{a: a}
		a.sessions[proxy] = s
	}
	s.mu.Lock()
	s.step, s.pending = stepNone, ""
	s.mu.Unlock()
	return s
}

// Steps of an exchange.
const (
	stepNone      = iota // nothing sent for this request
	stepNegotiate        // NTLM NEGOTIATE sent, waiting for the CHALLENGE
	stepFinal            // credentials (Basic) or AUTHENTICATE sent
)

// proxySession is the exchange with one proxy.
type proxySession struct {
	a *authenticator

	mu      sync.Mutex
	scheme  string
	step    int
	pending string // header value for the next leg
	basicOK string // a Basic header the proxy accepted
}

// header is the Proxy-Authorization value to send now.
func (s *proxySession) header() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != "" {
		return s.pending
	}
	return s.basicOK
}

// succeeded records that the proxy accepted the last leg.
func (s *proxySession) succeeded() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scheme == SchemeBasic && s.step == stepFinal {
		s.basicOK = s.pending
	}
	s.step, s.pending = stepNone, ""
}

// challenge prepares the answer to a 407 carrying the Proxy-Authenticate
// values. It returns errNoAnswer when the client has nothing to answer
// with and ErrLoginFailure when a connection-based exchange was refused.
func (s *proxySession) challenge(values []string, leg int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	offers := parseChallenges(values)
	a := s.a
	if leg >= maxAuthLegs {
		return s.refused()
	}
	switch s.step {
	case stepNone:
		if s.basicOK != "" {
			// Pre-emptive Basic credentials no longer pass.
			s.basicOK = ""
			return errNoAnswer
		}
		if a.creds == nil {
			return errNoAnswer
		}
		s.scheme = ""
		for _, p := range authPreference {
			if _, offered := offers[p]; offered && slices.Contains(a.schemes, p) {
				s.scheme = p
				break
			}
		}
		switch s.scheme {
		case SchemeBasic:
			s.pending = "Basic " + base64.StdEncoding.EncodeToString([]byte(a.creds.User+":"+a.creds.Password))
			s.step = stepFinal
		case SchemeNTLM, SchemeNegotiate:
			// The NEGOTIATE names the domain of a DOMAIN\user name.
			domain, _, found := strings.Cut(a.creds.User, `\`)
			if !found {
				domain = ""
			}
			msg, err := ntlmssp.NewNegotiateMessage(domain, a.workstation)
			if err != nil {
				return errors.Join(ErrLoginFailure, err)
			}
			s.pending = s.ntlmHeader(msg, spnegoInit)
			s.step = stepNegotiate
		default:
			return errNoAnswer
		}
		return nil
	case stepNegotiate:
		tok, ok := offers[s.scheme]
		if !ok || len(tok) == 0 {
			// The proxy answered the NEGOTIATE with a fresh challenge
			// and no token, or a SPNEGO reject: it refused the mechanism
			// (a Kerberos-only proxy) before any credential was sent. The
			// client cannot go on and the 407 stands (0x8024401B).
			s.step, s.pending = stepNone, ""
			return errNoAnswer
		}
		chal := tok
		if s.scheme == SchemeNegotiate && !bytes.HasPrefix(tok, []byte("NTLMSSP\x00")) {
			st, err := parseSPNEGO(tok)
			if err != nil {
				return errors.Join(ErrLoginFailure, err)
			}
			if st.State == negReject || len(st.Token) == 0 {
				s.step, s.pending = stepNone, ""
				return errNoAnswer
			}
			chal = st.Token
		}
		auth, err := ntlmssp.NewAuthenticateMessage(chal, s.a.creds.User, s.a.creds.Password, nil)
		if err != nil {
			return errors.Join(ErrLoginFailure, err)
		}
		s.pending = s.ntlmHeader(auth, spnegoResp)
		s.step = stepFinal
		return nil
	default:
		return s.refused()
	}
}

// ntlmHeader is the Proxy-Authorization value carrying an NTLM message:
// as it is for NTLM, wrapped in SPNEGO by wrap for Negotiate.
func (s *proxySession) ntlmHeader(msg []byte, wrap func([]byte) []byte) string {
	if s.scheme == SchemeNegotiate {
		return "Negotiate " + base64.StdEncoding.EncodeToString(wrap(msg))
	}
	return "NTLM " + base64.StdEncoding.EncodeToString(msg)
}

// refused ends an exchange the proxy did not accept: a connection-based
// one is a login failure (WinHTTP 12015, [KB902093]); refused Basic
// credentials leave the 407 standing.
func (s *proxySession) refused() error {
	scheme := s.scheme
	s.step, s.pending = stepNone, ""
	if scheme == SchemeNTLM || scheme == SchemeNegotiate {
		return ErrLoginFailure
	}
	return errNoAnswer
}

// parseChallenges reads Proxy-Authenticate values into scheme (lower
// case) → decoded token (nil for Basic and for a bare scheme).
func parseChallenges(values []string) map[string][]byte {
	out := map[string][]byte{}
	for _, v := range values {
		for _, part := range splitChallenges(v) {
			scheme, rest, _ := strings.Cut(strings.TrimSpace(part), " ")
			scheme = strings.ToLower(scheme)
			if scheme == "" {
				continue
			}
			rest = strings.TrimSpace(rest)
			var tok []byte
			if (scheme == SchemeNTLM || scheme == SchemeNegotiate) && rest != "" {
				if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
					tok = b
				}
			}
			if _, seen := out[scheme]; !seen || tok != nil {
				out[scheme] = tok
			}
		}
	}
	return out
}

// splitChallenges splits one header value holding several challenges
// ("Negotiate, NTLM, Basic realm=\"x\""): a comma starts a new challenge
// when what follows is a bare scheme token.
func splitChallenges(v string) []string {
	var out []string
	start := 0
	inQuote := false
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if inQuote {
				continue
			}
			next := strings.TrimSpace(v[i+1:])
			tok, _, _ := strings.Cut(next, " ")
			if tok != "" && !strings.Contains(tok, "=") {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}
