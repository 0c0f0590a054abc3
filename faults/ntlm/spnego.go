package ntlm

import (
	"encoding/asn1"
	"errors"
	"fmt"
)

// Mechanism OIDs seen in Negotiate tokens.
var (
	OIDSPNEGO      = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 2}
	OIDNTLMSSP     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 10}
	OIDKerberos    = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2}
	OIDMSKerberos  = asn1.ObjectIdentifier{1, 2, 840, 48018, 1, 2, 2} // Windows' historical krb5 OID
	OIDKerberosU2U = asn1.ObjectIdentifier{1, 2, 840, 113554, 1, 2, 2, 3}
	OIDNegoEx      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 2, 30}
)

// IsKerberos reports whether oid names Kerberos (either krb5 OID, or
// user-to-user).
func IsKerberos(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(OIDKerberos) || oid.Equal(OIDMSKerberos) || oid.Equal(OIDKerberosU2U)
}

// ErrSPNEGO is wrapped by every SPNEGO parse error.
var ErrSPNEGO = errors.New("spnego: malformed token")

// maxMechTypes bounds the mechanism list of a NegTokenInit.
const maxMechTypes = 32

// NegState is the negState of a NegTokenResp (RFC 4178 4.2.2).
type NegState int

// The negotiation states; NegStateAbsent stands for a token without one.
const (
	NegStateAbsent           NegState = -1
	NegStateAcceptCompleted  NegState = 0
	NegStateAcceptIncomplete NegState = 1
	NegStateReject           NegState = 2
	NegStateRequestMIC       NegState = 3
)

func (s NegState) String() string {
	switch s {
	case NegStateAbsent:
		return "absent"
	case NegStateAcceptCompleted:
		return "accept-completed"
	case NegStateAcceptIncomplete:
		return "accept-incomplete"
	case NegStateReject:
		return "reject"
	case NegStateRequestMIC:
		return "request-mic"
	}
	return fmt.Sprintf("negState %d", int(s))
}

// NegTokenInit is the initiator's first SPNEGO token.
type NegTokenInit struct {
	MechTypes []asn1.ObjectIdentifier
	// MechTypesDER is the encoded MechTypeList (what a mechListMIC covers).
	MechTypesDER []byte
	MechToken    []byte
	MechListMIC  []byte
}

// NegTokenResp is every later SPNEGO token, in either direction.
type NegTokenResp struct {
	NegState      NegState
	SupportedMech asn1.ObjectIdentifier
	ResponseToken []byte
	MechListMIC   []byte
}

// TokenKind says what an HTTP Negotiate token holds.
type TokenKind int

// The token kinds ParseToken tells apart.
const (
	TokenInit     TokenKind = iota + 1 // SPNEGO NegTokenInit (in a GSS-API InitialContextToken)
	TokenResp                          // SPNEGO NegTokenResp
	TokenNTLM                          // a bare NTLMSSP message (Windows' Negotiate without SPNEGO)
	TokenKerberos                      // a bare Kerberos GSS-API token (AP-REQ)
)

func (k TokenKind) String() string {
	switch k {
	case TokenInit:
		return "negTokenInit"
	case TokenResp:
		return "negTokenResp"
	case TokenNTLM:
		return "ntlmssp"
	case TokenKerberos:
		return "kerberos"
	}
	return fmt.Sprintf("token kind %d", int(k))
}

// Token is one parsed Negotiate token: exactly one of Init and Resp is set
// for TokenInit and TokenResp; Raw is the whole token.
type Token struct {
	Kind TokenKind
	Init *NegTokenInit
	Resp *NegTokenResp
	Raw  []byte
}

// ParseToken reads the token of an HTTP "Negotiate" header (RFC 4559): a
// GSS-API InitialContextToken carrying SPNEGO's NegTokenInit, a bare
// NegTokenResp, a bare NTLMSSP message, or a bare Kerberos token.
func ParseToken(b []byte) (*Token, error) {
	if len(b) > MaxMessage {
		return nil, ErrTooLarge
	}
	if IsNTLM(b) {
		return &Token{Kind: TokenNTLM, Raw: b}, nil
	}
	t, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the token", ErrSPNEGO, len(rest))
	}
	switch {
	case t.class == classApplication && t.tag == 0 && t.constructed:
		// InitialContextToken ::= [APPLICATION 0] IMPLICIT SEQUENCE {
		//     thisMech MechType, innerContextToken ANY }
		oid, inner, err := readOID(t.body)
		if err != nil {
			return nil, err
		}
		if IsKerberos(oid) {
			return &Token{Kind: TokenKerberos, Raw: b}, nil
		}
		if !oid.Equal(OIDSPNEGO) {
			return nil, fmt.Errorf("%w: mechanism %v is not SPNEGO", ErrSPNEGO, oid)
		}
		c, rest, err := readTLV(inner)
		if err != nil {
			return nil, err
		}
		if len(rest) != 0 || c.class != classContext || c.tag != 0 {
			return nil, fmt.Errorf("%w: InitialContextToken holds no negTokenInit", ErrSPNEGO)
		}
		init, err := parseNegTokenInit(c.body)
		if err != nil {
			return nil, err
		}
		return &Token{Kind: TokenInit, Init: init, Raw: b}, nil
	case t.class == classContext && t.tag == 1:
		resp, err := parseNegTokenResp(t.body)
		if err != nil {
			return nil, err
		}
		return &Token{Kind: TokenResp, Resp: resp, Raw: b}, nil
	case t.class == classContext && t.tag == 0:
		// A NegTokenInit without the InitialContextToken wrapper: some
		// implementations send it so on later legs.
		init, err := parseNegTokenInit(t.body)
		if err != nil {
			return nil, err
		}
		return &Token{Kind: TokenInit, Init: init, Raw: b}, nil
	}
	return nil, fmt.Errorf("%w: unexpected outer tag (class %d, tag %d)", ErrSPNEGO, t.class, t.tag)
}

// parseNegTokenInit reads NegTokenInit ::= SEQUENCE { mechTypes [0],
// reqFlags [1] OPTIONAL, mechToken [2] OPTIONAL, mechListMIC [3] OPTIONAL }.
// [MS-SPNG]'s NegTokenInit2 (negHints [3], mechListMIC [4]) reads too.
func parseNegTokenInit(b []byte) (*NegTokenInit, error) {
	fields, err := sequenceFields(b)
	if err != nil {
		return nil, err
	}
	init := &NegTokenInit{}
	seen := false
	for _, f := range fields {
		switch f.tag {
		case 0:
			seen = true
			list, rest, err := readTLV(f.body)
			if err != nil {
				return nil, err
			}
			if len(rest) != 0 || list.tag != tagSequence || list.class != classUniversal {
				return nil, fmt.Errorf("%w: mechTypes is not a SEQUENCE", ErrSPNEGO)
			}
			init.MechTypesDER = f.body
			for body := list.body; len(body) > 0; {
				if len(init.MechTypes) == maxMechTypes {
					return nil, fmt.Errorf("%w: more than %d mechanisms", ErrSPNEGO, maxMechTypes)
				}
				var oid asn1.ObjectIdentifier
				if oid, body, err = readOID(body); err != nil {
					return nil, err
				}
				init.MechTypes = append(init.MechTypes, oid)
			}
		case 2:
			if init.MechToken, err = octetString(f.body); err != nil {
				return nil, fmt.Errorf("mechToken: %w", err)
			}
		case 3, 4:
			// [3] is mechListMIC in RFC 4178 and negHints in NegTokenInit2.
			if mic, err := octetString(f.body); err == nil {
				init.MechListMIC = mic
			}
		}
	}
	if !seen {
		return nil, fmt.Errorf("%w: negTokenInit without mechTypes", ErrSPNEGO)
	}
	return init, nil
}

// parseNegTokenResp reads NegTokenResp ::= SEQUENCE { negState [0]
// ENUMERATED OPTIONAL, supportedMech [1] OPTIONAL, responseToken [2]
// OPTIONAL, mechListMIC [3] OPTIONAL }.
func parseNegTokenResp(b []byte) (*NegTokenResp, error) {
	fields, err := sequenceFields(b)
	if err != nil {
		return nil, err
	}
	resp := &NegTokenResp{NegState: NegStateAbsent}
	for _, f := range fields {
		switch f.tag {
		case 0:
			e, rest, err := readTLV(f.body)
			if err != nil {
				return nil, err
			}
			if len(rest) != 0 || e.class != classUniversal || e.tag != tagEnumerated || len(e.body) != 1 {
				return nil, fmt.Errorf("%w: negState is not a small ENUMERATED", ErrSPNEGO)
			}
			resp.NegState = NegState(e.body[0])
		case 1:
			oid, rest, err := readOID(f.body)
			if err != nil {
				return nil, err
			}
			if len(rest) != 0 {
				return nil, fmt.Errorf("%w: bytes after supportedMech", ErrSPNEGO)
			}
			resp.SupportedMech = oid
		case 2:
			if resp.ResponseToken, err = octetString(f.body); err != nil {
				return nil, fmt.Errorf("responseToken: %w", err)
			}
		case 3:
			if resp.MechListMIC, err = octetString(f.body); err != nil {
				return nil, fmt.Errorf("mechListMIC: %w", err)
			}
		}
	}
	return resp, nil
}

// Marshal encodes the token as the acceptor sends it: [1] NegTokenResp.
func (r *NegTokenResp) Marshal() []byte {
	var seq []byte
	if r.NegState != NegStateAbsent {
		seq = append(seq, tlv(classContext, true, 0, tlv(classUniversal, false, tagEnumerated, []byte{byte(r.NegState)}))...)
	}
	if len(r.SupportedMech) > 0 {
		oid, _ := asn1.Marshal(r.SupportedMech)
		seq = append(seq, tlv(classContext, true, 1, oid)...)
	}
	if r.ResponseToken != nil {
		seq = append(seq, tlv(classContext, true, 2, tlv(classUniversal, false, tagOctetString, r.ResponseToken))...)
	}
	if r.MechListMIC != nil {
		seq = append(seq, tlv(classContext, true, 3, tlv(classUniversal, false, tagOctetString, r.MechListMIC))...)
	}
	return tlv(classContext, true, 1, tlv(classUniversal, true, tagSequence, seq))
}

// Marshal encodes the token as an initiator sends it: a GSS-API
// InitialContextToken for SPNEGO holding [0] NegTokenInit.
func (i *NegTokenInit) Marshal() []byte {
	var mechs []byte
	for _, m := range i.MechTypes {
		oid, _ := asn1.Marshal(m)
		mechs = append(mechs, oid...)
	}
	seq := tlv(classContext, true, 0, tlv(classUniversal, true, tagSequence, mechs))
	if i.MechToken != nil {
		seq = append(seq, tlv(classContext, true, 2, tlv(classUniversal, false, tagOctetString, i.MechToken))...)
	}
	if i.MechListMIC != nil {
		seq = append(seq, tlv(classContext, true, 3, tlv(classUniversal, false, tagOctetString, i.MechListMIC))...)
	}
	oid, _ := asn1.Marshal(OIDSPNEGO)
	inner := append(oid, tlv(classContext, true, 0, tlv(classUniversal, true, tagSequence, seq))...)
	return tlv(classApplication, true, 0, inner)
}

// DER plumbing: just enough of X.690 for SPNEGO, with every length checked
// against the input.

const (
	classUniversal   = 0
	classApplication = 1
	classContext     = 2

	tagOctetString = 4
	tagOID         = 6
	tagEnumerated  = 10
	tagSequence    = 16
)

type element struct {
	class, tag  int
	constructed bool
	body        []byte
}

// readTLV reads one element (low tag numbers, definite lengths of up to
// four length bytes) and returns what follows it.
func readTLV(b []byte) (element, []byte, error) {
	if len(b) < 2 {
		return element{}, nil, fmt.Errorf("%w: truncated element", ErrSPNEGO)
	}
	e := element{class: int(b[0] >> 6), constructed: b[0]&0x20 != 0, tag: int(b[0] & 0x1f)}
	if e.tag == 0x1f {
		return element{}, nil, fmt.Errorf("%w: high tag numbers are not used by SPNEGO", ErrSPNEGO)
	}
	n, hdr := int(b[1]), 2
	switch {
	case n == 0x80:
		return element{}, nil, fmt.Errorf("%w: indefinite length", ErrSPNEGO)
	case n > 0x84:
		return element{}, nil, fmt.Errorf("%w: length of %d bytes", ErrSPNEGO, n&0x7f)
	case n > 0x80:
		k := n & 0x7f
		if len(b) < 2+k {
			return element{}, nil, fmt.Errorf("%w: truncated length", ErrSPNEGO)
		}
		n = 0
		for _, c := range b[2 : 2+k] {
			n = n<<8 | int(c)
		}
		hdr += k
	}
	if n < 0 || n > len(b)-hdr {
		return element{}, nil, fmt.Errorf("%w: element of %d bytes in %d", ErrSPNEGO, n, len(b)-hdr)
	}
	e.body = b[hdr : hdr+n : hdr+n]
	return e, b[hdr+n:], nil
}

// sequenceFields reads a SEQUENCE of context-tagged fields, each tag once
// at most and in increasing order.
func sequenceFields(b []byte) ([]element, error) {
	s, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 || s.class != classUniversal || s.tag != tagSequence || !s.constructed {
		return nil, fmt.Errorf("%w: expected a SEQUENCE", ErrSPNEGO)
	}
	var out []element
	last := -1
	for body := s.body; len(body) > 0; {
		var f element
		if f, body, err = readTLV(body); err != nil {
			return nil, err
		}
		if f.class != classContext || f.tag <= last {
			return nil, fmt.Errorf("%w: unexpected field (class %d, tag %d)", ErrSPNEGO, f.class, f.tag)
		}
		last = f.tag
		out = append(out, f)
	}
	return out, nil
}

func readOID(b []byte) (asn1.ObjectIdentifier, []byte, error) {
	e, rest, err := readTLV(b)
	if err != nil {
		return nil, nil, err
	}
	if e.class != classUniversal || e.tag != tagOID || e.constructed {
		return nil, nil, fmt.Errorf("%w: expected an OID", ErrSPNEGO)
	}
	var oid asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(b[:len(b)-len(rest)], &oid); err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrSPNEGO, err)
	}
	return oid, rest, nil
}

func octetString(b []byte) ([]byte, error) {
	e, rest, err := readTLV(b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 || e.class != classUniversal || e.tag != tagOctetString || e.constructed {
		return nil, fmt.Errorf("%w: expected an OCTET STRING", ErrSPNEGO)
	}
	return e.body, nil
}

// tlv encodes one element with a DER length.
func tlv(class int, constructed bool, tag int, body []byte) []byte {
	id := byte(class<<6 | tag)
	if constructed {
		id |= 0x20
	}
	out := []byte{id}
	switch n := len(body); {
	case n < 0x80:
		out = append(out, byte(n))
	case n <= 0xff:
		out = append(out, 0x81, byte(n))
	case n <= 0xffff:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(out, body...)
}
