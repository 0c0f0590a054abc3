package wsus

import (
	"bytes"
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fuzzRoutes are the endpoints FuzzServeSOAP posts to, picked by a byte, and
// fuzzNS their namespaces.
var (
	fuzzRoutes = []string{pathClient, pathAuth, pathReport, "/v6/clientwebservice/client.asmx", "/ClientWebService/client.asmx/secured"}
	fuzzNS     = []string{nsClient, nsSimpleAuth, nsReporting, nsClient, nsClient}
)

// xmlName reports whether s is a plain XML element name.
func xmlName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// fuzzServer is deterministic with a frozen clock, so cookies in the committed
// corpus stay valid.
func fuzzServer(t testing.TB) *Server {
	frozen := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	return newTestServer(t, Options{Seed: 1, Updates: new(2), ContentSize: 64, Registration: true, Now: func() time.Time { return frozen }})
}

// FuzzServeSOAP posts arbitrary bodies, actions and content types to the SOAP
// endpoints. The handler must never panic (a recovered panic shows as an
// InternalServerError fault) and must always answer with a known status; every
// 200 and 500 answer must be a well-formed envelope of the version asked, a 500
// one a Fault.
func FuzzServeSOAP(f *testing.F) {
	s := fuzzServer(f)
	ck := tCookie(s.newCookie("fuzz"))
	auth := s.sealCookie(cookie{kind: cookieKindAuth, expires: s.now().Add(cookieLifetime), clientID: "fuzz"})
	u := s.Catalog()[0]
	seeds := []struct {
		route  uint8
		method string
		inner  string
	}{
		{0, "GetConfig", "<protocolVersion>1.8</protocolVersion>"},
		{0, "GetConfig2", ""},
		{1, "GetAuthorizationCookie", "<clientId>fuzz</clientId><targetGroupName/><dnsName>fuzz.lab</dnsName>"},
		{0, "GetCookie", "<authCookies><AuthorizationCookie><PlugInId>SimpleTargeting</PlugInId><CookieData>" + auth + "</CookieData></AuthorizationCookie></authCookies><lastChange>2024-01-01T00:00:00Z</lastChange>"},
		{0, "RegisterComputer", ck.xml("cookie") + "<computerInfo><DNSName>fuzz.lab</DNSName></computerInfo>"},
		{3, "SyncUpdates", syncBody(ck, []int{u.RevisionID, 12})},
		{0, "GetExtendedUpdateInfo", ck.xml("cookie") + "<revisionIDs>" + intsXML([]int{u.RevisionID, u.BundledRevisionID}) + "</revisionIDs><infoTypes><XmlUpdateFragmentType>Extended</XmlUpdateFragmentType><XmlUpdateFragmentType>LocalizedProperties</XmlUpdateFragmentType></infoTypes><locales><string>en</string></locales>"},
		{0, "GetFileLocations", ck.xml("cookie") + "<fileDigests><base64Binary>" + u.Files[0].Digest() + "</base64Binary></fileDigests>"},
		{4, "RefreshCache", ck.xml("cookie") + "<globalIDs><UpdateIdentity><UpdateID>" + u.ID + "</UpdateID><RevisionNumber>200</RevisionNumber></UpdateIdentity></globalIDs>"},
		{2, "ReportEventBatch", reportBody(ck, u.ID)},
	}
	for _, sd := range seeds {
		ns := fuzzNS[sd.route]
		action := `"` + ns + "/" + sd.method + `"`
		// Each seed twice: as a whole envelope, and as the method's content only.
		f.Add(sd.route, action, "text/xml; charset=utf-8", []byte(envelope11(sd.method, ns, sd.inner)), false)
		f.Add(sd.route, action, "text/xml; charset=utf-8", []byte(sd.inner), true)
	}
	f.Add(uint8(0), "", `application/soap+xml; charset=utf-8; action="`+nsClient+`/GetConfig"`,
		[]byte(`<s:Envelope xmlns:s="`+nsSOAP12+`"><s:Body><GetConfig xmlns="`+nsClient+`"/></s:Body></s:Envelope>`), false)
	f.Add(uint8(0), "", "application/soap+xml",
		[]byte(`<s:Envelope xmlns:s="`+nsSOAP12+`" xmlns:a="`+nsAddressing+`"><s:Header><a:Action>`+nsClient+`/SyncUpdates</a:Action><a:MessageID>urn:uuid:1</a:MessageID></s:Header><s:Body><SyncUpdates xmlns="`+nsClient+`"/></s:Body></s:Envelope>`), false)
	f.Add(uint8(0), `"`+nsClient+`/GetConfig"`, "text/xml", []byte(`<!DOCTYPE a [<!ENTITY x "y">]><a>&x;</a>`), false)
	f.Add(uint8(0), "garbage", "", []byte("\x00\xff<"), false)

	// wrap: body is the content of the method element the action names, so the
	// fuzzer spends its time in the parameter decoding rather than the envelope.
	f.Fuzz(func(t *testing.T, route uint8, action, ctype string, body []byte, wrap bool) {
		p := fuzzRoutes[int(route)%len(fuzzRoutes)]
		if wrap {
			act := strings.Trim(action, `"`)
			method := act[strings.LastIndexByte(act, '/')+1:]
			if !xmlName(method) {
				return
			}
			body = []byte(envelope11(method, fuzzNS[int(route)%len(fuzzRoutes)], string(body)))
		}
		req := httptest.NewRequest(http.MethodPost, p, bytes.NewReader(body))
		if isHeaderValue(action) {
			req.Header.Set("SOAPAction", action)
		}
		if isHeaderValue(ctype) {
			req.Header.Set("Content-Type", ctype)
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		out := rec.Body.Bytes()
		switch rec.Code {
		case http.StatusOK, http.StatusInternalServerError:
		case http.StatusRequestEntityTooLarge, http.StatusBadRequest:
			return
		default:
			t.Fatalf("status %d", rec.Code)
		}
		ct := rec.Header().Get("Content-Type")
		envNS := nsSOAP11
		if strings.HasPrefix(ct, "application/soap+xml") {
			envNS = nsSOAP12
		} else if ct != "text/xml; charset=utf-8" {
			t.Fatalf("Content-Type %q", ct)
		}
		var env struct {
			XMLName xml.Name
			Body    struct {
				Inner []byte `xml:",innerxml"`
			} `xml:"Body"`
		}
		if err := xml.Unmarshal(out, &env); err != nil {
			t.Fatalf("answer is not XML: %v\n%s", err, out)
		}
		if env.XMLName.Space != envNS || env.XMLName.Local != "Envelope" {
			t.Fatalf("answer root %v, Content-Type %q", env.XMLName, ct)
		}
		var first struct{ XMLName xml.Name }
		if err := xml.Unmarshal(env.Body.Inner, &first); err != nil {
			t.Fatalf("answer Body: %v\n%s", err, out)
		}
		if rec.Code == http.StatusInternalServerError {
			if first.XMLName.Local != "Fault" {
				t.Fatalf("500 without a Fault: %s", out)
			}
			if bytes.Contains(out, []byte("<ErrorCode>InternalServerError<")) {
				t.Fatalf("the handler panicked on this input: %s", out)
			}
			return
		}
		if !strings.HasSuffix(first.XMLName.Local, "Response") {
			t.Fatalf("200 answer %v is not a method response", first.XMLName)
		}
	})
}

// isHeaderValue reports whether net/http would send v as a header value.
func isHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// FuzzWriteCAB writes arbitrary files: WriteCAB either rejects them or writes a
// cabinet that reads back to the same names and bytes.
func FuzzWriteCAB(f *testing.F) {
	f.Add("a.txt", "b/c.bin", []byte("hello world"), uint16(5))
	f.Add("x", "y", bytes.Repeat([]byte{1, 2, 3}, 20000), uint16(40000))
	f.Add("", "\x00", []byte{}, uint16(0))
	f.Fuzz(func(t *testing.T, name1, name2 string, data []byte, split uint16) {
		cut := min(int(split), len(data))
		files := []CABFile{{Name: name1, Data: data[:cut]}, {Name: name2, Data: data[cut:]}}
		var buf bytes.Buffer
		if err := WriteCAB(&buf, files); err != nil {
			return
		}
		got, err := readCAB(buf.Bytes())
		if err != nil {
			t.Fatalf("written cabinet does not read back: %v", err)
		}
		for i, f := range files {
			if got[i].Name != strings.ReplaceAll(f.Name, "/", `\`) || !bytes.Equal(got[i].Data, f.Data) {
				t.Fatalf("file %d: got %q (%d bytes), wrote %q (%d bytes)", i, got[i].Name, len(got[i].Data), f.Name, len(f.Data))
			}
		}
	})
}
