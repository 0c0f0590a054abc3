package ntlm

import (
	"crypto/des"
	"crypto/hmac"
	"crypto/md5"
	"fmt"
	"strings"

	"golang.org/x/crypto/md4" //lint:ignore SA1019 the NT hash is MD4 by definition ([MS-NLMP] 3.3.1): a verifier of NTLM has no other choice
)

// ResponseKind is the kind of NT response an AUTHENTICATE carries.
type ResponseKind string

// The response kinds Verify knows.
const (
	ResponseNone  ResponseKind = "none"       // no NT response (anonymous or LM only)
	ResponseV1    ResponseKind = "ntlmv1"     // 24 bytes, DESL(NTOWFv1, server challenge)
	ResponseV1ESS ResponseKind = "ntlmv1-ess" // 24 bytes with extended session security (NTLM2 session response)
	ResponseV2    ResponseKind = "ntlmv2"     // NTProofStr ‖ temp
	ResponseBad   ResponseKind = "malformed"  // any other length
)

// minV2Response is NTProofStr (16) plus the fixed part of temp: RespType,
// HiRespType, Reserved1..2 (8), TimeStamp (8), ChallengeFromClient (8),
// Reserved3 (4).
const minV2Response = 16 + 28

// Kind classifies the NT response by its length and the negotiated flags.
func (a *Authenticate) Kind() ResponseKind {
	switch n := len(a.NTResponse); {
	case n == 0:
		return ResponseNone
	case n == 24 && a.Flags.Has(FlagExtendedSessionSecurity):
		return ResponseV1ESS
	case n == 24:
		return ResponseV1
	case n >= minV2Response:
		return ResponseV2
	}
	return ResponseBad
}

// NTOWFv1 is MD4 of the UTF-16LE password ([MS-NLMP] 3.3.1), the NT hash.
func NTOWFv1(password string) []byte {
	h := md4.New()
	h.Write(utf16le(password))
	return h.Sum(nil)
}

// NTOWFv2 is HMAC-MD5(NTOWFv1(password), UTF16LE(UPPER(user) ‖ domain))
// ([MS-NLMP] 3.3.2). The domain is used as the client sent it.
func NTOWFv2(password, user, domain string) []byte {
	return hmacMD5(NTOWFv1(password), utf16le(strings.ToUpper(user)+domain))
}

// Verify checks the NT response of a against password for the user and
// domain the message names, with the server challenge of the exchange.
// NTLMv1 responses (plain or with extended session security) are accepted
// only with allowV1. It returns the kind of response and nil, or an error
// wrapping ErrAnonymous, ErrNoResponse, ErrResponse, ErrV1Refused or
// ErrPassword.
func Verify(a *Authenticate, serverChallenge [8]byte, password string, allowV1 bool) (ResponseKind, error) {
	if a.Anonymous() {
		return ResponseNone, ErrAnonymous
	}
	kind := a.Kind()
	switch kind {
	case ResponseNone:
		return kind, ErrNoResponse
	case ResponseBad:
		return kind, fmt.Errorf("%w: %d bytes", ErrResponse, len(a.NTResponse))
	case ResponseV2:
		key := NTOWFv2(password, a.User, a.Domain)
		proof := hmacMD5(key, serverChallenge[:], a.NTResponse[16:])
		if !hmac.Equal(proof, a.NTResponse[:16]) {
			return kind, ErrPassword
		}
		return kind, nil
	}
	if !allowV1 {
		return kind, ErrV1Refused
	}
	data := serverChallenge[:]
	if kind == ResponseV1ESS {
		if len(a.LMResponse) < 8 {
			return kind, fmt.Errorf("%w: ntlmv1-ess without a client challenge", ErrResponse)
		}
		sum := md5.Sum(append(append([]byte{}, serverChallenge[:]...), a.LMResponse[:8]...))
		data = sum[:8]
	}
	if !hmac.Equal(DESL(NTOWFv1(password), data), a.NTResponse) {
		return kind, ErrPassword
	}
	return kind, nil
}

// DESL is the NTLMv1 response function ([MS-NLMP] 6): the 16-byte key,
// padded to 21 bytes, as three 7-byte DES keys, each encrypting the 8-byte
// data.
func DESL(key, data []byte) []byte {
	k := make([]byte, 21)
	copy(k, key)
	out := make([]byte, 0, 24)
	for i := range 3 {
		c, err := des.NewCipher(desKey(k[7*i : 7*i+7]))
		if err != nil { // unreachable: the key is always 8 bytes
			panic(err)
		}
		block := make([]byte, 8)
		c.Encrypt(block, data[:8])
		out = append(out, block...)
	}
	return out
}

// desKey spreads 56 key bits over 8 bytes, leaving each low (parity) bit 0.
func desKey(k []byte) []byte {
	return []byte{
		k[0],
		k[0]<<7 | k[1]>>1,
		k[1]<<6 | k[2]>>2,
		k[2]<<5 | k[3]>>3,
		k[3]<<4 | k[4]>>4,
		k[4]<<3 | k[5]>>5,
		k[5]<<2 | k[6]>>6,
		k[6] << 1,
	}
}

func hmacMD5(key []byte, data ...[]byte) []byte {
	m := hmac.New(md5.New, key)
	for _, d := range data {
		m.Write(d)
	}
	return m.Sum(nil)
}
