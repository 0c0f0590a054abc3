package simulate

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
)

// httpCase is one http.* fault and what a client must see.
type httpCase struct {
	name  string
	kind  string
	fault faults.Fault
	path  string
	do    func(req *http.Request)
	check func(t *testing.T, resp *http.Response, body []byte, err error)
}

const blobSize = 20000

func httpCases() []httpCase {
	blobPath := fmt.Sprintf("/blob/%d", blobSize)
	return []httpCase{
		{"status with body and headers", "http.status", &faults.HTTPStatus{Status: 503, Body: "busy", Headers: map[string]string{"Retry-After": "120"}}, "/echo", nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || resp.StatusCode != 503 || string(body) != "busy" || resp.Header.Get("Retry-After") != "120" {
					t.Errorf("got %v %q %v", resp, body, err)
				}
			}},
		{"status default page", "http.status", &faults.HTTPStatus{Status: 404}, "/echo", nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || resp.StatusCode != 404 || !strings.Contains(string(body), "404 Not Found") {
					t.Errorf("got %v %q %v", resp, body, err)
				}
			}},
		{"soap fault", "http.soap_fault", &faults.HTTPSOAPFault{ErrorCode: "InvalidCookie", Message: "cookie & expired"}, "/ClientWebService/client.asmx",
			func(req *http.Request) {
				req.Method = http.MethodPost
				req.Body = io.NopCloser(strings.NewReader("<soap/>"))
				req.ContentLength = 7
				req.Header.Set("SOAPAction", `"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/SyncUpdates"`)
			},
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				s := string(body)
				if err != nil || resp.StatusCode != 500 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") ||
					!strings.Contains(s, "<faultcode>soap:Server</faultcode>") || !strings.Contains(s, "<ErrorCode>InvalidCookie</ErrorCode>") ||
					!strings.Contains(s, "cookie &amp; expired") || !strings.Contains(s, "ClientWebService/SyncUpdates&#34;</Method>") {
					t.Errorf("got %v %q %v", resp, body, err)
				}
			}},
		{"content type", "http.content_type", &faults.HTTPContentType{Type: "text/html"}, blobPath, nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || resp.Header.Get("Content-Type") != "text/html" || len(body) != blobSize {
					t.Errorf("got %v %d bytes %v", resp.Header, len(body), err)
				}
			}},
		{"range ignored", "http.range_ignored", &faults.HTTPRangeIgnored{}, blobPath, func(req *http.Request) { req.Header.Set("Range", "bytes=10-19") },
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || resp.StatusCode != 200 || len(body) != blobSize {
					t.Errorf("got %v, %d bytes, %v; want 200 and the whole body", resp.Status, len(body), err)
				}
			}},
		{"corrupt", "http.corrupt", &faults.HTTPCorrupt{AfterBytes: 10, Count: 3}, blobPath, nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				want := blob(blobSize)
				if err != nil || len(body) != blobSize {
					t.Fatalf("%d bytes %v", len(body), err)
				}
				for i := range want {
					flipped := i >= 10 && i < 13
					if (body[i] == want[i]^0xFF) != flipped || (body[i] == want[i]) == flipped {
						t.Errorf("byte %d: got %#x, original %#x, flipped %v", i, body[i], want[i], flipped)
					}
				}
			}},
		{"truncate keep", "http.truncate", &faults.HTTPTruncate{AfterBytes: 1234}, blobPath, nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if resp == nil || resp.ContentLength != blobSize || len(body) != 1234 || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("got %v, %d bytes, %v; want length %d, 1234 bytes, unexpected EOF", resp, len(body), err, blobSize)
				}
			}},
		{"truncate keep chunked", "http.truncate", &faults.HTTPTruncate{AfterBytes: 1234}, "/chunked/5000", nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if resp == nil || resp.ContentLength != -1 || len(body) != 1234 || !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Errorf("got %v, %d bytes, %v; want chunked, 1234 bytes, unexpected EOF", resp, len(body), err)
				}
			}},
		{"truncate match", "http.truncate", &faults.HTTPTruncate{AfterBytes: 1234, Length: "match"}, blobPath, nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || resp.ContentLength != 1234 || !bytes.Equal(body, blob(blobSize)[:1234]) {
					t.Errorf("got %v, %d bytes, %v; want a complete-looking 1234-byte body", resp, len(body), err)
				}
			}},
		{"truncate none", "http.truncate", &faults.HTTPTruncate{AfterBytes: 1234, Length: "none"}, blobPath, nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || resp.ContentLength != -1 || len(resp.TransferEncoding) != 0 || len(body) != 1234 {
					t.Errorf("got %v, %d bytes, %v; want no length and 1234 bytes ended by the close", resp, len(body), err)
				}
			}},
		{"malformed garbage-status", "http.malformed", &faults.HTTPMalformed{Variant: "garbage-status"}, "/echo", nil, wantErr("malformed HTTP status code")},
		{"malformed bad-header", "http.malformed", &faults.HTTPMalformed{Variant: "bad-header"}, "/echo", nil, wantErr("malformed MIME header")},
		{"malformed bad-chunk", "http.malformed", &faults.HTTPMalformed{Variant: "bad-chunk"}, "/echo", nil, wantErr("invalid byte in chunk length")},
		{"malformed http09", "http.malformed", &faults.HTTPMalformed{Variant: "http09"}, "/echo", nil, wantErr("malformed HTTP")},
		{"malformed header-flood", "http.malformed", &faults.HTTPMalformed{Variant: "header-flood"}, "/echo", nil,
			func(t *testing.T, resp *http.Response, body []byte, err error) {
				if err != nil || len(resp.Header) < 10000 {
					t.Errorf("got %v, %v", err, resp)
				}
			}},
		{"malformed huge-header", "http.malformed", &faults.HTTPMalformed{Variant: "huge-header"}, "/echo", nil, wantErr("exceeded")},
		{"redirect loop", "http.redirect_loop", &faults.HTTPRedirectLoop{}, "/echo", nil, wantErr("stopped after 10 redirects")},
	}
}

func wantErr(s string) func(t *testing.T, resp *http.Response, body []byte, err error) {
	return func(t *testing.T, resp *http.Response, body []byte, err error) {
		if err == nil || !strings.Contains(err.Error(), s) {
			t.Errorf("err = %v, want one containing %q", err, s)
		}
	}
}

func TestProxyHTTPFaultsPlain(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, false)
	for _, tc := range httpCases() {
		t.Run(tc.name, func(t *testing.T) {
			activate(t, w, spec(tc.kind, tc.fault, faults.Match{Path: tc.path}, faults.When{}))
			req, _ := http.NewRequest(http.MethodGet, o.URL+tc.path, nil)
			if tc.do != nil {
				tc.do(req)
			}
			resp, err := client(t, w, nil, 5*time.Second).Do(req)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			tc.check(t, resp, body, err)
			fired := w.Journal().Events(0, func(e Event) bool { return e.Kind == EventFault && e.Fault == tc.kind && e.Scenario == t.Name() })
			if len(fired) == 0 {
				t.Errorf("no %s firing journaled", tc.kind)
			}
		})
	}
}

// tunnelClient sends requests over a CONNECT tunnel carrying plain HTTP,
// as a client that tunnels http:// URLs (curl --proxytunnel) does.
type tunnelClient struct {
	t    *testing.T
	c    net.Conn
	br   *bufio.Reader
	host string
}

func dialTunnel(t *testing.T, w *World, host string) *tunnelClient {
	t.Helper()
	c := rawProxyConn(t, w)
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", host, host)
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	return &tunnelClient{t: t, c: c, br: br, host: host}
}

func (tc *tunnelClient) do(req *http.Request) (*http.Response, []byte, error) {
	req.URL.Host = tc.host
	req.Host = tc.host
	if err := req.Write(tc.c); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(tc.br, req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

// The same faults inside a CONNECT tunnel that carries plain HTTP: the
// proxy intercepts it because a rule for the host needs the HTTP.
func TestProxyHTTPFaultsIntercepted(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, false)
	host := strings.TrimPrefix(o.URL, "http://")
	for _, tc := range httpCases() {
		if tc.kind == "http.redirect_loop" || strings.HasPrefix(tc.name, "malformed") && tc.name != "malformed garbage-status" {
			continue // follow-up requests and parser errors are covered on plain HTTP
		}
		t.Run(tc.name, func(t *testing.T) {
			activate(t, w, spec(tc.kind, tc.fault, faults.Match{Host: "127.0.0.1", Path: tc.path}, faults.When{}))
			tun := dialTunnel(t, w, host)
			// An unmatched request first: the tunnel keeps the connection alive.
			req, _ := http.NewRequest(http.MethodGet, "http://"+host+"/blob/10", nil)
			if resp, body, err := tun.do(req); err != nil || resp.StatusCode != 200 || len(body) != 10 {
				t.Fatalf("unmatched request in the tunnel: %v %d %v", resp, len(body), err)
			}
			req, _ = http.NewRequest(http.MethodGet, "http://"+host+tc.path, nil)
			if tc.do != nil {
				tc.do(req)
			}
			resp, body, err := tun.do(req)
			if tc.name == "malformed garbage-status" {
				if err == nil || !strings.Contains(err.Error(), "malformed HTTP status code") {
					t.Errorf("err = %v", err)
				}
				return
			}
			tc.check(t, resp, body, err)
		})
	}
	n := 0
	for _, e := range w.Journal().Events(0, nil) {
		if e.Kind == EventRequest && e.Method == http.MethodGet && e.Host == host {
			n++
		}
	}
	if n == 0 {
		t.Error("no intercepted request journaled")
	}
}

// A rule matching class scan fires on SOAP paths only, and when selection
// is the same for the same seed.
func TestProxyClassAndSeed(t *testing.T) {
	w := proxyWorld(t, Options{})
	o := origin(t, false)
	p := 0.5
	run := func() []int {
		w.Activate("seeded", 42, []faults.Spec{spec("http.status", &faults.HTTPStatus{Status: 503}, faults.Match{Class: profile.ClassScan}, faults.When{Probability: &p})})
		c := client(t, w, nil, 5*time.Second)
		var got []int
		for _, path := range []string{"/echo", "/ClientWebService/client.asmx", "/ClientWebService/client.asmx", "/ClientWebService/client.asmx", "/ClientWebService/client.asmx", "/ClientWebService/client.asmx", "/ClientWebService/client.asmx"} {
			resp, err := c.Post(o.URL+path, "text/xml", strings.NewReader("<x/>"))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			got = append(got, resp.StatusCode)
		}
		return got
	}
	a, b := run(), run()
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("same seed, different selections: %v vs %v", a, b)
	}
	if a[0] != 200 {
		t.Errorf("class download request got %d", a[0])
	}
	if !strings.Contains(fmt.Sprint(a[1:]), "503") || !strings.Contains(fmt.Sprint(a[1:]), "200") {
		t.Errorf("probability 0.5 over 6 requests gave %v", a[1:])
	}
}
