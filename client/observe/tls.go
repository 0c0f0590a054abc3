package observe

import (
	"encoding/binary"
	"fmt"
	"time"
)

// TLSInfo is what a flow's TLS records show: the handshake messages in
// order, how far the handshake got, and the alerts.
type TLSInfo struct {
	SNI     string `json:"sni,omitempty"`
	Version string `json:"version,omitempty"` // chosen by the ServerHello
	// Stage is the furthest point the handshake reached: ClientHello,
	// ServerHello, Certificate, ServerHelloDone, ClientKeyExchange,
	// ChangeCipherSpec, Finished, ApplicationData.
	Stage    string     `json:"stage"`
	Messages []string   `json:"messages"`
	Alerts   []TLSAlert `json:"alerts,omitempty"`
	// Complete is set once application data flowed both ways (TLS 1.2), or
	// the client sent data after its encrypted Finished (TLS 1.3).
	Complete    bool `json:"complete"`
	CertRequest bool `json:"certificate_request,omitempty"`

	stageRank       int
	sawClientHello  bool
	sawServerHello  bool
	tls13           bool
	certRequestTime time.Time
}

// TLSAlert is one alert record.
type TLSAlert struct {
	Time        time.Time `json:"time"`
	From        string    `json:"from"`
	Level       string    `json:"level"` // warning, fatal, or "" when encrypted
	Code        int       `json:"code"`
	Description string    `json:"description"`
	Encrypted   bool      `json:"encrypted,omitempty"`
	Stage       string    `json:"stage"` // the handshake stage when it was sent
}

var stageRanks = map[string]int{
	"ClientHello": 1, "ServerHello": 2, "Certificate": 3, "ServerKeyExchange": 4, "CertificateRequest": 5,
	"ServerHelloDone": 6, "ClientKeyExchange": 7, "ChangeCipherSpec": 8, "Finished": 9, "ApplicationData": 10,
}

func (t *TLSInfo) reach(stage string) {
	if r := stageRanks[stage]; r > t.stageRank {
		t.stageRank, t.Stage = r, stage
	}
}

var handshakeNames = map[byte]string{
	0: "HelloRequest", 1: "ClientHello", 2: "ServerHello", 4: "NewSessionTicket", 8: "EncryptedExtensions",
	11: "Certificate", 12: "ServerKeyExchange", 13: "CertificateRequest", 14: "ServerHelloDone",
	15: "CertificateVerify", 16: "ClientKeyExchange", 20: "Finished",
}

// AlertName returns the RFC 8446 / 5246 name of a TLS alert description.
func AlertName(code int) string {
	if s, ok := alertNames[code]; ok {
		return s
	}
	return fmt.Sprintf("alert_%d", code)
}

var alertNames = map[int]string{
	0: "close_notify", 10: "unexpected_message", 20: "bad_record_mac", 21: "decryption_failed", 22: "record_overflow",
	30: "decompression_failure", 40: "handshake_failure", 41: "no_certificate", 42: "bad_certificate",
	43: "unsupported_certificate", 44: "certificate_revoked", 45: "certificate_expired", 46: "certificate_unknown",
	47: "illegal_parameter", 48: "unknown_ca", 49: "access_denied", 50: "decode_error", 51: "decrypt_error",
	60: "export_restriction", 70: "protocol_version", 71: "insufficient_security", 80: "internal_error",
	86: "inappropriate_fallback", 90: "user_canceled", 100: "no_renegotiation", 109: "missing_extension",
	110: "unsupported_extension", 112: "unrecognized_name", 113: "bad_certificate_status_response",
	115: "unknown_psk_identity", 116: "certificate_required", 120: "no_application_protocol",
}

// tlsDir parses one direction's TLS records.
type tlsDir struct {
	hs      []byte // plaintext handshake bytes not yet parsed
	ccs     bool   // ChangeCipherSpec sent: later records are encrypted
	appData int
	broken  bool
}

func (d *tlsDir) parse(f *Flow, st *stream, who string, ts time.Time) {
	t := f.TLS
	for !d.broken && len(st.buf) >= 5 {
		typ, major := st.buf[0], st.buf[1]
		n := int(binary.BigEndian.Uint16(st.buf[3:5]))
		if typ < 20 || typ > 24 || major != 3 || n > 18432 {
			d.broken = true
			if who == "server" && t.stageRank <= 1 {
				t.Messages = append(t.Messages, "server: not TLS "+quoteStart(st.buf))
			}
			return
		}
		if len(st.buf) < 5+n {
			return
		}
		body := st.buf[5 : 5+n]
		switch typ {
		case 20:
			d.ccs = true
			t.Messages = append(t.Messages, who+": ChangeCipherSpec")
			if !t.tls13 {
				t.reach("ChangeCipherSpec")
			}
		case 21:
			al := TLSAlert{Time: ts, From: who, Stage: t.Stage}
			if !d.ccs && len(body) == 2 {
				al.Level = map[byte]string{1: "warning", 2: "fatal"}[body[0]]
				al.Code = int(body[1])
				al.Description = AlertName(al.Code)
				t.Messages = append(t.Messages, fmt.Sprintf("%s: Alert %s %s", who, al.Level, al.Description))
			} else {
				al.Encrypted, al.Description = true, "encrypted"
				t.Messages = append(t.Messages, who+": Alert (encrypted)")
			}
			t.Alerts = append(t.Alerts, al)
		case 22:
			if d.ccs {
				t.Messages = append(t.Messages, who+": Finished (encrypted)")
				t.reach("Finished")
				break
			}
			d.hs = append(d.hs, body...)
			d.handshake(f, who, ts)
		case 23:
			d.appData++
			f.tlsAppData(who, d)
		}
		st.buf = st.buf[5+n:]
	}
}

// handshake parses the complete plaintext handshake messages.
func (d *tlsDir) handshake(f *Flow, who string, ts time.Time) {
	t := f.TLS
	for len(d.hs) >= 4 {
		n := int(d.hs[1])<<16 | int(d.hs[2])<<8 | int(d.hs[3])
		if n > 1<<16 {
			d.broken = true
			return
		}
		if len(d.hs) < 4+n {
			return
		}
		typ, body := d.hs[0], d.hs[4:4+n]
		name := handshakeNames[typ]
		if name == "" {
			name = fmt.Sprintf("handshake_%d", typ)
		}
		t.Messages = append(t.Messages, who+": "+name)
		switch typ {
		case 1:
			t.sawClientHello = true
			t.SNI = clientHelloSNI(body)
		case 2:
			t.sawServerHello = true
			t.Version, t.tls13 = serverHelloVersion(body)
		case 13:
			t.CertRequest, t.certRequestTime = true, ts
		}
		t.reach(name)
		d.hs = d.hs[4+n:]
	}
}

func (f *Flow) tlsAppData(who string, d *tlsDir) {
	t := f.TLS
	if t.tls13 {
		// After the ServerHello every record is type 23. The client's
		// first is its Finished; a second means the handshake completed.
		if who == "client" && d.appData >= 2 {
			t.Complete = true
			t.reach("ApplicationData")
		}
		return
	}
	if d.ccs {
		t.reach("ApplicationData")
		if f.tlsC.appData > 0 || f.tlsS.appData > 0 {
			t.Complete = true
		}
	}
}

// clientHelloSNI returns the server_name of a ClientHello body, or "".
func clientHelloSNI(b []byte) string {
	// version(2) random(32)
	if len(b) < 35 {
		return ""
	}
	p := 34
	skip := func(lenBytes int) bool {
		if p+lenBytes > len(b) {
			return false
		}
		n := 0
		for i := 0; i < lenBytes; i++ {
			n = n<<8 | int(b[p+i])
		}
		p += lenBytes + n
		return p <= len(b)
	}
	if !skip(1) || !skip(2) || !skip(1) { // session id, cipher suites, compression
		return ""
	}
	if p+2 > len(b) {
		return ""
	}
	end := p + 2 + int(binary.BigEndian.Uint16(b[p:]))
	p += 2
	for p+4 <= end && end <= len(b) {
		typ := binary.BigEndian.Uint16(b[p:])
		n := int(binary.BigEndian.Uint16(b[p+2:]))
		p += 4
		if p+n > len(b) {
			return ""
		}
		if typ == 0 && n >= 5 {
			e := b[p : p+n]
			if e[2] == 0 {
				l := int(binary.BigEndian.Uint16(e[3:]))
				if 5+l <= len(e) {
					return string(e[5 : 5+l])
				}
			}
		}
		p += n
	}
	return ""
}

// serverHelloVersion returns the negotiated version of a ServerHello
// body, honouring the supported_versions extension of TLS 1.3.
func serverHelloVersion(b []byte) (string, bool) {
	if len(b) < 2 {
		return "", false
	}
	v := binary.BigEndian.Uint16(b)
	p := 34
	if p < len(b) {
		p += 1 + int(b[p]) // session id
		p += 3             // cipher suite, compression
		if p+2 <= len(b) {
			end := p + 2 + int(binary.BigEndian.Uint16(b[p:]))
			p += 2
			for p+4 <= end && p+4 <= len(b) {
				typ := binary.BigEndian.Uint16(b[p:])
				n := int(binary.BigEndian.Uint16(b[p+2:]))
				p += 4
				if typ == 43 && n == 2 && p+2 <= len(b) {
					v = binary.BigEndian.Uint16(b[p:])
				}
				p += n
			}
		}
	}
	name := map[uint16]string{0x0300: "SSL 3.0", 0x0301: "TLS 1.0", 0x0302: "TLS 1.1", 0x0303: "TLS 1.2", 0x0304: "TLS 1.3"}[v]
	if name == "" {
		name = fmt.Sprintf("0x%04x", v)
	}
	return name, v == 0x0304
}
