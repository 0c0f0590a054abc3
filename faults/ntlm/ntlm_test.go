package ntlm

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	ntlmssp "github.com/Azure/go-ntlmssp"
)

// Test vectors from [MS-NLMP] 4.2: user "User", domain "Domain", password
// "Password", server challenge 0123456789abcdef, client challenge aa×8.
var (
	specChallenge = [8]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	// 4.2.3: an NTLMv1 AUTHENTICATE with extended session security (as
	// Chromium's test data lays it out, flags 0x00088203).
	specAuthV1ESS = unhex("4e544c4d5353500003000000180018004000000018001800580000000c000c0070000000080008007c0000001000100084000000000000004000000003820800aaaaaaaaaaaaaaaa000000000000000000000000000000007537f803ae367128ca458204bde7caf81e97ed268326723244006f006d00610069006e00550073006500720043004f004d0050005500540045005200")
	// 4.2.4.3: the NTLMv2 CHALLENGE and AUTHENTICATE (with Version, no MIC).
	specChallengeV2 = unhex("4e544c4d53535000020000000c000c003800000033828ae20123456789abcdef00000000000000002400240044000000060070170000000f53006500720076006500720002000c0044006f006d00610069006e0001000c0053006500720076006500720000000000")
	specAuthV2      = unhex("4e544c4d5353500003000000180018006c00000054005400840000000c000c00480000000800080054000000100010005c00000010001000d8000000358288e20501280a0000000f44006f006d00610069006e00550073006500720043004f004d005000550054004500520086c35097ac9cec102554764a57cccc19aaaaaaaaaaaaaaaa68cd0ab851e51c96aabc927bebef6a1c01010000000000000000000000000000aaaaaaaaaaaaaaaa0000000002000c0044006f006d00610069006e0001000c005300650072007600650072000000000000000000c5dad2544fc9799094ce1ce90bc9d03e")
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func TestSpecOWFs(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want []byte
	}{
		{"NTOWFv1 4.2.2.1.2", NTOWFv1("Password"), unhex("a4f49c406510bdcab6824ee7c30fd852")},
		{"NTLMv1 response 4.2.2.2.1", DESL(NTOWFv1("Password"), specChallenge[:]), unhex("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")},
		{"NTOWFv2 4.2.4.1.1", NTOWFv2("Password", "User", "Domain"), unhex("0c868a403bfd7a93a3001ef22ef02e3f")},
		{"NTOWFv2 upper-cases the user only", NTOWFv2("Password", "user", "Domain"), unhex("0c868a403bfd7a93a3001ef22ef02e3f")},
	} {
		if !bytes.Equal(tc.got, tc.want) {
			t.Errorf("%s: got %x, want %x", tc.name, tc.got, tc.want)
		}
	}
	if bytes.Equal(NTOWFv2("Password", "User", "DOMAIN"), NTOWFv2("Password", "User", "Domain")) {
		t.Error("NTOWFv2 must use the domain as sent, not upper-cased")
	}
}

func TestSpecAuthenticateV2(t *testing.T) {
	c, err := ParseChallenge(specChallengeV2)
	if err != nil {
		t.Fatal(err)
	}
	if c.TargetName != "Server" || c.ServerChallenge != specChallenge || c.Flags != 0xe28a8233 {
		t.Errorf("challenge: got %q %x %#x", c.TargetName, c.ServerChallenge, uint32(c.Flags))
	}
	if len(c.TargetInfo) != 2 || c.TargetInfo[0].ID != AvNbDomainName || c.TargetInfo[1].ID != AvNbComputerName {
		t.Errorf("target info: %+v", c.TargetInfo)
	}
	a, err := ParseAuthenticate(specAuthV2)
	if err != nil {
		t.Fatal(err)
	}
	if a.User != "User" || a.Domain != "Domain" || a.Workstation != "COMPUTER" || a.MIC != nil {
		t.Errorf("got user %q domain %q workstation %q mic %x", a.User, a.Domain, a.Workstation, a.MIC)
	}
	if a.Version != (Version{5, 1, 0x28, 0x0a, 0, 0, 0, 0x0f}) {
		t.Errorf("version %x", a.Version)
	}
	if !bytes.Equal(a.EncryptedRandomSessionKey, unhex("c5dad2544fc9799094ce1ce90bc9d03e")) {
		t.Errorf("session key %x", a.EncryptedRandomSessionKey)
	}
	if k, err := Verify(a, specChallenge, "Password", false); err != nil || k != ResponseV2 {
		t.Errorf("Verify(right password) = %v, %v; want ntlmv2, nil", k, err)
	}
	if _, err := Verify(a, specChallenge, "password", false); !errors.Is(err, ErrPassword) {
		t.Errorf("Verify(wrong password) = %v, want ErrPassword", err)
	}
	other := specChallenge
	other[0] ^= 1
	if _, err := Verify(a, other, "Password", false); !errors.Is(err, ErrPassword) {
		t.Errorf("Verify(other server challenge) = %v, want ErrPassword", err)
	}
}

func TestSpecAuthenticateV1(t *testing.T) {
	a, err := ParseAuthenticate(specAuthV1ESS)
	if err != nil {
		t.Fatal(err)
	}
	if a.Kind() != ResponseV1ESS || a.User != "User" || a.Domain != "Domain" {
		t.Fatalf("kind %v user %q domain %q", a.Kind(), a.User, a.Domain)
	}
	if k, err := Verify(a, specChallenge, "Password", true); err != nil || k != ResponseV1ESS {
		t.Errorf("Verify(v1 allowed) = %v, %v", k, err)
	}
	if _, err := Verify(a, specChallenge, "Password", false); !errors.Is(err, ErrV1Refused) {
		t.Errorf("Verify(v1 refused) = %v, want ErrV1Refused", err)
	}
	if _, err := Verify(a, specChallenge, "Passw0rd", true); !errors.Is(err, ErrPassword) {
		t.Errorf("Verify(wrong password) = %v, want ErrPassword", err)
	}
	// Plain NTLMv1 (no extended session security), 4.2.2.
	plain := &Authenticate{Flags: FlagUnicode | FlagNTLM, User: "User", Domain: "Domain",
		LMResponse: make([]byte, 24), NTResponse: unhex("67c43011f30298a2ad35ece64f16331c44bdbed927841f94")}
	b := plain.Marshal()
	p, err := ParseAuthenticate(b)
	if err != nil {
		t.Fatal(err)
	}
	if k, err := Verify(p, specChallenge, "Password", true); err != nil || k != ResponseV1 {
		t.Errorf("Verify(plain v1) = %v, %v", k, err)
	}
}

// TestGoNTLMSSPClient runs the server side against Azure/go-ntlmssp, an
// independent client implementation.
func TestGoNTLMSSPClient(t *testing.T) {
	negMsg, err := ntlmssp.NewNegotiateMessage("", "")
	if err != nil {
		t.Fatal(err)
	}
	neg, err := ParseNegotiate(negMsg)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC)
	srv := &Server{NetBIOSDomain: "CORP", Now: func() time.Time { return now }}
	for _, tc := range []struct {
		name, user, password, configured string
		wantErr                          error
		wantUser, wantDomain             string
	}{
		{"right password", `CORP\alice`, "s3cret", "s3cret", nil, "alice", "CORP"},
		{"no domain", "alice", "s3cret", "s3cret", nil, "alice", ""},
		{"wrong password", `CORP\alice`, "guess", "s3cret", ErrPassword, "alice", "CORP"},
		{"unicode password", `CORP\bob`, "pässwörd€", "pässwörd€", nil, "bob", "CORP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch, err := srv.Challenge(neg)
			if err != nil {
				t.Fatal(err)
			}
			chMsg := ch.Marshal()
			back, err := ParseChallenge(chMsg)
			if err != nil {
				t.Fatal(err)
			}
			if back.ServerChallenge != ch.ServerChallenge || back.TargetName != "CORP" || len(back.TargetInfo) != 5 {
				t.Errorf("challenge round trip: %+v", back)
			}
			authMsg, err := ntlmssp.NewAuthenticateMessage(chMsg, tc.user, tc.password, &ntlmssp.AuthenticateMessageOptions{WorkstationName: "WS01"})
			if err != nil {
				t.Fatal(err)
			}
			a, err := ParseAuthenticate(authMsg)
			if err != nil {
				t.Fatal(err)
			}
			if a.User != tc.wantUser || a.Domain != tc.wantDomain || a.Workstation != "WS01" {
				t.Errorf("got %q\\%q on %q", a.Domain, a.User, a.Workstation)
			}
			k, err := Verify(a, ch.ServerChallenge, tc.configured, false)
			if !errors.Is(err, tc.wantErr) || k != ResponseV2 {
				t.Errorf("Verify = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestChallengeContents(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	srv := &Server{Now: func() time.Time { return now }}
	a, _ := srv.Challenge(&Negotiate{Flags: FlagUnicode | FlagNTLM | FlagKeyExchange | FlagLMKey | Flag128})
	b, _ := srv.Challenge(&Negotiate{Flags: FlagOEM | FlagNTLM})
	if a.ServerChallenge == b.ServerChallenge {
		t.Error("two challenges share a server challenge")
	}
	if !a.Flags.Has(FlagUnicode|FlagNTLM|FlagTargetInfo|FlagKeyExchange|Flag128) || a.Flags.Has(FlagLMKey) || a.Flags.Has(FlagOEM) {
		t.Errorf("flags %#x", uint32(a.Flags))
	}
	if !b.Flags.Has(FlagOEM) || b.Flags.Has(FlagUnicode) || b.Flags.Has(FlagKeyExchange) {
		t.Errorf("OEM flags %#x", uint32(b.Flags))
	}
	want := map[AVID]string{AvNbDomainName: "WUFAULT", AvNbComputerName: "PROXY", AvDNSDomainName: "wufault.test", AvDNSComputerName: "proxy.wufault.test"}
	var ids []AVID
	for _, p := range a.TargetInfo {
		ids = append(ids, p.ID)
		if w, ok := want[p.ID]; ok {
			if s, _ := decodeString(p.Value, true); s != w {
				t.Errorf("AV %d = %q, want %q", p.ID, s, w)
			}
		}
		if p.ID == AvTimestamp && binary.LittleEndian.Uint64(p.Value) != Filetime(now) {
			t.Errorf("timestamp %x", p.Value)
		}
	}
	wantIDs := []AVID{AvNbDomainName, AvNbComputerName, AvDNSDomainName, AvDNSComputerName, AvTimestamp}
	if len(ids) != len(wantIDs) {
		t.Fatalf("AV ids %v, want %v", ids, wantIDs)
	}
	for i := range ids {
		if ids[i] != wantIDs[i] {
			t.Errorf("AV ids %v, want %v", ids, wantIDs)
		}
	}
	msg := b.Marshal()
	if !bytes.HasSuffix(msg, []byte{0, 0, 0, 0}) {
		t.Error("target info does not end with MsvAvEOL")
	}
	back, err := ParseChallenge(msg)
	if err != nil || back.TargetName != "WUFAULT" {
		t.Errorf("OEM round trip: %v %+v", err, back)
	}
	if Filetime(time.Unix(0, 0)) != filetimeUnixEpoch {
		t.Error("Filetime epoch")
	}
}

func TestNegotiateRoundTrip(t *testing.T) {
	n := &Negotiate{Flags: FlagUnicode | FlagNTLM | FlagVersion, Domain: "CORP", Workstation: "WS01", Version: WindowsVersion}
	got, err := ParseNegotiate(n.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if got.Domain != "CORP" || got.Workstation != "WS01" || got.Version != WindowsVersion || !got.Flags.Has(FlagOEMDomainSupplied|FlagOEMWorkstationSupplied) {
		t.Errorf("got %+v", got)
	}
	// The 16-byte minimum form of old clients.
	short := n.Marshal()[:16]
	if got, err := ParseNegotiate(short); err != nil || got.Domain != "" {
		t.Errorf("16-byte NEGOTIATE: %+v, %v", got, err)
	}
}

func TestAuthenticateMIC(t *testing.T) {
	a := &Authenticate{Flags: FlagUnicode, User: "u", NTResponse: make([]byte, 60), MIC: bytes.Repeat([]byte{7}, 16)}
	got, err := ParseAuthenticate(a.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.MIC, a.MIC) || got.User != "u" {
		t.Errorf("got %+v", got)
	}
	anon := &Authenticate{Flags: FlagUnicode, LMResponse: []byte{0}}
	got, _ = ParseAuthenticate(anon.Marshal())
	if _, err := Verify(got, specChallenge, "x", true); !errors.Is(err, ErrAnonymous) {
		t.Errorf("anonymous: %v", err)
	}
	lmOnly := &Authenticate{Flags: FlagUnicode, User: "u", LMResponse: make([]byte, 24)}
	got, _ = ParseAuthenticate(lmOnly.Marshal())
	if _, err := Verify(got, specChallenge, "x", true); !errors.Is(err, ErrNoResponse) {
		t.Errorf("LM only: %v", err)
	}
	odd := &Authenticate{Flags: FlagUnicode, User: "u", NTResponse: make([]byte, 30)}
	got, _ = ParseAuthenticate(odd.Marshal())
	if _, err := Verify(got, specChallenge, "x", true); !errors.Is(err, ErrResponse) {
		t.Errorf("30-byte response: %v", err)
	}
}

func TestParseBadInput(t *testing.T) {
	setU32 := func(b []byte, off int, v uint32) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint32(c[off:], v)
		return c
	}
	setU16 := func(b []byte, off int, v uint16) []byte {
		c := bytes.Clone(b)
		binary.LittleEndian.PutUint16(c[off:], v)
		return c
	}
	for _, tc := range []struct {
		name  string
		parse func([]byte) error
		in    []byte
		want  error
	}{
		{"empty", parseAuth, nil, ErrTruncated},
		{"signature only", parseAuth, Signature, ErrTruncated},
		{"wrong signature", parseAuth, append([]byte("NTLMSSQ\x00"), specAuthV2[8:]...), ErrSignature},
		{"negotiate as authenticate", parseAuth, (&Negotiate{Flags: FlagUnicode}).Marshal(), ErrType},
		{"authenticate as negotiate", parseNeg, specAuthV2, ErrType},
		{"type 4", parseAuth, setU32(specAuthV2, 8, 4), ErrType},
		{"truncated header", parseAuth, specAuthV2[:63], ErrTruncated},
		{"truncated payload", parseAuth, specAuthV2[:len(specAuthV2)-1], ErrField},
		{"offset past the end", parseAuth, setU32(specAuthV2, 24, 0xfffffff0), ErrField},
		{"offset wraps", parseAuth, setU32(specAuthV2, 24, 0xffffffff), ErrField},
		{"length past the end", parseAuth, setU16(specAuthV2, 20, 0xffff), ErrField},
		{"odd unicode user", parseAuth, setU16(specAuthV2, 36, 7), ErrEncoding},
		{"oversized", parseAuth, append(bytes.Clone(specAuthV2), make([]byte, MaxMessage)...), ErrTooLarge},
		{"negotiate domain outside", parseNeg, setU32((&Negotiate{Flags: FlagUnicode, Domain: "D"}).Marshal(), 20, 4096), ErrField},
		{"challenge target info outside", parseChal, setU32(specChallengeV2, 44, 4096), ErrField},
		{"challenge AV pair too long", parseChal, setU16(specChallengeV2, 0x46, 0x7fff), ErrAVPairs},
		{"AV list without EOL", func(b []byte) error { _, err := ParseAVPairs(b); return err }, []byte{2, 0, 2, 0, 'a', 0}, ErrAVPairs},
		{"huge AV list", func(b []byte) error { _, err := ParseAVPairs(b); return err }, bytes.Repeat([]byte{1, 0, 0, 0}, 10000), ErrAVPairs},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.parse(tc.in); !errors.Is(err, tc.want) {
				t.Errorf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func parseAuth(b []byte) error { _, err := ParseAuthenticate(b); return err }
func parseNeg(b []byte) error  { _, err := ParseNegotiate(b); return err }
func parseChal(b []byte) error { _, err := ParseChallenge(b); return err }

func TestStrings(t *testing.T) {
	if s, err := decodeString(utf16le("Grüße 😀"), true); err != nil || s != "Grüße 😀" {
		t.Errorf("utf16 round trip: %q %v", s, err)
	}
	if s := oemString([]byte("CORP\xe9")); s != "CORPé" {
		t.Errorf("oem: %q", s)
	}
	if got := string(encodeString("a€", false)); got != "a?" {
		t.Errorf("oem encode: %q", got)
	}
	if !strings.Contains(TypeAuthenticate.String(), "AUTH") || MessageType(9).String() != "type 9" {
		t.Error("MessageType.String")
	}
}
