package faults

import (
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// HTTPSOAPFault answers a SOAP call with a SOAP fault (WSUS ErrorCode in the detail).
type HTTPSOAPFault struct {
	// Code is the SOAP fault code: server (default) or client.
	Code string `yaml:"code,omitempty" json:"code,omitempty"`
	// ErrorCode is the WSUS ErrorCode in the detail (default InternalServerError).
	ErrorCode string `yaml:"error_code,omitempty" json:"error_code,omitempty"`
	// Status is the HTTP status (default 500).
	Status int `yaml:"status,omitempty" json:"status,omitempty"`
	// Message is the faultstring text.
	Message string `yaml:"message,omitempty" json:"message,omitempty"`
}

func init() {
	Register(Info{Kind: "http.soap_fault", Summary: "answers a SOAP call with a SOAP fault (WSUS ErrorCode in the detail)", New: func() Fault { return new(HTTPSOAPFault) }})
}

// Validate checks the parameters.
func (f *HTTPSOAPFault) Validate() error {
	var errs []error
	if f.Code != "" {
		errs = append(errs, oneOf("code", f.Code, []string{"server", "client"}))
	}
	if f.Status != 0 {
		errs = append(errs, validStatus("status", f.Status, 200, 599))
	}
	if strings.ContainsAny(f.ErrorCode, "<>& ") {
		errs = append(errs, fieldErr("error_code", "%q is not a WSUS error code name", f.ErrorCode))
	}
	return errors.Join(errs...)
}

var _ HTTPHook = (*HTTPSOAPFault)(nil)

const soapEnvelopeNS = "http://schemas.xmlsoap.org/soap/envelope/"

// ServeHTTP answers the SOAP call with a SOAP 1.1 fault envelope of the
// shape an ASMX WSUS server sends: faultcode soap:Server (or soap:Client),
// faultstring "Fault occurred", and a detail carrying ErrorCode (default
// InternalServerError), Message, a fresh ID and the Method (the request's
// SOAPAction). Status defaults to 500; the client takes the SOAP-fault
// path, not the HTTP-status one: 0x80244007 on Windows 10+, 0x8024400E
// (server) / 0x8024400D (client) on legacy clients (wu-codes.md 3.2).
func (f *HTTPSOAPFault) ServeHTTP(w http.ResponseWriter, r *http.Request, next http.Handler) {
	body := f.Envelope(r.Header.Get("SOAPAction"), actor(r))
	status := f.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	h := w.Header()
	h.Set("Content-Type", "text/xml; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Cache-Control", "private")
	w.WriteHeader(status)
	if bodyAllowed(r, status) {
		_, _ = io.WriteString(w, body)
	}
}

// Envelope returns the fault envelope for a call with the given SOAPAction
// header value (quotes included, as sent) and actor URL.
func (f *HTTPSOAPFault) Envelope(soapAction, actorURL string) string {
	code := "soap:Server"
	if f.Code == "client" {
		code = "soap:Client"
	}
	errCode := f.ErrorCode
	if errCode == "" {
		errCode = "InternalServerError"
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>`)
	b.WriteString(`<soap:Envelope xmlns:soap="` + soapEnvelopeNS + `" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">`)
	b.WriteString(`<soap:Body><soap:Fault><faultcode>` + code + `</faultcode><faultstring>Fault occurred</faultstring>`)
	if actorURL != "" {
		b.WriteString(`<faultactor>` + xmlEscape(actorURL) + `</faultactor>`)
	}
	b.WriteString(`<detail><ErrorCode>` + xmlEscape(errCode) + `</ErrorCode>`)
	if f.Message != "" {
		b.WriteString(`<Message>` + xmlEscape(f.Message) + `</Message>`)
	}
	b.WriteString(`<ID>` + newGUID() + `</ID>`)
	if soapAction != "" {
		b.WriteString(`<Method>` + xmlEscape(soapAction) + `</Method>`)
	}
	b.WriteString(`</detail></soap:Fault></soap:Body></soap:Envelope>`)
	return b.String()
}

func actor(r *http.Request) string {
	if r.URL.IsAbs() {
		return r.URL.String()
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + r.URL.RequestURI()
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

func newGUID() string {
	var u [16]byte
	_, _ = rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}
