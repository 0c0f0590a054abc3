package ntlm

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf16"
)

// MaxMessage bounds every message this package parses: NTLM messages from
// real clients are a few hundred bytes; anything beyond 64 KiB is hostile.
const MaxMessage = 64 << 10

// MaxAVPairs bounds the attribute-value pairs of one target information
// list. Windows sends about ten.
const MaxAVPairs = 64

// MessageType is the NTLM message type field ([MS-NLMP] 2.2.1).
type MessageType uint32

// The three NTLM messages, in the order an exchange sends them.
const (
	TypeNegotiate    MessageType = 1 // client → server
	TypeChallenge    MessageType = 2 // server → client
	TypeAuthenticate MessageType = 3 // client → server
)

func (t MessageType) String() string {
	switch t {
	case TypeNegotiate:
		return "NEGOTIATE"
	case TypeChallenge:
		return "CHALLENGE"
	case TypeAuthenticate:
		return "AUTHENTICATE"
	}
	return fmt.Sprintf("type %d", uint32(t))
}

// Signature starts every NTLM message.
var Signature = []byte("NTLMSSP\x00")

// Errors returned by the parsers and by Verify. Parse errors wrap one of
// the first six; callers test with errors.Is.
var (
	ErrTooLarge   = errors.New("ntlm: message larger than 64 KiB")
	ErrTruncated  = errors.New("ntlm: message truncated")
	ErrSignature  = errors.New("ntlm: not an NTLMSSP message")
	ErrType       = errors.New("ntlm: unexpected message type")
	ErrField      = errors.New("ntlm: field points outside the message")
	ErrAVPairs    = errors.New("ntlm: malformed target information")
	ErrEncoding   = errors.New("ntlm: malformed string")
	ErrAnonymous  = errors.New("ntlm: anonymous authentication")
	ErrNoResponse = errors.New("ntlm: no NT response")
	ErrResponse   = errors.New("ntlm: malformed NT response")
	ErrV1Refused  = errors.New("ntlm: ntlmv1 response refused")
	ErrPassword   = errors.New("ntlm: response does not match the password")
)

// Flags are the NEGOTIATE flags ([MS-NLMP] 2.2.2.5).
type Flags uint32

// The negotiate flags, by their [MS-NLMP] names.
const (
	FlagUnicode                 Flags  = 0x00000001 // A: NTLMSSP_NEGOTIATE_UNICODE
	FlagOEM                     Flags  = 0x00000002 // B: NTLM_NEGOTIATE_OEM
	FlagRequestTarget           Flags  = 0x00000004 // C: NTLMSSP_REQUEST_TARGET
	FlagSign                    Flags  = 0x00000010 // D: NTLMSSP_NEGOTIATE_SIGN
	FlagSeal                    Flags  = 0x00000020 // E: NTLMSSP_NEGOTIATE_SEAL
	FlagDatagram                Flags  = 0x00000040 // F: NTLMSSP_NEGOTIATE_DATAGRAM
	FlagLMKey                   Flags  = 0x00000080 // G: NTLMSSP_NEGOTIATE_LM_KEY
	FlagNTLM                    Flags  = 0x00000200 // H: NTLMSSP_NEGOTIATE_NTLM
	FlagAnonymous               Flags  = 0x00000800 // J: anonymous
	FlagOEMDomainSupplied       Flags  = 0x00001000 // K: NTLMSSP_NEGOTIATE_OEM_DOMAIN_SUPPLIED
	FlagOEMWorkstationSupplied  Flags  = 0x00002000 // L: NTLMSSP_NEGOTIATE_OEM_WORKSTATION_SUPPLIED
	FlagAlwaysSign              Flags  = 0x00008000 // M: NTLMSSP_NEGOTIATE_ALWAYS_SIGN
	FlagTargetTypeDomain        Flags  = 0x00010000 // N: NTLMSSP_TARGET_TYPE_DOMAIN
	FlagTargetTypeServer        Flags  = 0x00020000 // O: NTLMSSP_TARGET_TYPE_SERVER
	FlagExtendedSessionSecurity Flags  = 0x00080000 // P: NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY
	FlagIdentify                Flags  = 0x00100000 // Q: NTLMSSP_NEGOTIATE_IDENTIFY
	FlagRequestNonNTSessionKey  Flags  = 0x00400000 // R: NTLMSSP_REQUEST_NON_NT_SESSION_KEY
	FlagTargetInfo              Flags  = 0x00800000 // S: NTLMSSP_NEGOTIATE_TARGET_INFO
	FlagVersion                 Flags  = 0x02000000 // T: NTLMSSP_NEGOTIATE_VERSION
	Flag128                     Flags  = 0x20000000 // U: NTLMSSP_NEGOTIATE_128
	FlagKeyExchange             Flags  = 0x40000000 // V: NTLMSSP_NEGOTIATE_KEY_EXCH
	Flag56                      Flags  = 0x80000000 // W: NTLMSSP_NEGOTIATE_56
	flagsEchoed                        = FlagSign | FlagSeal | FlagAlwaysSign | FlagExtendedSessionSecurity | FlagIdentify | FlagVersion | Flag128 | FlagKeyExchange | Flag56
	versionLen                         = 8
	challengeLen                       = 8
	micLen                             = 16
	authenticateHeader                 = 64
	authenticateHeaderVersion          = authenticateHeader + versionLen
	authenticateHeaderMIC              = authenticateHeaderVersion + micLen
	challengeHeader                    = 48 + versionLen
	negotiateHeader                    = 32
	negotiateHeaderVersion             = negotiateHeader + versionLen
	filetimeUnixEpoch           uint64 = 116444736000000000 // 100 ns ticks from 1601 to 1970
)

// Has reports whether every flag of g is set in f.
func (f Flags) Has(g Flags) bool { return f&g == g }

// Version is the 8-byte VERSION structure ([MS-NLMP] 2.2.2.10).
type Version [versionLen]byte

// WindowsVersion is what wufault's proxy says it runs: Windows 10 build
// 19041, NTLM revision 15.
var WindowsVersion = Version{10, 0, 0x61, 0x4a, 0, 0, 0, 0x0f}

// AVID identifies one attribute-value pair of target information
// ([MS-NLMP] 2.2.2.1).
type AVID uint16

// The AV pair ids.
const (
	AvEOL             AVID = 0
	AvNbComputerName  AVID = 1
	AvNbDomainName    AVID = 2
	AvDNSComputerName AVID = 3
	AvDNSDomainName   AVID = 4
	AvDNSTreeName     AVID = 5
	AvFlags           AVID = 6
	AvTimestamp       AVID = 7
	AvSingleHost      AVID = 8
	AvTargetName      AVID = 9
	AvChannelBindings AVID = 10
)

// AVPair is one attribute-value pair.
type AVPair struct {
	ID    AVID
	Value []byte
}

// ParseAVPairs reads a target information list up to its MsvAvEOL; bytes
// after it (NTLMv2 responses pad with zeros) are ignored.
func ParseAVPairs(b []byte) ([]AVPair, error) {
	if len(b) > MaxMessage {
		return nil, ErrTooLarge
	}
	var out []AVPair
	for {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: no MsvAvEOL", ErrAVPairs)
		}
		id, n := AVID(le16(b)), int(le16(b[2:]))
		b = b[4:]
		if id == AvEOL {
			return out, nil
		}
		if n > len(b) {
			return nil, fmt.Errorf("%w: pair %d longer than the list", ErrAVPairs, id)
		}
		if len(out) == MaxAVPairs {
			return nil, fmt.Errorf("%w: more than %d pairs", ErrAVPairs, MaxAVPairs)
		}
		out = append(out, AVPair{ID: id, Value: b[:n:n]})
		b = b[n:]
	}
}

// MarshalAVPairs writes pairs followed by MsvAvEOL.
func MarshalAVPairs(pairs []AVPair) []byte {
	var b []byte
	for _, p := range pairs {
		b = binary.LittleEndian.AppendUint16(b, uint16(p.ID))
		b = binary.LittleEndian.AppendUint16(b, uint16(len(p.Value)))
		b = append(b, p.Value...)
	}
	return append(b, 0, 0, 0, 0)
}

// Negotiate is the client's first message.
type Negotiate struct {
	Flags Flags
	// Domain and Workstation are the client machine's, OEM-encoded, present
	// only with FlagOEMDomainSupplied / FlagOEMWorkstationSupplied.
	Domain, Workstation string
	Version             Version
}

// PeekType checks the signature and returns the message type.
func PeekType(b []byte) (MessageType, error) {
	if len(b) > MaxMessage {
		return 0, ErrTooLarge
	}
	if len(b) < 12 {
		return 0, ErrTruncated
	}
	if !bytes.Equal(b[:8], Signature) {
		return 0, ErrSignature
	}
	return MessageType(le32(b[8:])), nil
}

// IsNTLM reports whether b starts like an NTLM message.
func IsNTLM(b []byte) bool { return bytes.HasPrefix(b, Signature) }

func expect(b []byte, want MessageType, min int) error {
	t, err := PeekType(b)
	if err != nil {
		return err
	}
	if t != want {
		return fmt.Errorf("%w: got %v, want %v", ErrType, t, want)
	}
	if len(b) < min {
		return fmt.Errorf("%w: %v of %d bytes", ErrTruncated, t, len(b))
	}
	return nil
}

// ParseNegotiate reads a NEGOTIATE message. Only its first 16 bytes are
// mandatory (old clients send no payload fields).
func ParseNegotiate(b []byte) (*Negotiate, error) {
	if err := expect(b, TypeNegotiate, 16); err != nil {
		return nil, err
	}
	n := &Negotiate{Flags: Flags(le32(b[12:]))}
	if len(b) >= negotiateHeader {
		if n.Flags.Has(FlagOEMDomainSupplied) {
			d, err := field(b, 16, "domain")
			if err != nil {
				return nil, err
			}
			n.Domain = oemString(d)
		}
		if n.Flags.Has(FlagOEMWorkstationSupplied) {
			w, err := field(b, 24, "workstation")
			if err != nil {
				return nil, err
			}
			n.Workstation = oemString(w)
		}
	}
	if n.Flags.Has(FlagVersion) && len(b) >= negotiateHeaderVersion {
		copy(n.Version[:], b[negotiateHeader:])
	}
	return n, nil
}

// Marshal encodes the message (a client's; tests use it).
func (n *Negotiate) Marshal() []byte {
	flags := n.Flags &^ (FlagOEMDomainSupplied | FlagOEMWorkstationSupplied)
	if n.Domain != "" {
		flags |= FlagOEMDomainSupplied
	}
	if n.Workstation != "" {
		flags |= FlagOEMWorkstationSupplied
	}
	b := header(TypeNegotiate, negotiateHeaderVersion)
	binary.LittleEndian.PutUint32(b[12:], uint32(flags))
	b = putField(b, 16, []byte(n.Domain))
	b = putField(b, 24, []byte(n.Workstation))
	copy(b[negotiateHeader:], n.Version[:])
	return b
}

// Challenge is the server's answer to a NEGOTIATE.
type Challenge struct {
	Flags           Flags
	TargetName      string
	ServerChallenge [challengeLen]byte
	TargetInfo      []AVPair
	Version         Version
}

// Marshal encodes the message; strings follow FlagUnicode.
func (c *Challenge) Marshal() []byte {
	b := header(TypeChallenge, challengeHeader)
	u := c.Flags.Has(FlagUnicode)
	b = putField(b, 12, encodeString(c.TargetName, u))
	binary.LittleEndian.PutUint32(b[20:], uint32(c.Flags))
	copy(b[24:], c.ServerChallenge[:])
	if c.Flags.Has(FlagTargetInfo) {
		b = putField(b, 40, MarshalAVPairs(c.TargetInfo))
	}
	copy(b[48:], c.Version[:])
	return b
}

// ParseChallenge reads a CHALLENGE message (a client's view; tests and
// fuzzing use it).
func ParseChallenge(b []byte) (*Challenge, error) {
	if err := expect(b, TypeChallenge, 32); err != nil {
		return nil, err
	}
	c := &Challenge{Flags: Flags(le32(b[20:]))}
	copy(c.ServerChallenge[:], b[24:32])
	tn, err := field(b, 12, "target name")
	if err != nil {
		return nil, err
	}
	if c.TargetName, err = decodeString(tn, c.Flags.Has(FlagUnicode)); err != nil {
		return nil, err
	}
	if len(b) >= 48 {
		ti, err := field(b, 40, "target info")
		if err != nil {
			return nil, err
		}
		if len(ti) > 0 {
			if c.TargetInfo, err = ParseAVPairs(ti); err != nil {
				return nil, err
			}
		}
	}
	if len(b) >= challengeHeader {
		copy(c.Version[:], b[48:])
	}
	return c, nil
}

// Authenticate is the client's last message.
type Authenticate struct {
	Flags                     Flags
	LMResponse, NTResponse    []byte
	Domain, User, Workstation string
	EncryptedRandomSessionKey []byte
	Version                   Version
	// MIC is the message integrity code when the client sent one (the
	// payload starts after it); it is not verified.
	MIC []byte
}

// ParseAuthenticate reads an AUTHENTICATE message.
func ParseAuthenticate(b []byte) (*Authenticate, error) {
	if err := expect(b, TypeAuthenticate, authenticateHeader); err != nil {
		return nil, err
	}
	a := &Authenticate{Flags: Flags(le32(b[60:]))}
	u := a.Flags.Has(FlagUnicode)
	// The payload starts after the optional Version and MIC: the lowest
	// non-empty offset says how much header there is.
	start := len(b)
	var raw [6][]byte
	for i, name := range []string{"lm response", "nt response", "domain", "user", "workstation", "session key"} {
		at := 12 + 8*i
		v, err := field(b, at, name)
		if err != nil {
			return nil, err
		}
		raw[i] = v
		if len(v) > 0 {
			start = min(start, int(le32(b[at+4:])))
		}
	}
	a.LMResponse, a.NTResponse, a.EncryptedRandomSessionKey = raw[0], raw[1], raw[5]
	var err error
	if a.Domain, err = decodeString(raw[2], u); err != nil {
		return nil, fmt.Errorf("domain: %w", err)
	}
	if a.User, err = decodeString(raw[3], u); err != nil {
		return nil, fmt.Errorf("user: %w", err)
	}
	if a.Workstation, err = decodeString(raw[4], u); err != nil {
		return nil, fmt.Errorf("workstation: %w", err)
	}
	if start >= authenticateHeaderVersion {
		copy(a.Version[:], b[authenticateHeader:])
	}
	if start >= authenticateHeaderMIC {
		a.MIC = b[authenticateHeaderVersion:authenticateHeaderMIC:authenticateHeaderMIC]
	}
	return a, nil
}

// Marshal encodes the message (a client's; tests use it). The header has
// room for Version, and for the MIC when one is set.
func (a *Authenticate) Marshal() []byte {
	n := authenticateHeaderVersion
	if len(a.MIC) > 0 {
		n = authenticateHeaderMIC
	}
	b := header(TypeAuthenticate, n)
	u := a.Flags.Has(FlagUnicode)
	b = putField(b, 12, a.LMResponse)
	b = putField(b, 20, a.NTResponse)
	b = putField(b, 28, encodeString(a.Domain, u))
	b = putField(b, 36, encodeString(a.User, u))
	b = putField(b, 44, encodeString(a.Workstation, u))
	b = putField(b, 52, a.EncryptedRandomSessionKey)
	binary.LittleEndian.PutUint32(b[60:], uint32(a.Flags))
	copy(b[authenticateHeader:], a.Version[:])
	if len(a.MIC) > 0 {
		copy(b[authenticateHeaderVersion:authenticateHeaderMIC], a.MIC)
	}
	return b
}

// Anonymous reports whether the message is an anonymous authentication
// ([MS-NLMP] 3.2.5.1.2: no user, no NT response, an empty or Z(1) LM
// response).
func (a *Authenticate) Anonymous() bool {
	return a.User == "" && len(a.NTResponse) == 0 && (len(a.LMResponse) == 0 || bytes.Equal(a.LMResponse, []byte{0}))
}

// Server holds what a server says about itself in its CHALLENGE messages.
// Its zero value is usable: names default to WUFAULT / PROXY and
// wufault.test.
type Server struct {
	NetBIOSDomain, NetBIOSComputer string
	DNSDomain, DNSComputer         string
	// Rand supplies server challenges (nil: crypto/rand).
	Rand io.Reader
	// Now stamps MsvAvTimestamp (nil: time.Now).
	Now func() time.Time
}

// ChallengeFlags are the flags a server answers a client's NEGOTIATE
// flags with ([MS-NLMP] 3.2.5.1.1): Unicode if the client can (else OEM),
// NTLM, target information, a domain target name, and the security flags
// the client asked for echoed back. LM_KEY is never set: it would ask for
// LM-derived keys that no modern client should use.
func ChallengeFlags(client Flags) Flags {
	f := FlagNTLM | FlagTargetInfo | FlagRequestTarget | FlagTargetTypeDomain
	switch {
	case client.Has(FlagUnicode):
		f |= FlagUnicode
	case client.Has(FlagOEM):
		f |= FlagOEM
	default:
		f |= FlagUnicode
	}
	return f | client&flagsEchoed
}

// Challenge builds the CHALLENGE answering neg, with a fresh random server
// challenge and the target information Windows servers send
// (MsvAvNbDomainName, MsvAvNbComputerName, MsvAvDnsDomainName,
// MsvAvDnsComputerName, MsvAvTimestamp, MsvAvEOL).
func (s *Server) Challenge(neg *Negotiate) (*Challenge, error) {
	r := s.Rand
	if r == nil {
		r = rand.Reader
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	nbDomain := or(s.NetBIOSDomain, "WUFAULT")
	nbComputer := or(s.NetBIOSComputer, "PROXY")
	dnsDomain := or(s.DNSDomain, "wufault.test")
	dnsComputer := or(s.DNSComputer, strings.ToLower(nbComputer)+"."+dnsDomain)
	c := &Challenge{Flags: ChallengeFlags(neg.Flags), TargetName: nbDomain, Version: WindowsVersion}
	if _, err := io.ReadFull(r, c.ServerChallenge[:]); err != nil {
		return nil, fmt.Errorf("ntlm: server challenge: %w", err)
	}
	ts := make([]byte, 8)
	binary.LittleEndian.PutUint64(ts, Filetime(now()))
	c.TargetInfo = []AVPair{
		{AvNbDomainName, utf16le(nbDomain)},
		{AvNbComputerName, utf16le(nbComputer)},
		{AvDNSDomainName, utf16le(dnsDomain)},
		{AvDNSComputerName, utf16le(dnsComputer)},
		{AvTimestamp, ts},
	}
	return c, nil
}

// Filetime converts t to Windows FILETIME ticks (100 ns since 1601).
func Filetime(t time.Time) uint64 {
	return uint64(t.UnixNano()/100) + filetimeUnixEpoch
}

// header allocates a message of n header bytes with signature and type.
func header(t MessageType, n int) []byte {
	b := make([]byte, n)
	copy(b, Signature)
	binary.LittleEndian.PutUint32(b[8:], uint32(t))
	return b
}

// putField appends v to b as payload and points the security buffer at
// off to it.
func putField(b []byte, off int, v []byte) []byte {
	binary.LittleEndian.PutUint16(b[off:], uint16(len(v)))
	binary.LittleEndian.PutUint16(b[off+2:], uint16(len(v)))
	binary.LittleEndian.PutUint32(b[off+4:], uint32(len(b)))
	return append(b, v...)
}

// field reads the security buffer (length, max length, offset) at off.
func field(b []byte, off int, name string) ([]byte, error) {
	if len(b) < off+8 {
		return nil, fmt.Errorf("%w: %s", ErrTruncated, name)
	}
	n, o := uint64(le16(b[off:])), uint64(le32(b[off+4:]))
	if n == 0 {
		return nil, nil
	}
	if o+n > uint64(len(b)) {
		return nil, fmt.Errorf("%w: %s at %d+%d of %d bytes", ErrField, name, o, n, len(b))
	}
	return b[o : o+n : o+n], nil
}

func decodeString(b []byte, unicode bool) (string, error) {
	if !unicode {
		return oemString(b), nil
	}
	if len(b)%2 != 0 {
		return "", fmt.Errorf("%w: odd UTF-16 length %d", ErrEncoding, len(b))
	}
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = le16(b[2*i:])
	}
	return string(utf16.Decode(u)), nil
}

// oemString reads an OEM string as Latin-1, which is exact for ASCII.
func oemString(b []byte) string {
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

func encodeString(s string, unicode bool) []byte {
	if unicode {
		return utf16le(s)
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if r > 0xff {
			r = '?'
		}
		b = append(b, byte(r))
	}
	return b
}

// utf16le encodes s as UTF-16LE, as NTLM writes Unicode strings.
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func le16(b []byte) uint16 { return binary.LittleEndian.Uint16(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }
