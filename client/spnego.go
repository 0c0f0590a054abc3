package client

import (
	"encoding/asn1"
	"errors"
	"fmt"
)

// SPNEGO (RFC 4178) as Windows' Negotiate package speaks it over HTTP
// (RFC 4559) with NTLM as the only mechanism: the first token is a
// GSS-API InitialContextToken holding a NegTokenInit that offers NTLMSSP
// and carries the NTLM NEGOTIATE message; later tokens are bare
// NegTokenResp values carrying the NTLM CHALLENGE (from the proxy) and
// AUTHENTICATE (from the client) messages.

var (
	oidSPNEGO = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}
	oidNTLM   = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
)

// tlv encodes one DER element with a definite length.
func tlv(tag byte, content []byte) []byte {
	n := len(content)
	var l []byte
	switch {
	case n < 0x80:
		l = []byte{byte(n)}
	case n < 0x100:
		l = []byte{0x81, byte(n)}
	case n < 0x10000:
		l = []byte{0x82, byte(n >> 8), byte(n)}
	default:
		l = []byte{0x83, byte(n >> 16), byte(n >> 8), byte(n)}
	}
	out := make([]byte, 0, 1+len(l)+n)
	out = append(out, tag)
	out = append(out, l...)
	return append(out, content...)
}

func mustOID(o asn1.ObjectIdentifier) []byte {
	b, err := asn1.Marshal(o)
	if err != nil {
		panic(err) // constant OIDs
	}
	return b
}

// spnegoInit wraps an NTLM NEGOTIATE message in the initial SPNEGO token.
func spnegoInit(ntlmNegotiate []byte) []byte {
	mechTypes := tlv(0xa0, tlv(0x30, mustOID(oidNTLM)))
	mechToken := tlv(0xa2, tlv(0x04, ntlmNegotiate))
	negTokenInit := tlv(0xa0, tlv(0x30, append(mechTypes, mechToken...)))
	return tlv(0x60, append(mustOID(oidSPNEGO), negTokenInit...))
}

// spnegoResp wraps an NTLM message in a NegTokenResp.
func spnegoResp(ntlmMessage []byte) []byte {
	return tlv(0xa1, tlv(0x30, tlv(0xa2, tlv(0x04, ntlmMessage))))
}

// SPNEGO negotiation states (NegTokenResp negState).
const (
	negAcceptCompleted  = 0
	negAcceptIncomplete = 1
	negReject           = 2
)

// spnegoToken is what a SPNEGO token carries.
type spnegoToken struct {
	State int                   // negState of a NegTokenResp; -1 when absent
	Mech  asn1.ObjectIdentifier // supportedMech, or the first mechType of a NegTokenInit
	Token []byte                // responseToken or mechToken
}

// parseSPNEGO reads an InitialContextToken (NegTokenInit) or a bare
// NegTokenInit/NegTokenResp.
func parseSPNEGO(b []byte) (spnegoToken, error) {
	t := spnegoToken{State: -1}
	var outer asn1.RawValue
	rest, err := asn1.Unmarshal(b, &outer)
	if err != nil {
		return t, fmt.Errorf("spnego: %w", err)
	}
	if len(rest) > 0 {
		return t, errors.New("spnego: trailing data")
	}
	if outer.Class == asn1.ClassApplication && outer.Tag == 0 {
		var oid asn1.ObjectIdentifier
		inner, err := asn1.Unmarshal(outer.Bytes, &oid)
		if err != nil {
			return t, fmt.Errorf("spnego: initial token: %w", err)
		}
		if !oid.Equal(oidSPNEGO) {
			return t, fmt.Errorf("spnego: initial token for mechanism %v", oid)
		}
		if _, err := asn1.Unmarshal(inner, &outer); err != nil {
			return t, fmt.Errorf("spnego: initial token: %w", err)
		}
	}
	if outer.Class != asn1.ClassContextSpecific || (outer.Tag != 0 && outer.Tag != 1) {
		return t, fmt.Errorf("spnego: unexpected token [%d %d]", outer.Class, outer.Tag)
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(outer.Bytes, &seq); err != nil || seq.Tag != asn1.TagSequence {
		return t, errors.New("spnego: token is not a sequence")
	}
	for body := seq.Bytes; len(body) > 0; {
		var f asn1.RawValue
		body, err = asn1.Unmarshal(body, &f)
		if err != nil {
			return t, fmt.Errorf("spnego: field: %w", err)
		}
		if f.Class != asn1.ClassContextSpecific {
			continue
		}
		switch {
		case outer.Tag == 0 && f.Tag == 0: // mechTypes
			var mechs []asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(f.Bytes, &mechs); err == nil && len(mechs) > 0 {
				t.Mech = mechs[0]
			}
		case outer.Tag == 1 && f.Tag == 0: // negState
			var st asn1.Enumerated
			if _, err := asn1.Unmarshal(f.Bytes, &st); err == nil {
				t.State = int(st)
			}
		case outer.Tag == 1 && f.Tag == 1: // supportedMech
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(f.Bytes, &oid); err == nil {
				t.Mech = oid
			}
		case f.Tag == 2: // mechToken / responseToken
			var tok []byte
			if _, err := asn1.Unmarshal(f.Bytes, &tok); err != nil {
				return t, fmt.Errorf("spnego: token: %w", err)
			}
			t.Token = tok
		}
	}
	return t, nil
}
