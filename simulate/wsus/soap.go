package wsus

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Namespaces ([MS-WUSP] WSDLs, sections 6.1-6.3; SOAP 1.2 and WS-Addressing as the
// cloud fe3 service uses them, reference wu-codes.md 6.3).
const (
	nsSOAP11     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12     = "http://www.w3.org/2003/05/soap-envelope"
	nsAddressing = "http://www.w3.org/2005/08/addressing"
	nsClient     = "http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService"
	nsSimpleAuth = "http://www.microsoft.com/SoftwareDistribution/Server/SimpleAuthWebService"
	nsReporting  = "http://www.microsoft.com/SoftwareDistribution"
)

type soapVersion int

const (
	soap11 soapVersion = 11
	soap12 soapVersion = 12
)

func (v soapVersion) String() string {
	if v == soap12 {
		return "1.2"
	}
	return "1.1"
}

// A service is one .asmx endpoint. Every SOAPAction is the service namespace,
// "/", and the method name: the exact strings GoSecure/pywsus matches, e.g.
// http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService/GetConfig
// and http://www.microsoft.com/SoftwareDistribution/ReportEventBatch.
type service struct {
	name    string
	ns      string
	methods []string
}

var (
	clientService = &service{name: "client", ns: nsClient, methods: []string{
		"GetConfig", "GetConfig2", "GetCookie", "RegisterComputer", "SyncUpdates",
		"GetExtendedUpdateInfo", "GetFileLocations", "RefreshCache",
	}}
	simpleAuthService = &service{name: "simpleauth", ns: nsSimpleAuth, methods: []string{"GetAuthorizationCookie"}}
	reportingService  = &service{name: "reporting", ns: nsReporting, methods: []string{"ReportEventBatch"}}
)

// method returns the method an action names, or "".
func (sv *service) method(action string) string {
	name, ok := strings.CutPrefix(action, sv.ns+"/")
	if !ok {
		return ""
	}
	for _, m := range sv.methods {
		if m == name {
			return m
		}
	}
	return ""
}

// ErrorCode is the WSUS fault detail <ErrorCode> ([MS-WUSP] SOAP fault detail;
// fields listed in [L-4007]: ErrorCode, Message, ID, Method).
type ErrorCode string

// The ErrorCode values this server sends. InvalidCookie, ServerChanged,
// ConfigChanged and CookieExpired make a real client redo GetConfig,
// GetAuthorizationCookie and GetCookie ([MS-WUSP] 3.1.5.2, reference wu-codes.md 3.2).
const (
	InvalidCookie              ErrorCode = "InvalidCookie"
	InvalidAuthorizationCookie ErrorCode = "InvalidAuthorizationCookie"
	InvalidParameters          ErrorCode = "InvalidParameters"
	ServerChanged              ErrorCode = "ServerChanged"
	ConfigChanged              ErrorCode = "ConfigChanged"
	CookieExpired              ErrorCode = "CookieExpired"
	RegistrationRequired       ErrorCode = "RegistrationRequired"
	InternalServerError        ErrorCode = "InternalServerError"
)

type faultCode int

const (
	faultClient faultCode = iota // SOAP 1.1 soap:Client, SOAP 1.2 Sender
	faultServer                  // SOAP 1.1 soap:Server, SOAP 1.2 Receiver
)

// soapFault is one fault to send. With an errorCode it carries the WSUS detail;
// without one it is a plain ASMX fault (unknown action, unreadable request).
type soapFault struct {
	code      faultCode
	str       string // faultstring; default "Fault occurred", as WSUS sends
	errorCode ErrorCode
	message   string
}

func wsusFault(code ErrorCode, format string, args ...any) *soapFault {
	f := &soapFault{code: faultClient, errorCode: code, message: fmt.Sprintf(format, args...)}
	if code == InternalServerError {
		f.code = faultServer
	}
	return f
}

// readFault is ASP.NET's answer to a body it cannot deserialize.
func readFault(err error) *soapFault {
	return &soapFault{code: faultClient, str: "Server was unable to read request. ---> " + err.Error()}
}

func (f *soapFault) faultcode(v soapVersion) string {
	switch {
	case v == soap12 && f.code == faultServer:
		return "s:Receiver"
	case v == soap12:
		return "s:Sender"
	case f.code == faultServer:
		return "soap:Server"
	default:
		return "soap:Client"
	}
}

// soapRequest is a parsed envelope positioned at the first element of Body.
type soapRequest struct {
	version   soapVersion
	action    string // from the WS-Addressing header, SOAP 1.2 only
	messageID string
	start     xml.StartElement
	dec       *xml.Decoder
}

var (
	errNotSOAP   = errors.New("the root element is not a SOAP 1.1 or 1.2 Envelope")
	errNoBody    = errors.New("the envelope has no Body element")
	errEmptyBody = errors.New("the Body element is empty")
	errDTD       = errors.New("DTD is prohibited in SOAP messages")
	errText      = errors.New("data at the root level is invalid")
)

// wsaHeader picks the WS-Addressing fields out of a SOAP 1.2 Header.
type wsaHeader struct {
	Action    string `xml:"http://www.w3.org/2005/08/addressing Action"`
	MessageID string `xml:"http://www.w3.org/2005/08/addressing MessageID"`
}

// parseEnvelope reads a SOAP 1.1 or 1.2 envelope up to the first element inside
// Body. The method element is decoded later with decode, which also checks that
// the rest of the document is well-formed. The version is returned as soon as
// the root element is known, even with an error, so the fault can match it.
func parseEnvelope(body []byte) (*soapRequest, error) {
	dec := xml.NewDecoder(bytes.NewReader(body))
	q := &soapRequest{version: soap11, dec: dec}
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			return q, err
		}
		if t, ok := tok.(xml.StartElement); ok {
			root = t
			break
		}
		if err := checkProlog(tok); err != nil {
			return q, err
		}
	}
	var envNS string
	switch {
	case root.Name.Local != "Envelope":
		return q, errNotSOAP
	case root.Name.Space == nsSOAP11:
		envNS = nsSOAP11
	case root.Name.Space == nsSOAP12:
		envNS, q.version = nsSOAP12, soap12
	default:
		return q, errNotSOAP
	}
	for {
		tok, err := dec.Token()
		if err != nil {
			return q, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case t.Name.Space == envNS && t.Name.Local == "Header":
				var h wsaHeader
				if err := dec.DecodeElement(&h, &t); err != nil {
					return q, err
				}
				q.action, q.messageID = strings.TrimSpace(h.Action), strings.TrimSpace(h.MessageID)
			case t.Name.Space == envNS && t.Name.Local == "Body":
				for {
					tok, err := dec.Token()
					if err != nil {
						return q, err
					}
					switch t := tok.(type) {
					case xml.StartElement:
						q.start = t
						return q, nil
					case xml.EndElement:
						return q, errEmptyBody
					case xml.Directive:
						return q, errDTD
					}
				}
			default:
				if err := dec.Skip(); err != nil {
					return q, err
				}
			}
		case xml.EndElement:
			return q, errNoBody
		case xml.Directive:
			return q, errDTD
		}
	}
}

// checkProlog accepts what may precede the root element.
func checkProlog(tok xml.Token) error {
	switch t := tok.(type) {
	case xml.Directive:
		return errDTD
	case xml.CharData:
		if len(bytes.TrimSpace(t)) > 0 {
			return errText
		}
	}
	return nil
}

// decode decodes the method element into v, then reads the rest of the document
// so that a malformed tail is still an error.
func (q *soapRequest) decode(v any) error {
	if err := q.dec.DecodeElement(v, &q.start); err != nil {
		return err
	}
	for {
		tok, err := q.dec.Token()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if _, ok := tok.(xml.Directive); ok {
			return errDTD
		}
	}
}

// soapAction returns the action of a request: for SOAP 1.1 the SOAPAction header;
// for SOAP 1.2 the Content-Type action parameter, else the WS-Addressing Action,
// else a SOAPAction header.
func soapAction(r *http.Request, q *soapRequest) string {
	header := strings.Trim(strings.TrimSpace(r.Header.Get("SOAPAction")), `"`)
	if q.version != soap12 {
		return header
	}
	if _, params, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err == nil && params["action"] != "" {
		return strings.Trim(params["action"], `"`)
	}
	if q.action != "" {
		return q.action
	}
	return header
}

const (
	soap11Open = xml.Header + `<soap:Envelope xmlns:soap="` + nsSOAP11 +
		`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>`
	soap11Close = `</soap:Body></soap:Envelope>`
	soap12Close = `</s:Body></s:Envelope>`
)

func soap12Open(action, relatesTo string) string {
	var b strings.Builder
	b.WriteString(xml.Header + `<s:Envelope xmlns:s="` + nsSOAP12 + `" xmlns:a="` + nsAddressing + `"><s:Header>`)
	if action != "" {
		b.WriteString(`<a:Action s:mustUnderstand="1">` + xmlEscape(action) + `</a:Action>`)
	}
	if relatesTo != "" {
		b.WriteString(`<a:RelatesTo>` + xmlEscape(relatesTo) + `</a:RelatesTo>`)
	}
	b.WriteString(`</s:Header><s:Body>`)
	return b.String()
}

func contentType(v soapVersion) string {
	if v == soap12 {
		return "application/soap+xml; charset=utf-8"
	}
	return "text/xml; charset=utf-8"
}

// writeEnvelope sends one envelope around inner with the ASP.NET headers.
func writeEnvelope(w http.ResponseWriter, v soapVersion, status int, inner []byte, action, relatesTo string) {
	var b bytes.Buffer
	if v == soap12 {
		b.WriteString(soap12Open(action, relatesTo))
	} else {
		b.WriteString(soap11Open)
	}
	b.Write(inner)
	if v == soap12 {
		b.WriteString(soap12Close)
	} else {
		b.WriteString(soap11Close)
	}
	h := w.Header()
	aspNetHeaders(h)
	h.Set("Content-Type", contentType(v))
	h.Set("Content-Length", strconv.Itoa(b.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}

// writeResponse marshals a response body element and sends it with 200.
func (s *Server) writeResponse(w http.ResponseWriter, q *soapRequest, action string, body any) error {
	inner, err := xml.Marshal(body)
	if err != nil {
		return fmt.Errorf("marshal response: %w", err)
	}
	respAction := ""
	if q.version == soap12 && action != "" {
		respAction = action + "Response"
	}
	writeEnvelope(w, q.version, http.StatusOK, inner, respAction, q.messageID)
	return nil
}

// writeFault sends a SOAP fault with HTTP 500, as SOAP 1.1 and ASP.NET do. A fault
// with a WSUS ErrorCode carries the WSUS detail: ErrorCode, Message, ID (a GUID
// unique per fault, deterministic per seed) and Method (the quoted action).
func (s *Server) writeFault(w http.ResponseWriter, v soapVersion, f soapFault, action, actor string) {
	str := f.str
	if str == "" {
		str = "Fault occurred"
	}
	var detail string
	if f.errorCode != "" {
		detail = "<ErrorCode>" + xmlEscape(string(f.errorCode)) + "</ErrorCode><Message>" + xmlEscape(f.message) +
			"</Message><ID>" + s.faultID() + "</ID><Method>" + xmlEscape(`"`+action+`"`) + "</Method>"
	}
	var b strings.Builder
	if v == soap12 {
		b.WriteString(`<s:Fault><s:Code><s:Value>` + f.faultcode(v) + `</s:Value></s:Code><s:Reason><s:Text xml:lang="en-US">` +
			xmlEscape(str) + `</s:Text></s:Reason>`)
		if detail != "" {
			b.WriteString(`<s:Detail>` + detail + `</s:Detail>`)
		}
		b.WriteString(`</s:Fault>`)
	} else {
		b.WriteString(`<soap:Fault><faultcode>` + f.faultcode(v) + `</faultcode><faultstring>` + xmlEscape(str) + `</faultstring>`)
		if actor != "" {
			b.WriteString(`<faultactor>` + xmlEscape(actor) + `</faultactor>`)
		}
		if detail != "" {
			b.WriteString(`<detail>` + detail + `</detail>`)
		} else {
			b.WriteString(`<detail />`)
		}
		b.WriteString(`</soap:Fault>`)
	}
	faultAction := ""
	if v == soap12 {
		faultAction = nsAddressing + "/fault"
	}
	writeEnvelope(w, v, http.StatusInternalServerError, []byte(b.String()), faultAction, "")
}

// faultID returns a GUID per fault, deterministic for a seed.
func (s *Server) faultID() string {
	n := s.faults.Add(1)
	var b [16]byte
	copy(b[:8], s.ident.key[:8])
	for i := range 8 {
		b[8+i] = byte(n >> (8 * (7 - i)))
	}
	return formatGUID(b)
}

// xsdTime formats a time as xsd:dateTime the way .NET writes UTC values.
func xsdTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// parseXSDTime accepts the xsd:dateTime forms clients send: with or without
// fraction and zone.
func parseXSDTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}
