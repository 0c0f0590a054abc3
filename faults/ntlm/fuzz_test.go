package ntlm

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

// FuzzNTLMMessage feeds every NTLM parser the same bytes: none may panic,
// and whatever parses must survive re-encoding and verification.
func FuzzNTLMMessage(f *testing.F) {
	negMsg, _ := ntlmssp.NewNegotiateMessage("DOM", "WS")
	f.Add(negMsg)
	f.Add(specAuthV2)
	f.Add(specAuthV1ESS)
	f.Add(specChallengeV2)
	ch, _ := (&Server{}).Challenge(&Negotiate{Flags: FlagUnicode})
	f.Add(ch.Marshal())
	if a, err := ntlmssp.NewAuthenticateMessage(ch.Marshal(), `D\u`, "p", nil); err == nil {
		f.Add(a)
	}
	f.Add((&Authenticate{Flags: FlagUnicode, User: "u", NTResponse: make([]byte, 60), MIC: make([]byte, 16)}).Marshal())
	f.Add(Signature)
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = PeekType(b)
		if n, err := ParseNegotiate(b); err == nil {
			if _, err := ParseNegotiate(n.Marshal()); err != nil {
				t.Errorf("re-encoded NEGOTIATE does not parse: %v", err)
			}
			if _, err := (&Server{}).Challenge(n); err != nil {
				t.Error(err)
			}
		}
		if c, err := ParseChallenge(b); err == nil && len(c.TargetName) < 1000 {
			if _, err := ParseChallenge(c.Marshal()); err != nil {
				t.Errorf("re-encoded CHALLENGE does not parse: %v", err)
			}
		}
		if a, err := ParseAuthenticate(b); err == nil {
			_, _ = Verify(a, specChallenge, "Password", true)
			_ = a.Anonymous()
			if len(b) < 16<<10 {
				if _, err := ParseAuthenticate(a.Marshal()); err != nil {
					t.Errorf("re-encoded AUTHENTICATE does not parse: %v", err)
				}
			}
		}
		if p, err := ParseAVPairs(b); err == nil {
			if q, err := ParseAVPairs(MarshalAVPairs(p)); err != nil || len(q) != len(p) {
				t.Errorf("AV pairs round trip: %v", err)
			}
		}
	})
}

// FuzzSPNEGO feeds the Negotiate token parser: no panics, and a parsed
// NegTokenResp re-encodes to a token that parses to the same fields.
func FuzzSPNEGO(f *testing.F) {
	negMsg, _ := ntlmssp.NewNegotiateMessage("", "")
	f.Add((&NegTokenInit{MechTypes: []asnOID{OIDMSKerberos, OIDNTLMSSP}, MechToken: negMsg}).Marshal())
	f.Add((&NegTokenResp{NegState: NegStateAcceptIncomplete, SupportedMech: OIDNTLMSSP, ResponseToken: specChallengeV2}).Marshal())
	f.Add((&NegTokenResp{NegState: NegStateAbsent, ResponseToken: specAuthV2, MechListMIC: make([]byte, 16)}).Marshal())
	f.Add((&NegTokenResp{NegState: NegStateReject}).Marshal())
	f.Add(negMsg)
	f.Add([]byte{0x60, 0x82, 0x00, 0x00})
	for _, s := range []string{gssInit, gssAuth} {
		b, _ := base64.StdEncoding.DecodeString(s)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tok, err := ParseToken(b)
		if err != nil {
			return
		}
		switch tok.Kind {
		case TokenResp:
			r := tok.Resp
			if r.NegState < NegStateAbsent || r.NegState > 255 {
				return
			}
			back, err := ParseToken(r.Marshal())
			if err != nil {
				t.Fatalf("re-encoded NegTokenResp does not parse: %v", err)
			}
			if !bytes.Equal(back.Resp.ResponseToken, r.ResponseToken) || !back.Resp.SupportedMech.Equal(r.SupportedMech) {
				t.Errorf("NegTokenResp round trip changed it")
			}
		case TokenInit:
			if tok.Init.MechToken != nil && IsNTLM(tok.Init.MechToken) {
				_, _ = ParseNegotiate(tok.Init.MechToken)
			}
		}
	})
}

type asnOID = asn1.ObjectIdentifier
