package wsus

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/wufault/wufault/internal/testlog"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testLogger routes slog to the test's own output.
var testLogger = testlog.New

// newTestServer builds a Server or fails the test.
func newTestServer(t testing.TB, o Options) *Server {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// fakeClock is a settable clock for cookie expiry.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// soapClient is the plain SOAP client of the tests: net/http and encoding/xml,
// nothing of the package under test.
type soapClient struct {
	t     testing.TB
	base  string // scheme://host:port
	http  *http.Client
	lower bool // send every path in lowercase, as some clients do
}

func (c *soapClient) path(p string) string {
	if c.lower {
		return strings.ToLower(p)
	}
	return p
}

const (
	actClient     = "http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/"
	actSimpleAuth = "http://www.microsoft.com/SoftwareDistribution/Server/SimpleAuthWebService/GetAuthorizationCookie"
	actReport     = "http://www.microsoft.com/SoftwareDistribution/ReportEventBatch"
	pathClient    = "/ClientWebService/Client.asmx"
	pathAuth      = "/SimpleAuthWebService/SimpleAuth.asmx"
	pathReport    = "/ReportingWebService/ReportingWebService.asmx"
)

// envelope11 wraps a method element in a SOAP 1.1 envelope the way WUA does.
func envelope11(method, ns, inner string) string {
	return `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" ` +
		`xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>` +
		`<` + method + ` xmlns="` + ns + `">` + inner + `</` + method + `></soap:Body></soap:Envelope>`
}

type rawResponse struct {
	status int
	header http.Header
	body   []byte
}

// post sends a SOAP 1.1 request and returns the raw answer.
func (c *soapClient) post(path, action, body string) rawResponse {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+c.path(path), strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "text/xml; charset=utf-8")
	if action != "" {
		req.Header.Set("SOAPAction", `"`+action+`"`)
	}
	req.Header.Set("User-Agent", "Windows-Update-Agent/10.0.10011.16384 Client-Protocol/2.50")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("POST %s %s: %v", path, action, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read %s: %v", action, err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

// call sends a method and decodes the element inside soap:Body into out; it fails
// the test on anything but 200.
func (c *soapClient) call(path, ns, method, inner string, out any) rawResponse {
	c.t.Helper()
	action := ns + "/" + method
	r := c.post(path, action, envelope11(method, ns, inner))
	if r.status != http.StatusOK {
		c.t.Fatalf("%s: status %d, body %s", method, r.status, r.body)
	}
	if err := decodeBody(r.body, out); err != nil {
		c.t.Fatalf("%s: decode: %v\n%s", method, err, r.body)
	}
	if err := checkQualified(r.body, ns); err != nil {
		c.t.Errorf("%s: %v\n%s", method, err, r.body)
	}
	return r
}

// checkQualified checks that every element inside the SOAP Body is in ns: the
// [MS-WUSP] schemas are elementFormDefault="qualified", and a strict client
// looks elements up by namespace and name.
func checkQualified(b []byte, ns string) error {
	dec := xml.NewDecoder(bytes.NewReader(b))
	depth := -1 // depth below Body; -1 outside it
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case depth >= 0:
				if t.Name.Space != ns {
					return fmt.Errorf("element <%s> is in namespace %q, want %q", t.Name.Local, t.Name.Space, ns)
				}
				depth++
			case t.Name.Local == "Body" && (t.Name.Space == nsSOAP11 || t.Name.Space == nsSOAP12):
				depth = 0
			}
		case xml.EndElement:
			if depth > 0 {
				depth--
			} else if depth == 0 {
				depth = -1
			}
		}
	}
}

// decodeBody decodes the first element of a SOAP 1.1 or 1.2 Body into out.
func decodeBody(b []byte, out any) error {
	var env struct {
		Body struct {
			Inner []byte `xml:",innerxml"`
		} `xml:"Body"`
	}
	if err := xml.Unmarshal(b, &env); err != nil {
		return err
	}
	if len(bytes.TrimSpace(env.Body.Inner)) == 0 {
		return fmt.Errorf("empty Body")
	}
	return xml.Unmarshal(env.Body.Inner, out)
}

// testFault is a decoded SOAP 1.1 fault with the WSUS detail.
type testFault struct {
	Code   string `xml:"faultcode"`
	String string `xml:"faultstring"`
	Actor  string `xml:"faultactor"`
	Detail struct {
		ErrorCode string `xml:"ErrorCode"`
		Message   string `xml:"Message"`
		ID        string `xml:"ID"`
		Method    string `xml:"Method"`
	} `xml:"detail"`
}

// fault decodes a fault answer and checks the HTTP side of it.
func fault(t testing.TB, r rawResponse) testFault {
	t.Helper()
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500 with a SOAP fault; body %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "text/xml; charset=utf-8" {
		t.Errorf("fault Content-Type %q", ct)
	}
	var f testFault
	if err := decodeBody(r.body, &f); err != nil {
		t.Fatalf("fault body: %v\n%s", err, r.body)
	}
	return f
}

func startServer(t *testing.T, s *Server) *soapClient {
	t.Helper()
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	c := ts.Client()
	t.Cleanup(c.CloseIdleConnections)
	return &soapClient{t: t, base: ts.URL, http: c}
}
