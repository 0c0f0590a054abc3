package wsus

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestNewOptions(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr string // empty: New must succeed
	}{
		{"zero value", Options{}, ""},
		{"no updates", Options{Updates: new(0)}, ""},
		{"largest catalog", Options{Updates: new(maxUpdates), ContentSize: 1}, ""},
		{"content base URL", Options{ContentBaseURL: "http://download.windowsupdate.com/"}, ""},
		{"negative updates", Options{Updates: new(-1)}, "updates: must be in 0..1000, got -1"},
		{"too many updates", Options{Updates: new(maxUpdates + 1)}, "updates: must be in 0..1000"},
		{"negative page size", Options{PageSize: -1}, "page size: must be >= 0"},
		{"negative content size", Options{ContentSize: -1}, "content size: must be in"},
		{"content too large", Options{ContentSize: maxContentSize + 1}, "content size: must be in"},
		{"content total too large", Options{Updates: new(100), ContentSize: maxContentSize}, "exceed"},
		{"base URL with a path", Options{ContentBaseURL: "http://host/path"}, "want scheme://host[:port]"},
		{"base URL without scheme", Options{ContentBaseURL: "host:80"}, "content base url"},
		{"base URL ftp", Options{ContentBaseURL: "ftp://host"}, "want scheme://host[:port]"},
		{"two problems at once", Options{Updates: new(-1), PageSize: -1}, "page size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.opts)
			if tt.wantErr == "" {
				if err != nil || s == nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "wsus: options: ") {
				t.Fatalf("New error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
	if n := len(newTestServer(t, Options{}).Catalog()); n != DefaultUpdates {
		t.Errorf("default catalog has %d updates, want %d", n, DefaultUpdates)
	}
}

func TestDeterministic(t *testing.T) {
	a := newTestServer(t, Options{Seed: 42, Updates: new(3), ContentSize: 1000})
	b := newTestServer(t, Options{Seed: 42, Updates: new(3), ContentSize: 1000})
	c := newTestServer(t, Options{Seed: 43, Updates: new(3), ContentSize: 1000})
	ca, cb, cc := a.Catalog(), b.Catalog(), c.Catalog()
	if fmt.Sprint(ca) != fmt.Sprint(cb) {
		t.Errorf("same seed, different catalogs:\n%v\n%v", ca, cb)
	}
	if ca[0].ID == cc[0].ID || ca[0].Files[0].SHA1 == cc[0].Files[0].SHA1 {
		t.Error("another seed gives the same ids or content")
	}
	for _, u := range ca {
		f := u.Files[0]
		if !bytes.Equal(a.content[contentKey(f.SHA1)].data, b.content[contentKey(f.SHA1)].data) {
			t.Errorf("content of %s differs between equal seeds", f.Name)
		}
	}
	if !bytes.Equal(a.wuident.data, b.wuident.data) || !bytes.Equal(a.wuredirCAB("http://x"), b.wuredirCAB("http://x")) {
		t.Error("identity cabinets differ between equal seeds")
	}
	// Catalog returns copies.
	ca[0].Files[0].Name = "changed"
	if a.Catalog()[0].Files[0].Name == "changed" {
		t.Error("Catalog exposes the server's slices")
	}
}

func TestBaseURL(t *testing.T) {
	s := newTestServer(t, Options{})
	fixed := newTestServer(t, Options{ContentBaseURL: "https://dl.delivery.mp.microsoft.com/"})
	tests := []struct {
		name string
		srv  *Server
		req  func() *http.Request
		want string
	}{
		{"host header", s, func() *http.Request { return httptest.NewRequest("GET", "http://wsus.lab:8530/x", nil) }, "http://wsus.lab:8530"},
		{"tls", s, func() *http.Request {
			r := httptest.NewRequest("GET", "https://fe3.delivery.mp.microsoft.com/x", nil)
			r.TLS = &tls.ConnectionState{}
			return r
		}, "https://fe3.delivery.mp.microsoft.com"},
		{"ipv6 literal", s, func() *http.Request { return httptest.NewRequest("GET", "http://[::1]:8530/x", nil) }, "http://[::1]:8530"},
		{"proxy-form request", s, func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.URL.Scheme, r.URL.Host, r.Host = "http", "download.windowsupdate.com", "download.windowsupdate.com"
			return r
		}, "http://download.windowsupdate.com"},
		{"hostile host header", s, func() *http.Request {
			r := httptest.NewRequest("GET", "/x", nil)
			r.Host = `evil"><script>`
			return r
		}, "http://127.0.0.1"},
		{"configured", fixed, func() *http.Request { return httptest.NewRequest("GET", "http://wsus.lab/x", nil) }, "https://dl.delivery.mp.microsoft.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.srv.baseURL(tt.req()); got != tt.want {
				t.Errorf("baseURL = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIdentityFiles(t *testing.T) {
	s := newTestServer(t, Options{})
	c := startServer(t, s)
	// wuredir.xml names the server's own URLs, for the Host the client used.
	r := c.do(http.MethodGet, "/v6/windowsupdate/redir/wuredir.cab", "", http.Header{})
	files, err := readCAB(r.body)
	if err != nil || len(files) != 1 || files[0].Name != "wuredir.xml" {
		t.Fatalf("wuredir.cab: %v %+v", err, files)
	}
	var redir struct {
		XMLName xml.Name `xml:"wuredir"`
		Client  struct {
			URL string `xml:"URL,attr"`
		} `xml:"ClientServer"`
		Reporting struct {
			URL string `xml:"URL,attr"`
		} `xml:"ReportingServer"`
	}
	if err := xml.Unmarshal(files[0].Data, &redir); err != nil {
		t.Fatalf("wuredir.xml: %v\n%s", err, files[0].Data)
	}
	if redir.Client.URL != c.base+"/ClientWebService/client.asmx" || redir.Reporting.URL != c.base+"/ReportingWebService/ReportingWebService.asmx" {
		t.Errorf("wuredir.xml URLs %+v, want under %s", redir, c.base)
	}
	v := c.get("/ClientWebService/wusserverversion.xml", "")
	var ver struct {
		Version string `xml:"Version"`
	}
	if err := xml.Unmarshal(v.body, &ver); err != nil || ver.Version == "" || v.header.Get("Content-Type") != "text/xml" {
		t.Errorf("wusserverversion.xml: %v %q %s", err, v.header.Get("Content-Type"), v.body)
	}
	ident, _ := readCAB(c.get("/selfupdate/wuident.cab", "").body)
	txt := string(ident[0].Data)
	for _, want := range []string{"[WUIdent]\r\n", "ServerID={", "[amd64]\r\n"} {
		if !strings.Contains(txt, want) {
			t.Errorf("wuident.txt lacks %q:\n%s", want, txt)
		}
	}
}

func TestParseHResult(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"-2145107946", 0x80244016, true},
		{"-2147012866", 0x80072EFE, true},
		{"2149859350", 0x80244016, true},
		{"0x8024402C", 0x8024402C, true},
		{" 0x8024402c ", 0x8024402C, true},
		{"0", 0, true},
		{"-2147483648", 0x80000000, true},
		{"4294967295", 0xFFFFFFFF, true},
		{"-2147483649", 0, false},
		{"4294967296", 0, false},
		{"0x1FFFFFFFF", 0, false},
		{"", 0, false},
		{"E_FAIL", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseHResult(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseHResult(%q) = %#x, %v; want %#x, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestSanitizeClientID(t *testing.T) {
	tests := []struct{ in, want string }{
		{"  client-1 ", "client-1"},
		{"a\x00b\nc", "abc"},
		{"\xffx", "?x"},
		{strings.Repeat("é", 150), strings.Repeat("é", 100)}, // 300 bytes → 200
	}
	for _, tt := range tests {
		if got := sanitizeClientID(tt.in); got != tt.want {
			t.Errorf("sanitizeClientID(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestConcurrentClients runs whole scans in parallel while Reports is read, for
// the race detector.
func TestConcurrentClients(t *testing.T) {
	s := newTestServer(t, Options{Updates: new(2), ContentSize: 2000, Registration: true})
	ts := httptest.NewServer(s)
	defer ts.Close()
	hc := ts.Client()
	defer hc.CloseIdleConnections()
	const clients = 8
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			_ = s.Reports()
			_ = s.Catalog()
		}
	}()
	var scans sync.WaitGroup
	for i := range clients {
		scans.Add(1)
		go func() {
			defer scans.Done()
			c := &soapClient{t: t, base: ts.URL, http: hc}
			_, ck := handshake(c, "", fmt.Sprintf("client-%d", i))
			var cached []int
			for {
				var r tSyncResponse
				c.call(pathClient, nsClient, "SyncUpdates", syncBody(ck, cached), &r)
				for _, u := range r.Result.NewUpdates.Items {
					cached = append(cached, u.ID)
				}
				if !*r.Result.Truncated {
					break
				}
			}
			var rep tReportResponse
			c.call(pathReport, nsReporting, "ReportEventBatch", reportBody(ck, s.Catalog()[0].ID), &rep)
		}()
	}
	scans.Wait()
	cancel()
	wg.Wait()
	if n := len(s.Reports()); n != 2*clients {
		t.Errorf("%d reports, want %d", n, 2*clients)
	}
}

func TestReportsBounded(t *testing.T) {
	s := newTestServer(t, Options{ContentSize: 1})
	ck := s.newCookie("many")
	var batch strings.Builder
	for i := range 600 {
		fmt.Fprintf(&batch, "<ReportingEvent><BasicData><SequenceNumber>%d</SequenceNumber><Win32HResult>%d</Win32HResult></BasicData></ReportingEvent>", i, i)
	}
	body := envelope11("ReportEventBatch", nsReporting, tCookie(ck).xml("cookie")+"<eventBatch>"+batch.String()+"</eventBatch>")
	for range 20 { // 12000 events
		req := httptest.NewRequest(http.MethodPost, pathReport, strings.NewReader(body))
		req.Header.Set("SOAPAction", actReport)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
	}
	got := s.Reports()
	if len(got) != maxReports || got[len(got)-1].SequenceNumber != 599 || got[0].SequenceNumber != 200 {
		t.Errorf("%d reports kept, first seq %d, last %d; want %d, 200, 599", len(got), got[0].SequenceNumber, got[len(got)-1].SequenceNumber, maxReports)
	}
}

func TestCheckQualified(t *testing.T) {
	ok := envelope11("GetConfigResponse", nsClient, "<GetConfigResult><LastChange>x</LastChange></GetConfigResult>")
	bad := envelope11("GetConfigResponse", nsClient, `<GetConfigResult xmlns=""><LastChange>x</LastChange></GetConfigResult>`)
	if err := checkQualified([]byte(ok), nsClient); err != nil {
		t.Errorf("qualified answer rejected: %v", err)
	}
	if err := checkQualified([]byte(bad), nsClient); err == nil {
		t.Error(`an answer with xmlns="" passed`)
	}
}

func TestGetConfig2(t *testing.T) {
	c := startServer(t, newTestServer(t, Options{Registration: true}))
	var r struct {
		XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetConfig2Response"`
		Result  struct {
			IsRegistrationRequired bool   `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService IsRegistrationRequired"`
			PlugInID               string `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService AuthInfo>AuthPlugInInfo>PlugInID"`
		} `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetConfig2Result"`
	}
	c.call(pathClient, nsClient, "GetConfig2", "<clientInfo><protocolVersion>2.0</protocolVersion></clientInfo>", &r)
	if !r.Result.IsRegistrationRequired || r.Result.PlugInID != "SimpleTargeting" {
		t.Errorf("GetConfig2 result %+v", r.Result)
	}
}
