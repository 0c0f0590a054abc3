package client

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// The SOAP 1.1 protocol of [MS-WUSP] as WSUS serves it (reference
// wu-codes.md 6.3): POST with Content-Type text/xml and a quoted
// SOAPAction of the service namespace, "/" and the method.
const (
	nsSOAP11     = "http://schemas.xmlsoap.org/soap/envelope/"
	nsSOAP12     = "http://www.w3.org/2003/05/soap-envelope"
	nsClient     = "http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService"
	nsSimpleAuth = "http://www.microsoft.com/SoftwareDistribution/Server/SimpleAuthWebService"
	nsReporting  = "http://www.microsoft.com/SoftwareDistribution"
	// protocolVersion is what the client sends ([MS-WUSP]: a client
	// SHOULD send "1.8").
	protocolVersion = "1.8"
)

// envelope wraps a method element in a SOAP 1.1 envelope.
func envelope(method, ns, inner string) []byte {
	return []byte(`<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="` + nsSOAP11 +
		`" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema"><soap:Body>` +
		`<` + method + ` xmlns="` + ns + `">` + inner + `</` + method + `></soap:Body></soap:Envelope>`)
}

func xmlText(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// xsdTime formats a time as xsd:dateTime.
func xsdTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// soapBody is what a response envelope held: the first element of Body,
// or a fault.
type soapBody struct {
	name  xml.Name
	raw   []byte // the element, for decoding
	fault *SOAPFault
}

// errNotSOAP means the bytes are not a SOAP envelope at all (an HTML
// error page, an empty body): an HTTP status then decides, not SOAP.
var errNotSOAP = errors.New("not a SOAP envelope")

// parseEnvelope reads a SOAP 1.1 or 1.2 envelope. It returns errNotSOAP
// (wrapped) when the root is not an Envelope, and other errors when the
// envelope is malformed.
func parseEnvelope(b []byte) (*soapBody, error) {
	dec := xml.NewDecoder(bytes.NewReader(b))
	var root xml.StartElement
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errNotSOAP, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			root = se
			break
		}
	}
	if root.Name.Local != "Envelope" || (root.Name.Space != nsSOAP11 && root.Name.Space != nsSOAP12) {
		return nil, fmt.Errorf("%w: root element %s", errNotSOAP, root.Name.Local)
	}
	ns := root.Name.Space
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("envelope: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Space != ns || t.Name.Local != "Body" {
				if err := dec.Skip(); err != nil {
					return nil, fmt.Errorf("envelope: %w", err)
				}
				continue
			}
			return parseBody(dec, ns)
		case xml.EndElement:
			return nil, errors.New("envelope has no Body")
		}
	}
}

func parseBody(dec *xml.Decoder, ns string) (*soapBody, error) {
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("body: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			var raw struct {
				Inner []byte `xml:",innerxml"`
			}
			if err := dec.DecodeElement(&raw, &t); err != nil {
				return nil, fmt.Errorf("body: %w", err)
			}
			// Decoding goes by local names only, so the element is
			// rebuilt without its namespace declarations.
			var b bytes.Buffer
			b.WriteString("<" + t.Name.Local + ">")
			b.Write(raw.Inner)
			b.WriteString("</" + t.Name.Local + ">")
			body := &soapBody{name: t.Name, raw: b.Bytes()}
			if t.Name.Space == ns && t.Name.Local == "Fault" {
				f, err := parseFault(body.raw, ns)
				if err != nil {
					return nil, err
				}
				body.fault = f
			}
			// The rest of the document must be well-formed too.
			for {
				if _, err := dec.Token(); err != nil {
					if errors.Is(err, io.EOF) {
						return body, nil
					}
					return nil, fmt.Errorf("envelope: %w", err)
				}
			}
		case xml.EndElement:
			return nil, errors.New("empty Body")
		}
	}
}

// parseFault reads a SOAP 1.1 or 1.2 fault with the WSUS detail.
func parseFault(raw []byte, ns string) (*SOAPFault, error) {
	var f struct {
		Code11   string `xml:"faultcode"`
		String11 string `xml:"faultstring"`
		Code12   string `xml:"Code>Value"`
		Reason12 string `xml:"Reason>Text"`
		Detail   struct {
			ErrorCode string `xml:"ErrorCode"`
		} `xml:"detail"`
		Detail12 struct {
			ErrorCode string `xml:"ErrorCode"`
		} `xml:"Detail"`
	}
	if err := xml.Unmarshal(raw, &f); err != nil {
		return nil, fmt.Errorf("fault: %w", err)
	}
	code, str, ec := f.Code11, f.String11, f.Detail.ErrorCode
	if ns == nsSOAP12 {
		code, str, ec = f.Code12, f.Reason12, f.Detail12.ErrorCode
	}
	code = strings.TrimSpace(code)
	if i := strings.LastIndexByte(code, ':'); i >= 0 {
		code = code[i+1:]
	}
	switch code { // SOAP 1.2 names of the SOAP 1.1 codes
	case "Sender":
		code = "Client"
	case "Receiver":
		code = "Server"
	}
	return &SOAPFault{Code: code, String: strings.TrimSpace(str), ErrorCode: strings.TrimSpace(ec)}, nil
}

// Response shapes of [MS-WUSP], decoded by element name.

type cookie struct {
	Expiration    string `xml:"Expiration"`
	EncryptedData string `xml:"EncryptedData"`
}

func (c cookie) xml(name string) string {
	return "<" + name + "><Expiration>" + xmlText(c.Expiration) + "</Expiration><EncryptedData>" +
		xmlText(c.EncryptedData) + "</EncryptedData></" + name + ">"
}

type configResponse struct {
	Result struct {
		LastChange             string `xml:"LastChange"`
		IsRegistrationRequired bool   `xml:"IsRegistrationRequired"`
		AuthInfo               []struct {
			PlugInID   string `xml:"PlugInID"`
			ServiceURL string `xml:"ServiceUrl"`
		} `xml:"AuthInfo>AuthPlugInInfo"`
		Properties []struct {
			Name  string `xml:"Name"`
			Value string `xml:"Value"`
		} `xml:"Properties>ConfigurationProperty"`
	} `xml:"GetConfigResult"`
}

type authCookieResponse struct {
	Result struct {
		PlugInID   string `xml:"PlugInId"`
		CookieData string `xml:"CookieData"`
	} `xml:"GetAuthorizationCookieResult"`
}

type cookieResponse struct {
	Result cookie `xml:"GetCookieResult"`
}

type updateInfo struct {
	ID         int `xml:"ID"`
	Deployment struct {
		ID     int    `xml:"ID"`
		Action string `xml:"Action"`
	} `xml:"Deployment"`
	IsLeaf bool   `xml:"IsLeaf"`
	XML    string `xml:"Xml"`
}

type syncResponse struct {
	Result struct {
		NewUpdates []updateInfo `xml:"NewUpdates>UpdateInfo"`
		Truncated  bool         `xml:"Truncated"`
		NewCookie  *cookie      `xml:"NewCookie"`
	} `xml:"SyncUpdatesResult"`
}

type fileLocation struct {
	FileDigest string `xml:"FileDigest"`
	URL        string `xml:"Url"`
}

type extendedResponse struct {
	Result struct {
		Updates []struct {
			ID  int    `xml:"ID"`
			XML string `xml:"Xml"`
		} `xml:"Updates>Update"`
		FileLocations []fileLocation `xml:"FileLocations>FileLocation"`
	} `xml:"GetExtendedUpdateInfoResult"`
}

type fileLocationsResponse struct {
	Result struct {
		FileLocations []fileLocation `xml:"FileLocations>FileLocation"`
		NewCookie     *cookie        `xml:"NewCookie"`
	} `xml:"GetFileLocationsResult"`
}

type reportResponse struct {
	Result bool `xml:"ReportEventBatchResult"`
}

// updateFile is a file of an update, from its Extended fragment.
type updateFile struct {
	Digest   string // base64 SHA-1, as FileLocations key it
	SHA256   string // base64 SHA-256 (AdditionalDigest), may be empty
	Name     string
	Size     int64
	URL      string
	UpdateID int
}

// ecpRef is an Extended fragment's pointer to the metadata cab that holds
// the update's file metadata (the emulator's <ExternalMetadata>; see
// session.fetchMetadata).
type ecpRef struct {
	Digest   string `xml:"Digest,attr"` // base64 SHA-1 of the cab, as FileLocations key it
	FileName string `xml:"FileName,attr"`
	UpdateID int    `xml:"-"`
}

// fragmentECP reads the ExternalMetadata of an Extended fragment (nil when
// the fragment carries its files itself).
func fragmentECP(frag string) (*ecpRef, error) {
	var f struct {
		Ref *ecpRef `xml:"ExternalMetadata"`
	}
	if err := xml.Unmarshal([]byte("<Fragment>"+frag+"</Fragment>"), &f); err != nil {
		return nil, err
	}
	if f.Ref != nil && (strings.TrimSpace(f.Ref.Digest) == "" || strings.TrimSpace(f.Ref.FileName) == "") {
		return nil, errors.New("ExternalMetadata without Digest or FileName")
	}
	return f.Ref, nil
}

// fragmentFiles reads the Files of an Extended XML fragment.
func fragmentFiles(frag string) ([]updateFile, error) {
	return documentFiles([]byte("<Fragment>" + frag + "</Fragment>"))
}

// documentFiles reads the Files element under a document's root.
func documentFiles(doc []byte) ([]updateFile, error) {
	var f struct {
		Files []struct {
			Digest     string `xml:"Digest,attr"`
			Algorithm  string `xml:"DigestAlgorithm,attr"`
			FileName   string `xml:"FileName,attr"`
			Size       int64  `xml:"Size,attr"`
			Additional []struct {
				Algorithm string `xml:"Algorithm,attr"`
				Value     string `xml:",chardata"`
			} `xml:"AdditionalDigest"`
		} `xml:"Files>File"`
	}
	if err := xml.Unmarshal(doc, &f); err != nil {
		return nil, err
	}
	var out []updateFile
	for _, x := range f.Files {
		uf := updateFile{Digest: strings.TrimSpace(x.Digest), Name: x.FileName, Size: x.Size}
		for _, a := range x.Additional {
			if strings.EqualFold(a.Algorithm, "SHA256") {
				uf.SHA256 = strings.TrimSpace(a.Value)
			}
		}
		out = append(out, uf)
	}
	return out, nil
}
