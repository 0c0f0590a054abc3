package faults

import (
	"encoding/xml"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPSOAPFault(t *testing.T) {
	req := httptest.NewRequest("POST", "http://wsus.lab:8530/ClientWebService/client.asmx", strings.NewReader("<x/>"))
	action := `"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/GetCookie"`
	req.Header.Set("SOAPAction", action)
	rec := httptest.NewRecorder()
	(&HTTPSOAPFault{Code: "client", ErrorCode: "InvalidParameters", Message: "a < b"}).ServeHTTP(rec, req, notCalled)
	if rec.Code != 500 || rec.Header().Get("Content-Type") != "text/xml; charset=utf-8" {
		t.Fatalf("%d %q", rec.Code, rec.Header())
	}
	var env struct {
		Body struct {
			Fault struct {
				Code   string `xml:"faultcode"`
				String string `xml:"faultstring"`
				Actor  string `xml:"faultactor"`
				Detail struct {
					ErrorCode, Message, ID, Method string
				} `xml:"detail"`
			} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Fault"`
		} `xml:"http://schemas.xmlsoap.org/soap/envelope/ Body"`
	}
	if err := xml.Unmarshal(rec.Body.Bytes(), &env); err != nil {
		t.Fatalf("not XML: %v\n%s", err, rec.Body)
	}
	f := env.Body.Fault
	if f.Code != "soap:Client" || f.Detail.ErrorCode != "InvalidParameters" || f.Detail.Message != "a < b" || f.Detail.Method != action ||
		len(f.Detail.ID) != 36 || f.Actor != "http://wsus.lab:8530/ClientWebService/client.asmx" {
		t.Errorf("fault %+v", f)
	}
	rec = httptest.NewRecorder()
	(&HTTPSOAPFault{Status: 200}).ServeHTTP(rec, req, notCalled)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "<faultcode>soap:Server</faultcode>") || !strings.Contains(rec.Body.String(), "<ErrorCode>InternalServerError</ErrorCode>") {
		t.Errorf("defaults: %d %s", rec.Code, rec.Body)
	}
}
