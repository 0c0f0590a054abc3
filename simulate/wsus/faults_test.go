package wsus

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/xml"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestBadInput(t *testing.T) {
	s := newTestServer(t, Options{Logger: testLogger(t)})
	c := startServer(t, s)
	getConfig := actClient + "GetConfig"
	tests := []struct {
		name, path, action, body string
		wantString               string // in faultstring
	}{
		{"malformed XML", pathClient, getConfig, `<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><GetConfig>`, "unable to read request"},
		{"not XML", pathClient, getConfig, "hello", "unable to read request"},
		{"empty body", pathClient, getConfig, "", "unable to read request"},
		{"not a SOAP envelope", pathClient, getConfig, `<GetConfig xmlns="` + nsClient + `"/>`, "not a SOAP"},
		{"envelope without body", pathClient, getConfig, `<s:Envelope xmlns:s="` + nsSOAP11 + `"><s:Header/></s:Envelope>`, "no Body"},
		{"empty body element", pathClient, getConfig, `<s:Envelope xmlns:s="` + nsSOAP11 + `"><s:Body></s:Body></s:Envelope>`, "Body element is empty"},
		{"DTD", pathClient, getConfig, `<!DOCTYPE x [<!ENTITY a "b">]>` + envelope11("GetConfig", nsClient, ""), "DTD is prohibited"},
		{"garbage after the method", pathClient, getConfig, strings.TrimSuffix(envelope11("GetConfig", nsClient, ""), "</soap:Envelope>") + "</soap:Body>", "unable to read request"},
		{"unknown method", pathClient, actClient + "DeleteEverything", envelope11("DeleteEverything", nsClient, ""), "did not recognize the value of HTTP Header SOAPAction: " + actClient + "DeleteEverything"},
		{"SimpleAuth action on client.asmx", pathClient, actSimpleAuth, envelope11("GetAuthorizationCookie", nsSimpleAuth, ""), "did not recognize"},
		{"client action on reporting", pathReport, getConfig, envelope11("GetConfig", nsClient, ""), "did not recognize"},
		{"missing SOAPAction", pathClient, "", envelope11("GetConfig", nsClient, ""), "without a valid action"},
		{"action and body disagree", pathClient, getConfig, envelope11("GetCookie", nsClient, ""), "<GetCookie xmlns='" + nsClient + "'> was not expected"},
		{"method in the wrong namespace", pathClient, getConfig, envelope11("GetConfig", "urn:other", ""), "was not expected"},
		{"int that is not one", pathClient, actClient + "SyncUpdates", envelope11("SyncUpdates", nsClient, "<parameters><OtherCachedUpdateIDs><int>x</int></OtherCachedUpdateIDs></parameters>"), "unable to read request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.post(tt.path, tt.action, tt.body)
			f := fault(t, r)
			if f.Code != "soap:Client" || !strings.Contains(f.String, tt.wantString) {
				t.Errorf("fault %q %q, want soap:Client and %q", f.Code, f.String, tt.wantString)
			}
			if f.Detail.ErrorCode != "" {
				t.Errorf("a protocol-level fault carries WSUS ErrorCode %q", f.Detail.ErrorCode)
			}
			checkIISHeaders(t, r.header, true)
		})
	}
}

func checkIISHeaders(t *testing.T, h http.Header, aspNet bool) {
	t.Helper()
	want := map[string]string{"Server": "Microsoft-IIS/10.0", "X-Powered-By": "ASP.NET"}
	if aspNet {
		want["X-Aspnet-Version"] = "4.0.30319"
		want["Cache-Control"] = "private"
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
}

func TestHugeBodies(t *testing.T) {
	s := newTestServer(t, Options{})
	c := startServer(t, s)
	huge := envelope11("GetConfig", nsClient, "<protocolVersion>"+strings.Repeat("1", MaxRequestBytes)+"</protocolVersion>")
	t.Run("declared length", func(t *testing.T) {
		if r := c.post(pathClient, actClient+"GetConfig", huge); r.status != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", r.status)
		}
	})
	t.Run("chunked", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+pathClient, io.MultiReader(strings.NewReader(huge)))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("SOAPAction", `"`+actClient+`GetConfig"`)
		resp, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if req.ContentLength != 0 {
			t.Fatalf("request has Content-Length %d: not chunked", req.ContentLength)
		}
		if resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("status %d, want 413", resp.StatusCode)
		}
	})
	t.Run("just under the cap", func(t *testing.T) {
		pad := MaxRequestBytes - len(envelope11("GetConfig", nsClient, "<protocolVersion></protocolVersion>"))
		body := envelope11("GetConfig", nsClient, "<protocolVersion>"+strings.Repeat("1", pad)+"</protocolVersion>")
		if r := c.post(pathClient, actClient+"GetConfig", body); r.status != http.StatusOK {
			t.Errorf("status %d for a %d-byte body, want 200", r.status, len(body))
		}
	})
}

func TestVerbsAndPaths(t *testing.T) {
	s := newTestServer(t, Options{})
	c := startServer(t, s)
	key := contentKey(s.Catalog()[0].Files[0].SHA1)
	tests := []struct {
		name, method, path string
		want               int
	}{
		{"GET client.asmx", http.MethodGet, pathClient, http.StatusOK},
		{"HEAD SimpleAuth.asmx", http.MethodHead, pathAuth, http.StatusOK},
		{"PUT client.asmx", http.MethodPut, pathClient, http.StatusMethodNotAllowed},
		{"DELETE content", http.MethodDelete, s.Catalog()[0].Files[0].Path, http.StatusMethodNotAllowed},
		{"POST wuident.cab", http.MethodPost, "/selfupdate/wuident.cab", http.StatusMethodNotAllowed},
		{"unknown path", http.MethodGet, "/nothing/here", http.StatusNotFound},
		{"root", http.MethodGet, "/", http.StatusNotFound},
		{"content, wrong folder", http.MethodGet, "/Content/00/" + key + ".cab", http.StatusNotFound},
		{"content, unknown digest", http.MethodGet, "/Content/" + key[38:] + "/" + strings.Repeat("0", 38) + key[38:] + ".cab", http.StatusNotFound},
		{"content, wrong extension", http.MethodGet, "/Content/" + key[38:] + "/" + key + ".exe", http.StatusNotFound},
		{"content, short name", http.MethodGet, "/Content/" + key[38:] + "/" + key[2:] + ".cab", http.StatusNotFound},
		{"content under a CDN prefix", http.MethodGet, "/filestreamingservice/files/Content/" + key[38:] + "/" + strings.ToLower(key) + ".cab", http.StatusOK},
		{"version file", http.MethodGet, "/ClientWebService/wusserverversion.xml", http.StatusOK},
		{"legacy self-update path", http.MethodGet, "/v11/3/legacy/windowsupdate/SelfUpdate/wuident.cab", http.StatusOK},
		{"v6 redirector", http.MethodGet, "/v6/windowsupdate/redir/wuredir.cab", http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(tt.method, tt.path, "", nil)
			if r.status != tt.want {
				t.Fatalf("%s %s: status %d, want %d; body %.200s", tt.method, tt.path, r.status, tt.want, r.body)
			}
			checkIISHeaders(t, r.header, false)
		})
	}
}

// TestContentRange pins http.ServeContent semantics on content, which the
// download path (BITS, DO) depends on.
func TestContentRange(t *testing.T) {
	s := newTestServer(t, Options{ContentSize: 5000})
	c := startServer(t, s)
	f := s.Catalog()[0].Files[0]
	data := s.content[contentKey(f.SHA1)].data
	size := strconv.FormatInt(f.Size, 10)
	full := c.get(f.Path, "")
	if full.status != http.StatusOK || !bytes.Equal(full.body, data) || full.header.Get("Accept-Ranges") != "bytes" ||
		full.header.Get("Content-Length") != size || full.header.Get("Last-Modified") != "Mon, 01 Jan 2024 00:00:00 GMT" {
		t.Fatalf("full GET: status %d, headers %v", full.status, full.header)
	}
	etag := full.header.Get("ETag")
	tests := []struct {
		name    string
		hdr     http.Header
		status  int
		body    []byte
		ctRange string
	}{
		{"suffix range", http.Header{"Range": {"bytes=-10"}}, 206, data[len(data)-10:], "bytes " + strconv.Itoa(len(data)-10) + "-" + strconv.Itoa(len(data)-1) + "/" + size},
		{"middle range", http.Header{"Range": {"bytes=100-199"}}, 206, data[100:200], "bytes 100-199/" + size},
		{"unsatisfiable", http.Header{"Range": {"bytes=999999-"}}, 416, nil, "bytes */" + size},
		{"If-Range with the ETag", http.Header{"Range": {"bytes=0-0"}, "If-Range": {etag}}, 206, data[:1], "bytes 0-0/" + size},
		{"If-Range with another ETag", http.Header{"Range": {"bytes=0-0"}, "If-Range": {`"other:0"`}}, 200, data, ""},
		{"If-None-Match", http.Header{"If-None-Match": {etag}}, 304, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := c.do(http.MethodGet, f.Path, "", tt.hdr)
			if r.status != tt.status || (tt.body != nil && !bytes.Equal(r.body, tt.body)) || r.header.Get("Content-Range") != tt.ctRange {
				t.Errorf("status %d, %d bytes, Content-Range %q; want %d, %d bytes, %q",
					r.status, len(r.body), r.header.Get("Content-Range"), tt.status, len(tt.body), tt.ctRange)
			}
		})
	}
	head := c.do(http.MethodHead, f.Path, "", nil)
	if head.status != http.StatusOK || len(head.body) != 0 || head.header.Get("Content-Length") != size {
		t.Errorf("HEAD: status %d, %d body bytes, length %q", head.status, len(head.body), head.header.Get("Content-Length"))
	}
}

// TestWSUSFaults checks each WSUS ErrorCode the server sends, with its detail.
func TestWSUSFaults(t *testing.T) {
	clock := &fakeClock{t: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)}
	s := newTestServer(t, Options{Seed: 1, Registration: true, Now: clock.Now, Logger: testLogger(t)})
	other := newTestServer(t, Options{Seed: 2, Now: clock.Now})
	c := startServer(t, s)
	_, ck := handshake(c, "", "faulty") // registers too

	// A cookie for an unregistered computer, and one from another server.
	var auth tAuthResponse
	c.call(pathAuth, nsSimpleAuth, "GetAuthorizationCookie", "<clientId>unregistered</clientId>", &auth)
	unreg := s.newCookie("unregistered")
	foreign := other.newCookie("faulty")
	raw, _ := base64.StdEncoding.DecodeString(ck.EncryptedData)
	raw[len(raw)-1] ^= 1
	forged := tCookie{Expiration: ck.Expiration, EncryptedData: base64.StdEncoding.EncodeToString(raw)}
	authOnly := tCookie{Expiration: ck.Expiration, EncryptedData: auth.Result.CookieData}
	authXML := "<authCookies><AuthorizationCookie><PlugInId>SimpleTargeting</PlugInId><CookieData>" + auth.Result.CookieData + "</CookieData></AuthorizationCookie></authCookies>"

	tests := []struct {
		name, path, ns, method, inner string
		want                          ErrorCode
	}{
		{"no cookie", pathClient, nsClient, "SyncUpdates", "<parameters/>", InvalidCookie},
		{"forged cookie", pathClient, nsClient, "SyncUpdates", forged.xml("cookie") + "<parameters/>", InvalidCookie},
		{"auth cookie as client cookie", pathClient, nsClient, "SyncUpdates", authOnly.xml("cookie") + "<parameters/>", InvalidCookie},
		{"not base64", pathClient, nsClient, "GetExtendedUpdateInfo", "<cookie><EncryptedData>!!</EncryptedData></cookie><infoTypes/>", InvalidCookie},
		{"other server's cookie", pathClient, nsClient, "SyncUpdates", tCookie(foreign).xml("cookie") + "<parameters/>", ServerChanged},
		{"report with a forged cookie", pathReport, nsReporting, "ReportEventBatch", forged.xml("cookie") + "<clientTime>2024-01-01T00:00:00Z</clientTime>", InvalidCookie},
		{"unregistered computer", pathClient, nsClient, "SyncUpdates", tCookie(unreg).xml("cookie") + "<parameters/>", RegistrationRequired},
		{"no parameters", pathClient, nsClient, "SyncUpdates", ck.xml("cookie"), InvalidParameters},
		{"GetCookie without auth", pathClient, nsClient, "GetCookie", "<lastChange>2024-01-01T00:00:00Z</lastChange>", InvalidAuthorizationCookie},
		{"GetCookie with a client cookie as auth", pathClient, nsClient, "GetCookie", "<authCookies><AuthorizationCookie><CookieData>" + ck.EncryptedData + "</CookieData></AuthorizationCookie></authCookies><lastChange>2024-01-01T00:00:00Z</lastChange>", InvalidAuthorizationCookie},
		{"GetCookie with old config", pathClient, nsClient, "GetCookie", authXML + "<lastChange>2023-12-31T23:59:59Z</lastChange>", ConfigChanged},
		{"GetCookie without lastChange", pathClient, nsClient, "GetCookie", authXML, InvalidParameters},
		{"GetCookie with a bad lastChange", pathClient, nsClient, "GetCookie", authXML + "<lastChange>yesterday</lastChange>", InvalidParameters},
		{"GetAuthorizationCookie without clientId", pathAuth, nsSimpleAuth, "GetAuthorizationCookie", "<clientId> </clientId>", InvalidParameters},
		{"too many revisions", pathClient, nsClient, "GetExtendedUpdateInfo", ck.xml("cookie") + "<revisionIDs>" + intsXML(make([]int, 21)) + "</revisionIDs><infoTypes/>", InvalidParameters},
		{"no infoTypes", pathClient, nsClient, "GetExtendedUpdateInfo", ck.xml("cookie") + "<revisionIDs/>", InvalidParameters},
		{"localized without locales", pathClient, nsClient, "GetExtendedUpdateInfo", ck.xml("cookie") + "<infoTypes><XmlUpdateFragmentType>LocalizedProperties</XmlUpdateFragmentType></infoTypes>", InvalidParameters},
		{"short digest", pathClient, nsClient, "GetFileLocations", ck.xml("cookie") + "<fileDigests><base64Binary>AAAA</base64Binary></fileDigests>", InvalidParameters},
		{"no digests", pathClient, nsClient, "GetFileLocations", ck.xml("cookie"), InvalidParameters},
		{"RefreshCache without cookie", pathClient, nsClient, "RefreshCache", "", InvalidCookie},
		{"RegisterComputer without cookie", pathClient, nsClient, "RegisterComputer", "", InvalidCookie},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			action := tt.ns + "/" + tt.method
			r := c.post(tt.path, action, envelope11(tt.method, tt.ns, tt.inner))
			f := fault(t, r)
			if ErrorCode(f.Detail.ErrorCode) != tt.want || f.Code != "soap:Client" || f.String != "Fault occurred" {
				t.Errorf("fault %s %q ErrorCode %q, want soap:Client \"Fault occurred\" %q", f.Code, f.String, f.Detail.ErrorCode, tt.want)
			}
			if f.Detail.Message == "" || !guidRE.MatchString(f.Detail.ID) || f.Detail.Method != `"`+action+`"` {
				t.Errorf("detail %+v", f.Detail)
			}
			if !strings.HasSuffix(f.Actor, tt.path) {
				t.Errorf("faultactor %q", f.Actor)
			}
		})
	}

	t.Run("expired cookie", func(t *testing.T) {
		clock.Add(cookieLifetime)
		defer clock.Add(-cookieLifetime)
		f := fault(t, c.post(pathClient, actClient+"SyncUpdates", envelope11("SyncUpdates", nsClient, ck.xml("cookie")+"<parameters/>")))
		if f.Detail.ErrorCode != string(CookieExpired) {
			t.Errorf("ErrorCode %q, want CookieExpired", f.Detail.ErrorCode)
		}
	})
	t.Run("fault IDs are unique", func(t *testing.T) {
		seen := map[string]bool{}
		for range 5 {
			f := fault(t, c.post(pathClient, actClient+"SyncUpdates", envelope11("SyncUpdates", nsClient, "")))
			if seen[f.Detail.ID] {
				t.Fatalf("fault ID %s repeated", f.Detail.ID)
			}
			seen[f.Detail.ID] = true
		}
	})
}

// TestPanicBecomesInternalServerError uses a panicking OnReport: the handler must
// answer with a soap:Server InternalServerError fault and keep serving.
func TestPanicBecomesInternalServerError(t *testing.T) {
	var calls []Call
	var mu sync.Mutex
	s := newTestServer(t, Options{
		Logger:   testLogger(t),
		OnReport: func(Report) { panic("journal exploded") },
		OnCall:   func(c Call) { mu.Lock(); calls = append(calls, c); mu.Unlock() },
	})
	c := startServer(t, s)
	_, ck := handshake(c, "", "panicky")
	r := c.post(pathReport, actReport, envelope11("ReportEventBatch", nsReporting, reportBody(ck, "00000000-0000-0000-0000-000000000000")))
	f := fault(t, r)
	if f.Code != "soap:Server" || f.Detail.ErrorCode != string(InternalServerError) {
		t.Errorf("fault %s %s, want soap:Server InternalServerError", f.Code, f.Detail.ErrorCode)
	}
	var cfg tConfigResponse
	c.call(pathClient, nsClient, "GetConfig", "", &cfg) // still serving
	mu.Lock()
	defer mu.Unlock()
	var last Call
	for _, cl := range calls {
		if cl.Method == "ReportEventBatch" {
			last = cl
		}
	}
	if last.Status != http.StatusInternalServerError || last.ErrorCode != InternalServerError || last.Fault != "soap:Server" || last.Computer != "panicky" {
		t.Errorf("OnCall for the panic: %+v", last)
	}
}

func TestSOAP12(t *testing.T) {
	s := newTestServer(t, Options{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	client := ts.Client()
	defer client.CloseIdleConnections()
	post := func(ctype, action, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, ts.URL+"/ClientWebService/client.asmx", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", ctype)
		if action != "" {
			req.Header.Set("SOAPAction", action)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	env := func(header, body string) string {
		return `<s:Envelope xmlns:s="` + nsSOAP12 + `" xmlns:a="` + nsAddressing + `"><s:Header>` + header + `</s:Header><s:Body>` + body + `</s:Body></s:Envelope>`
	}
	getConfig := `<GetConfig xmlns="` + nsClient + `"><protocolVersion>1.40</protocolVersion></GetConfig>`
	type answer struct {
		Header struct {
			Action    string `xml:"Action"`
			RelatesTo string `xml:"RelatesTo"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Header"`
		Body struct {
			Config *struct {
				LastChange string `xml:"GetConfigResult>LastChange"`
			} `xml:"GetConfigResponse"`
			Fault *struct {
				Code      string `xml:"Code>Value"`
				Reason    string `xml:"Reason>Text"`
				ErrorCode string `xml:"Detail>ErrorCode"`
			} `xml:"Fault"`
		} `xml:"http://www.w3.org/2003/05/soap-envelope Body"`
	}
	decode := func(b []byte) answer {
		t.Helper()
		var a answer
		if err := xml.Unmarshal(b, &a); err != nil {
			t.Fatalf("answer: %v\n%s", err, b)
		}
		return a
	}
	t.Run("action in WS-Addressing", func(t *testing.T) {
		resp, b := post("application/soap+xml; charset=utf-8", "",
			env(`<a:Action s:mustUnderstand="1">`+actClient+`GetConfig</a:Action><a:MessageID>urn:uuid:1234</a:MessageID><a:To>https://fe3.delivery.mp.microsoft.com/ClientWebService/client.asmx</a:To>`, getConfig))
		a := decode(b)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/soap+xml; charset=utf-8" || a.Body.Config == nil ||
			a.Header.Action != actClient+"GetConfigResponse" || a.Header.RelatesTo != "urn:uuid:1234" {
			t.Errorf("status %d type %q answer %+v", resp.StatusCode, resp.Header.Get("Content-Type"), a)
		}
	})
	t.Run("action in Content-Type", func(t *testing.T) {
		resp, b := post(`application/soap+xml; charset=utf-8; action="`+actClient+`GetConfig"`, "", env("", getConfig))
		if a := decode(b); resp.StatusCode != 200 || a.Body.Config == nil {
			t.Errorf("status %d answer %s", resp.StatusCode, b)
		}
	})
	t.Run("fault", func(t *testing.T) {
		resp, b := post("application/soap+xml; charset=utf-8", "",
			env(`<a:Action>`+actClient+`SyncUpdates</a:Action>`, `<SyncUpdates xmlns="`+nsClient+`"/>`))
		a := decode(b)
		if resp.StatusCode != 500 || a.Body.Fault == nil || a.Body.Fault.Code != "s:Sender" || a.Body.Fault.ErrorCode != "InvalidCookie" || a.Body.Fault.Reason != "Fault occurred" {
			t.Errorf("status %d answer %s", resp.StatusCode, b)
		}
	})
	t.Run("no action", func(t *testing.T) {
		resp, b := post("application/soap+xml", "", env("", getConfig))
		if a := decode(b); resp.StatusCode != 500 || a.Body.Fault == nil || !strings.Contains(a.Body.Fault.Reason, "without a valid action") {
			t.Errorf("status %d answer %s", resp.StatusCode, b)
		}
	})
}

func TestPaging(t *testing.T) {
	tests := []struct {
		name      string
		updates   int
		pageSize  int
		wantTrips []int // NewUpdates per trip, until the server stops truncating
	}{
		{"empty catalog", 0, 0, []int{0}},
		{"one per page", 2, 0, []int{2, 2}},
		{"page larger than catalog", 3, 10, []int{6}},
		{"uneven pages", 5, 2, []int{4, 4, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Options{Updates: new(tt.updates), PageSize: tt.pageSize, ContentSize: 1})
			c := startServer(t, s)
			_, ck := handshake(c, "", "pager")
			var cached, got []int
			for trip := 0; ; trip++ {
				var r tSyncResponse
				c.call(pathClient, nsClient, "SyncUpdates", syncBody(ck, cached), &r)
				got = append(got, len(r.Result.NewUpdates.Items))
				for _, u := range r.Result.NewUpdates.Items {
					cached = append(cached, u.ID)
				}
				if !*r.Result.Truncated || trip > 20 {
					break
				}
			}
			if !equalInts(got, tt.wantTrips) {
				t.Errorf("updates per trip %v, want %v", got, tt.wantTrips)
			}
		})
	}
	t.Run("out of scope and driver sync", func(t *testing.T) {
		s := newTestServer(t, Options{ContentSize: 1})
		c := startServer(t, s)
		_, ck := handshake(c, "", "drivers")
		var r tSyncResponse
		c.call(pathClient, nsClient, "SyncUpdates", syncBody(ck, []int{5, 5, s.Catalog()[0].RevisionID}), &r)
		if !equalInts(r.Result.OutOfScope, []int{5}) {
			t.Errorf("OutOfScopeRevisionIDs %v, want [5]", r.Result.OutOfScope)
		}
		if n := len(r.Result.NewUpdates.Items); n != 1 { // the first update's child only
			t.Errorf("%d new updates, want 1", n)
		}
		var d tSyncResponse
		c.call(pathClient, nsClient, "SyncUpdates", ck.xml("cookie")+"<parameters><ExpressQuery>false</ExpressQuery><SkipSoftwareSync>true</SkipSoftwareSync></parameters>", &d)
		if len(d.Result.NewUpdates.Items) != 0 || *d.Result.Truncated || !d.Result.DriverSyncNotNeeded {
			t.Errorf("driver sync %+v", d.Result)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestEndlessPaging: past WUA's 200 round trips [SUS-4010], every answer is still
// Truncated with updates in it, whatever the client caches.
func TestEndlessPaging(t *testing.T) {
	var truncated, trips int
	var mu sync.Mutex
	s := newTestServer(t, Options{EndlessPaging: true, ContentSize: 1, OnCall: func(c Call) {
		mu.Lock()
		defer mu.Unlock()
		if c.Method == "SyncUpdates" {
			trips++
			if c.Truncated && c.Updates > 0 {
				truncated++
			}
		}
	}})
	c := startServer(t, s)
	_, ck := handshake(c, "", "endless")
	var cached []int
	for range 201 {
		var r tSyncResponse
		c.call(pathClient, nsClient, "SyncUpdates", syncBody(ck, cached), &r)
		if !*r.Result.Truncated || len(r.Result.NewUpdates.Items) == 0 {
			t.Fatalf("answer %+v is not a truncated page", r.Result)
		}
		for _, u := range r.Result.NewUpdates.Items {
			if !containsInt(cached, u.ID) {
				cached = append(cached, u.ID)
			}
		}
		ck = r.Result.NewCookie
	}
	mu.Lock()
	defer mu.Unlock()
	if trips != 201 || truncated != 201 {
		t.Errorf("OnCall saw %d trips, %d truncated; want 201 and 201", trips, truncated)
	}
}

func containsInt(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func TestRefreshCache(t *testing.T) {
	s := newTestServer(t, Options{ContentSize: 1})
	c := startServer(t, s)
	_, ck := handshake(c, "", "refresh")
	u := s.Catalog()[1]
	var r struct {
		XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService RefreshCacheResponse"`
		Items   []struct {
			RevisionID int    `xml:"RevisionID"`
			UpdateID   string `xml:"GlobalID>UpdateID"`
		} `xml:"RefreshCacheResult>RefreshCacheResult"`
	}
	c.call(pathClient, nsClient, "RefreshCache", ck.xml("cookie")+"<globalIDs>"+
		"<UpdateIdentity><UpdateID>{"+strings.ToUpper(u.BundledID)+"}</UpdateID><RevisionNumber>200</RevisionNumber></UpdateIdentity>"+
		"<UpdateIdentity><UpdateID>"+u.ID+"</UpdateID><RevisionNumber>200</RevisionNumber></UpdateIdentity>"+
		"<UpdateIdentity><UpdateID>"+u.ID+"</UpdateID><RevisionNumber>199</RevisionNumber></UpdateIdentity>"+
		"</globalIDs>", &r)
	if len(r.Items) != 2 || r.Items[0].RevisionID != u.BundledRevisionID || r.Items[1].RevisionID != u.RevisionID || r.Items[1].UpdateID != u.ID {
		t.Errorf("RefreshCache %+v for update %+v", r.Items, u)
	}
}
