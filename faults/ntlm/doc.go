// Package ntlm is the server side of NTLM ([MS-NLMP]) and of SPNEGO
// (RFC 4178, [MS-SPNG]) as far as an authenticating HTTP proxy needs them:
// it parses NEGOTIATE and AUTHENTICATE messages, builds CHALLENGE messages
// with a fresh server challenge and target information, verifies NTLMv2 (and,
// when allowed, NTLMv1) responses against a known password, and reads and
// writes the SPNEGO tokens (NegTokenInit, NegTokenResp) that carry NTLM
// inside HTTP's Negotiate scheme.
//
// Everything here is a pure function of its inputs: no network, no state
// beyond what the caller keeps between the legs of one exchange. Every
// parser bounds its input ([MaxMessage]), checks every offset and length
// against the message, and returns an error, never panics, on hostile
// input; each has a native fuzz target.
//
// Not implemented: NTLM signing and sealing after authentication, the MIC
// of the AUTHENTICATE message (it is parsed, not checked: the NTProofStr
// already proves the password), LM responses, and Kerberos (no KDC in a
// lab). A Kerberos token is recognised so that callers can reject it.
package ntlm
