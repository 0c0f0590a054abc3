package ntlm

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"testing"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

func TestNegTokenInitRoundTrip(t *testing.T) {
	negMsg, _ := ntlmssp.NewNegotiateMessage("", "")
	in := &NegTokenInit{
		MechTypes: []asn1.ObjectIdentifier{OIDMSKerberos, OIDKerberos, OIDNegoEx, OIDNTLMSSP},
		MechToken: negMsg,
	}
	tok, err := ParseToken(in.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if tok.Kind != TokenInit || len(tok.Init.MechTypes) != 4 || !tok.Init.MechTypes[3].Equal(OIDNTLMSSP) || !bytes.Equal(tok.Init.MechToken, negMsg) {
		t.Errorf("got %+v %+v", tok, tok.Init)
	}
	if !IsKerberos(tok.Init.MechTypes[0]) || IsKerberos(tok.Init.MechTypes[3]) {
		t.Error("IsKerberos")
	}
	if len(tok.Init.MechTypesDER) == 0 || tok.Init.MechTypesDER[0] != 0x30 {
		t.Errorf("MechTypesDER %x", tok.Init.MechTypesDER)
	}
}

func TestNegTokenRespRoundTrip(t *testing.T) {
	for _, in := range []*NegTokenResp{
		{NegState: NegStateAcceptIncomplete, SupportedMech: OIDNTLMSSP, ResponseToken: bytes.Repeat([]byte{1}, 300)},
		{NegState: NegStateAcceptCompleted},
		{NegState: NegStateReject},
		{NegState: NegStateAbsent, ResponseToken: []byte("NTLMSSP\x00\x03"), MechListMIC: make([]byte, 16)},
		{NegState: NegStateAcceptIncomplete, ResponseToken: make([]byte, 70000)},
	} {
		b := in.Marshal()
		tok, err := ParseToken(b)
		if len(in.ResponseToken) > MaxMessage {
			if !errors.Is(err, ErrTooLarge) {
				t.Errorf("oversized token: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%x: %v", b, err)
		}
		r := tok.Resp
		if tok.Kind != TokenResp || r.NegState != in.NegState || !r.SupportedMech.Equal(in.SupportedMech) ||
			!bytes.Equal(r.ResponseToken, in.ResponseToken) || !bytes.Equal(r.MechListMIC, in.MechListMIC) {
			t.Errorf("round trip of %+v: got %+v", in, r)
		}
	}
	// The encoding of accept-completed is fixed by RFC 4178's DER.
	if got := (&NegTokenResp{NegState: NegStateReject}).Marshal(); !bytes.Equal(got, []byte{0xa1, 0x07, 0x30, 0x05, 0xa0, 0x03, 0x0a, 0x01, 0x02}) {
		t.Errorf("reject token %x", got)
	}
}

func TestParseTokenKinds(t *testing.T) {
	krb, _ := asn1.Marshal(OIDKerberos)
	rawKerberos := tlv(classApplication, true, 0, append(krb, 0x01, 0x00, 0x6e, 0x00))
	negMsg, _ := ntlmssp.NewNegotiateMessage("", "")
	for _, tc := range []struct {
		name string
		in   []byte
		kind TokenKind
		err  bool
	}{
		{"raw ntlm", negMsg, TokenNTLM, false},
		{"raw kerberos", rawKerberos, TokenKerberos, false},
		{"bare negTokenInit", tlv(classContext, true, 0, tlv(classUniversal, true, tagSequence, tlv(classContext, true, 0, tlv(classUniversal, true, tagSequence, nil)))), TokenInit, false},
		{"empty", nil, 0, true},
		{"garbage", []byte("hello world"), 0, true},
		{"indefinite length", []byte{0x60, 0x80, 0, 0}, 0, true},
		{"length beyond input", []byte{0x60, 0x84, 0x7f, 0xff, 0xff, 0xff, 0}, 0, true},
		{"five length bytes", []byte{0x60, 0x85, 0, 0, 0, 0, 1, 0}, 0, true},
		{"trailing bytes", append((&NegTokenResp{NegState: 0}).Marshal(), 0), 0, true},
		{"other mechanism", tlv(classApplication, true, 0, []byte{0x06, 0x03, 0x2a, 0x03, 0x04}), 0, true},
		{"init without mechTypes", tlv(classContext, true, 0, tlv(classUniversal, true, tagSequence, tlv(classContext, true, 2, tlv(classUniversal, false, tagOctetString, []byte{1})))), 0, true},
		{"fields out of order", tlv(classContext, true, 1, tlv(classUniversal, true, tagSequence, append(tlv(classContext, true, 2, tlv(classUniversal, false, tagOctetString, nil)), tlv(classContext, true, 0, []byte{0x0a, 0x01, 0x00})...))), 0, true},
		{"negState not enumerated", tlv(classContext, true, 1, tlv(classUniversal, true, tagSequence, tlv(classContext, true, 0, []byte{0x02, 0x01, 0x00}))), 0, true},
		{"high tag", []byte{0x7f, 0x01, 0x00}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tok, err := ParseToken(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", tok)
				}
				if !errors.Is(err, ErrSPNEGO) && !errors.Is(err, ErrTooLarge) {
					t.Errorf("error %v does not wrap ErrSPNEGO", err)
				}
				return
			}
			if err != nil || tok.Kind != tc.kind {
				t.Errorf("got %v, %v; want kind %v", tok, err, tc.kind)
			}
		})
	}
}

func TestTooManyMechs(t *testing.T) {
	in := &NegTokenInit{}
	for range maxMechTypes + 1 {
		in.MechTypes = append(in.MechTypes, OIDNTLMSSP)
	}
	if _, err := ParseToken(in.Marshal()); !errors.Is(err, ErrSPNEGO) {
		t.Errorf("got %v", err)
	}
}

// Tokens curl 7.88 sent through MIT GSS-API with gss-ntlmssp 1.2 (user
// LAB\alice) to wufault's proxy: a real SPNEGO initiator.
const (
	gssInit = "YEgGBisGAQUFAqA+MDygDjAMBgorBgEEAYI3AgIKoioEKE5UTE1TU1AAAQAAABeCCOIAAAAAAAAAAAAAAAAAAAAABgIAAAAAAA8="
	gssAuth = "oYIBVTCCAVGgAwoBAaKCATQEggEwTlRMTVNTUAADAAAAAAAAAFgAAAC0ALQAWAAAAAYABgAMAQAACgAKABIBAAAEAAQAHAEAABAAEAAgAQAAFYKJ4gYCAAAAAAAPAUlRNCbdUjLU0GSK9Lajg+sCrhXlAdJ3iK/18TIbQD4BAQAAAAAAAIVXlcG7ed0BxGA7MQ56iNgAAAAAAQAKAFAAUgBPAFgAWQACAAYATABBAEIAAwAcAHAAcgBvAHgAeQAuAGwAYQBiAC4AdABlAHMAdAAEABAAbABhAGIALgB0AGUAcwB0AAYABAACAAAABwAIAIVXlcG7ed0BCQAcAEgAVABUAFAALwAxADIANwAuADAALgAwAC4AMQAAAAAAAAAAAEwAQQBCAGEAbABpAGMAZQBWAE0A5FwsyL/TEluVlFA5eDJte6MSBBABAAAAJnFtELXyLyYAAAAA"
)

func TestGSSNTLMSSPTokens(t *testing.T) {
	b, _ := base64.StdEncoding.DecodeString(gssInit)
	tok, err := ParseToken(b)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Kind != TokenInit || len(tok.Init.MechTypes) != 1 || !tok.Init.MechTypes[0].Equal(OIDNTLMSSP) {
		t.Fatalf("init %+v", tok.Init)
	}
	if neg, err := ParseNegotiate(tok.Init.MechToken); err != nil || !neg.Flags.Has(FlagUnicode|FlagNTLM|FlagKeyExchange) {
		t.Errorf("NEGOTIATE %+v %v", neg, err)
	}
	b, _ = base64.StdEncoding.DecodeString(gssAuth)
	if tok, err = ParseToken(b); err != nil {
		t.Fatal(err)
	}
	r := tok.Resp
	if tok.Kind != TokenResp || r.NegState != NegStateAcceptIncomplete || len(r.MechListMIC) != 16 {
		t.Fatalf("resp %+v", r)
	}
	a, err := ParseAuthenticate(r.ResponseToken)
	if err != nil {
		t.Fatal(err)
	}
	if a.User != "alice" || a.Domain != "LAB" || a.Workstation != "VM" || len(a.MIC) != 16 || a.Kind() != ResponseV2 || len(a.EncryptedRandomSessionKey) != 16 {
		t.Errorf("AUTHENTICATE user %q domain %q ws %q mic %x kind %v", a.User, a.Domain, a.Workstation, a.MIC, a.Kind())
	}
}
