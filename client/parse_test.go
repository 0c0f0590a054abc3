package client

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/faults/ntlm"
	"github.com/wufault/wufault/simulate/wsus"
)

func TestParseProxyList(t *testing.T) {
	cases := []struct {
		in          string
		http, https []string
		bad         bool
	}{
		{in: ""},
		{in: "proxy.corp:3128", http: []string{"proxy.corp:3128"}, https: []string{"proxy.corp:3128"}},
		{in: "proxy.corp", http: []string{"proxy.corp:80"}, https: []string{"proxy.corp:80"}},
		{in: "http://proxy.corp:8080/", http: []string{"proxy.corp:8080"}, https: []string{"proxy.corp:8080"}},
		{in: "http=a:1;https=b:2", http: []string{"a:1"}, https: []string{"b:2"}},
		{in: "a:1 b:2", http: []string{"a:1", "b:2"}, https: []string{"a:1", "b:2"}},
		{in: "[::1]:8080", http: []string{"[::1]:8080"}, https: []string{"[::1]:8080"}},
		{in: "proxy:99999", bad: true},
		{in: "proxy:", bad: true},
		{in: "ftp=proxy:21", bad: true},
		{in: "socks://proxy:1080", bad: true},
		{in: "pro xy:port", bad: true},
		{in: ";;", bad: true},
		{in: "a..b:1", bad: true},
	}
	for _, c := range cases {
		l, err := ParseProxyList(c.in)
		if c.bad {
			var pe *ProxyListError
			if !errors.As(err, &pe) {
				t.Errorf("%q: err %v, want a *ProxyListError", c.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(l.HTTP, c.http) || !slices.Equal(l.HTTPS, c.https) {
			t.Errorf("%q: %+v %v", c.in, l, err)
		}
	}
}

func TestBypass(t *testing.T) {
	b := Bypass{"<local>", "*.corp.example", "10.*", "wsus.lab"}
	for host, want := range map[string]bool{
		"intranet": true, "a.corp.example": true, "corp.example": false, "10.1.2.3": true, "WSUS.LAB.": true,
		"fe3.delivery.mp.microsoft.com": false, "127.0.0.1": false,
	} {
		if got := b.Match(host); got != want {
			t.Errorf("Match(%q) = %v, want %v", host, got, want)
		}
	}
}

func TestParseChallenges(t *testing.T) {
	tok := base64.StdEncoding.EncodeToString([]byte("NTLMSSP\x00\x02"))
	got := parseChallenges([]string{`Negotiate, NTLM, Basic realm="a, b"`, "NTLM " + tok})
	if _, ok := got["negotiate"]; !ok {
		t.Errorf("no negotiate in %v", got)
	}
	if _, ok := got["basic"]; !ok {
		t.Errorf("no basic in %v", got)
	}
	if string(got["ntlm"]) != "NTLMSSP\x00\x02" {
		t.Errorf("ntlm token %q", got["ntlm"])
	}
}

// The client's SPNEGO tokens read back with the world's own codec
// (faults/ntlm), and the world's answers read with the client's parser.
func TestSPNEGOInterop(t *testing.T) {
	neg := []byte("NTLMSSP\x00\x01\x00\x00\x00")
	tok, err := ntlm.ParseToken(spnegoInit(neg))
	if err != nil || tok.Kind != ntlm.TokenInit || !bytes.Equal(tok.Init.MechToken, neg) || !tok.Init.MechTypes[0].Equal(oidNTLM) {
		t.Fatalf("init: %+v %v", tok, err)
	}
	auth := []byte("NTLMSSP\x00\x03\x00\x00\x00")
	tok, err = ntlm.ParseToken(spnegoResp(auth))
	if err != nil || tok.Kind != ntlm.TokenResp || !bytes.Equal(tok.Resp.ResponseToken, auth) {
		t.Fatalf("resp: %+v %v", tok, err)
	}
	chal := []byte("NTLMSSP\x00\x02\x00\x00\x00")
	server := (&ntlm.NegTokenResp{NegState: ntlm.NegStateAcceptIncomplete, SupportedMech: oidNTLM, ResponseToken: chal}).Marshal()
	st, err := parseSPNEGO(server)
	if err != nil || st.State != negAcceptIncomplete || !bytes.Equal(st.Token, chal) || !st.Mech.Equal(oidNTLM) {
		t.Fatalf("server token: %+v %v", st, err)
	}
	initTok := (&ntlm.NegTokenInit{MechTypes: []asn1.ObjectIdentifier{oidNTLM}, MechToken: neg}).Marshal()
	if st, err := parseSPNEGO(initTok); err != nil || !bytes.Equal(st.Token, neg) {
		t.Fatalf("init token: %+v %v", st, err)
	}
	for _, bad := range [][]byte{nil, {0x60}, {0xa1, 0x01}, append(spnegoResp(auth), 0)} {
		if _, err := parseSPNEGO(bad); err == nil {
			t.Errorf("parseSPNEGO(%x) accepted", bad)
		}
	}
	// Long tokens need long-form lengths.
	long := bytes.Repeat([]byte{7}, 70000)
	if st, err := parseSPNEGO(spnegoResp(long)); err != nil || !bytes.Equal(st.Token, long) {
		t.Errorf("long token: %v", err)
	}
}

func TestReadCAB(t *testing.T) {
	var b bytes.Buffer
	big := bytes.Repeat([]byte("0123456789"), 10000)
	if err := wsus.WriteCAB(&b, []wsus.CABFile{{Name: "wuident.txt", Data: []byte("[WUIdent]\r\n"), ModTime: time.Now()}, {Name: "big.bin", Data: big, ModTime: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	files, err := readCAB(b.Bytes())
	if err != nil || string(files["wuident.txt"]) != "[WUIdent]\r\n" || !bytes.Equal(files["big.bin"], big) {
		t.Fatalf("readCAB: %v, %d files", err, len(files))
	}
	for n := 0; n < b.Len(); n += 997 {
		if _, err := readCAB(b.Bytes()[:n]); err == nil {
			t.Errorf("a cabinet cut at %d bytes was accepted", n)
		}
	}
	if _, err := readCAB([]byte("<html>not a cab</html>")); err == nil {
		t.Error("html accepted")
	}
}

func TestParseEnvelope(t *testing.T) {
	ok := `<?xml version="1.0"?><s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header/><s:Body>` +
		`<GetCookieResponse xmlns="` + nsClient + `"><GetCookieResult><Expiration>e</Expiration><EncryptedData>d</EncryptedData></GetCookieResult></GetCookieResponse></s:Body></s:Envelope>`
	b, err := parseEnvelope([]byte(ok))
	if err != nil || b.name.Local != "GetCookieResponse" || b.fault != nil {
		t.Fatalf("parse: %+v %v", b, err)
	}
	var cr cookieResponse
	if err := soapResult(&response{Status: 200, Body: []byte(ok)}, "GetCookie", &cr); err != nil || cr.Result.EncryptedData != "d" {
		t.Fatalf("soapResult: %+v %v", cr, err)
	}
	fault11 := `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>` +
		`<faultstring>Fault occurred</faultstring><detail><ErrorCode>ConfigChanged</ErrorCode></detail></soap:Fault></soap:Body></soap:Envelope>`
	fault12 := `<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value></s:Code>` +
		`<s:Reason><s:Text xml:lang="en-US">bad</s:Text></s:Reason><s:Detail><ErrorCode>InvalidCookie</ErrorCode></s:Detail></s:Fault></s:Body></s:Envelope>`
	wcf := `<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><faultcode xmlns:a="http://schemas.microsoft.com/net/2005/12/windowscommunicationfoundation/dispatcher">a:InternalServiceFault</faultcode><faultstring>x</faultstring></s:Fault></s:Body></s:Envelope>`
	for _, c := range []struct {
		body, code, ec string
		status         int
	}{{fault11, "Server", "ConfigChanged", 500}, {fault12, "Client", "InvalidCookie", 500}, {wcf, "InternalServiceFault", "", 500}, {fault11, "Server", "ConfigChanged", 200}} {
		err := soapResult(&response{Status: c.status, Body: []byte(c.body)}, "GetCookie", &cr)
		var f *SOAPFault
		if !errors.As(err, &f) || f.Code != c.code || f.ErrorCode != c.ec || f.Status != c.status {
			t.Errorf("fault: %v (%+v), want %s %s", err, f, c.code, c.ec)
		}
	}
	// A status with a non-SOAP body is an HTTP status error; a 200 with
	// one is a parse error; the wrong element too.
	var se *StatusError
	if err := soapResult(&response{Status: 502, Body: []byte("<html>Bad Gateway</html>")}, "GetCookie", &cr); !errors.As(err, &se) || se.Status != 502 {
		t.Errorf("502 html: %v", err)
	}
	var pe *SOAPParseError
	for _, body := range []string{"<html>ok</html>", "", ok[:len(ok)-20], strings.Replace(ok, "GetCookieResponse", "GetConfigResponse", 2)} {
		if err := soapResult(&response{Status: 200, Body: []byte(body)}, "GetCookie", &cr); !errors.As(err, &pe) {
			t.Errorf("200 %.30q: %v, want a parse error", body, err)
		}
	}
}

func FuzzParseProxyList(f *testing.F) {
	for _, s := range []string{"proxy:8080", "http=a:1;https=b:2", "http://[::1]:3128", "", "a b c", "x:99999"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		l, err := ParseProxyList(s)
		if err != nil {
			return
		}
		for _, p := range append(l.HTTP, l.HTTPS...) {
			if _, err := proxyHostPort(p); err != nil {
				t.Errorf("%q gave proxy %q that does not parse again: %v", s, p, err)
			}
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><X/></s:Body></s:Envelope>`))
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><s:Fault/></s:Body></s:Envelope>`))
	f.Add([]byte("<html/>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		var out syncResponse
		_ = soapResult(&response{Status: 200, Body: b}, "SyncUpdates", &out)
		_ = soapResult(&response{Status: 500, Body: b}, "SyncUpdates", &out)
	})
}

func FuzzReadCAB(f *testing.F) {
	var b bytes.Buffer
	_ = wsus.WriteCAB(&b, []wsus.CABFile{{Name: "a.txt", Data: []byte("hello"), ModTime: time.Unix(0, 0)}})
	f.Add(b.Bytes())
	f.Add([]byte("MSCF"))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = readCAB(b) })
}

func FuzzParseSPNEGO(f *testing.F) {
	f.Add(spnegoInit([]byte("NTLMSSP\x00\x01")))
	f.Add(spnegoResp([]byte("NTLMSSP\x00\x03")))
	f.Fuzz(func(t *testing.T, b []byte) { _, _ = parseSPNEGO(b) })
}
