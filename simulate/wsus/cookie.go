package wsus

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"strings"
	"time"
	"unicode/utf8"
)

// Cookies. [MS-WUSP] treats both the authorization cookie (SimpleAuth
// GetAuthorizationCookie) and the client cookie (GetCookie, refreshed by
// SyncUpdates) as opaque server data. Ours are base64 of:
//
//	"WFC1" | server id (16) | kind (1) | expiry unix seconds (8) | id length (1) | client id | HMAC-SHA256[:16]
//
// keyed by the seed, so a cookie from another seed reports ServerChanged and a
// tampered one InvalidCookie, as [MS-WUSP] GetCookie's error codes describe.
const (
	cookieMagic    = "WFC1"
	cookieKindAuth = 'A'
	cookieKindClnt = 'C'
	cookieMACSize  = 16
	cookieLifetime = 24 * time.Hour // GoSecure/pywsus uses one day too
	maxClientID    = 200
)

var (
	errCookieInvalid = errors.New("cookie is not valid")
	errCookieServer  = errors.New("cookie was issued by another server")
	errCookieExpired = errors.New("cookie has expired")
)

type cookie struct {
	kind     byte
	expires  time.Time
	clientID string
}

func (s *Server) sealCookie(c cookie) string {
	var b bytes.Buffer
	b.WriteString(cookieMagic)
	b.Write(s.ident.id[:])
	b.WriteByte(c.kind)
	b.Write(binary.BigEndian.AppendUint64(nil, uint64(c.expires.Unix())))
	id := c.clientID
	if len(id) > maxClientID {
		id = id[:maxClientID]
	}
	b.WriteByte(byte(len(id)))
	b.WriteString(id)
	m := hmac.New(sha256.New, s.ident.key[:])
	m.Write(b.Bytes())
	b.Write(m.Sum(nil)[:cookieMACSize])
	return base64.StdEncoding.EncodeToString(b.Bytes())
}

// openCookie checks a cookie of the given kind and returns its content.
func (s *Server) openCookie(data string, kind byte) (cookie, error) {
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(data))
	const fixed = len(cookieMagic) + 16 + 1 + 8 + 1
	if err != nil || len(raw) < fixed+cookieMACSize || string(raw[:4]) != cookieMagic {
		return cookie{}, errCookieInvalid
	}
	if !bytes.Equal(raw[4:20], s.ident.id[:]) {
		return cookie{}, errCookieServer
	}
	n := int(raw[fixed-1])
	if len(raw) != fixed+n+cookieMACSize {
		return cookie{}, errCookieInvalid
	}
	body, mac := raw[:fixed+n], raw[fixed+n:]
	m := hmac.New(sha256.New, s.ident.key[:])
	m.Write(body)
	if !hmac.Equal(mac, m.Sum(nil)[:cookieMACSize]) || raw[20] != kind {
		return cookie{}, errCookieInvalid
	}
	c := cookie{
		kind:     kind,
		expires:  time.Unix(int64(binary.BigEndian.Uint64(raw[21:29])), 0).UTC(),
		clientID: string(raw[fixed : fixed+n]),
	}
	if !s.now().Before(c.expires) {
		return c, errCookieExpired
	}
	return c, nil
}

// sanitizeClientID keeps a client id printable and bounded: it ends up in the
// journal and in cookies.
func sanitizeClientID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.ToValidUTF8(id, "?")
	id = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, id)
	for len(id) > maxClientID {
		_, size := utf8.DecodeLastRuneInString(id)
		id = id[:len(id)-size]
	}
	return id
}
