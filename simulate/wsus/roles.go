package wsus

import (
	"encoding/xml"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"

	"github.com/wufault/wufault/client/profile"
)

// Microsoft Update serves each role from its own names (reference
// wu-codes.md 6.2): SLS discovery, the legacy redirector cab, the client
// web service on fe2 (v6) and fe3, content on download.windowsupdate.com
// and the *.dl.delivery.mp.microsoft.com names. The emulator answers every
// role on any name, but the URLs it hands a client that called a Microsoft
// name are Microsoft's, so the client follows them host by host as WUA
// does, and a fault on one role's host leaves the others working.
const (
	// HostSLS is the Service Locator Service of Windows 10+ ([L-2F8F],
	// [L-2EFE]).
	HostSLS = "sls.update.microsoft.com"
	// HostRedirector serves the legacy wuredir.cab ([KB902093]).
	HostRedirector = "update.microsoft.com"
	// HostFE2 is the v6 client web service legacy clients are sent to
	// (third-party logs; reference 6.2).
	HostFE2 = "fe2.update.microsoft.com"
	// HostFE3 is the Windows 10+ client web service ([ASD]).
	HostFE3 = "fe3cr.delivery.mp.microsoft.com"
	// HostSelfUpdate serves the legacy wuident.cab ([LU8]).
	HostSelfUpdate = "www.update.microsoft.com"
	// HostDownload serves metadata cabs and payloads over HTTP ([AC],
	// [WSUS-CFG]).
	HostDownload = "download.windowsupdate.com"
	// HostMetadata serves the metadata (ECP) cabs a Windows 10+ client of
	// fe3 fetches during the scan: the name in [AC]'s log line ("ECP:
	// Failed to validate cab file digest downloaded from
	// http://www.download.windowsupdate.com/msdownload/update/software/…").
	HostMetadata = "www.download.windowsupdate.com"
	// HostDelivery is one of the *.dl.delivery.mp.microsoft.com payload
	// names ([W11-EP]; tlu. is covered by the wildcard, not separately
	// verified).
	HostDelivery = "tlu.dl.delivery.mp.microsoft.com"

	// ServiceIDMicrosoftUpdate is the ServiceId of the SLS path
	// ([L-2F8F] log line; [KB902093]).
	ServiceIDMicrosoftUpdate = "9482F4B4-E343-43B6-B170-9A65BC822C77"
	// RedirectorID is the redirectorId of the emulator's wuredir.cab. It
	// never changes: a client's redirector recovery gets the same one
	// again (WU_E_PT_SAME_REDIR_ID, 0x8024502D).
	RedirectorID = 1
)

// MicrosoftHost reports whether host (any case, port allowed) is one of
// Microsoft Update's names rather than a WSUS server's.
func MicrosoftHost(host string) bool {
	h := strings.ToLower(host)
	if hh, _, err := net.SplitHostPort(h); err == nil {
		h = hh
	}
	h = strings.TrimSuffix(h, ".")
	for _, d := range []string{"update.microsoft.com", "windowsupdate.com", "delivery.mp.microsoft.com", "windowsupdate.microsoft.com"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// fileURL is the URL of a content file for the client that sent r: under
// ContentBaseURL when set; on Microsoft's content hosts when the client
// called a Microsoft name (the lab's emulator port written in when it is
// not 80, so a client that bypasses the proxy reaches it); else on the
// name the client called, as a WSUS that stores updates locally does
// ([MS-WUSP] /Content).
func (s *Server) fileURL(r *http.Request, key string) string {
	wsusPath := "/Content/" + key[38:] + "/" + key + ".cab"
	if s.opts.ContentBaseURL != "" || !MicrosoftHost(requestHost(r)) {
		return s.baseURL(r) + wsusPath
	}
	port := s.contentPort()
	// Windows 10+ (the fe3 service) is sent to both content networks:
	// every other file on the delivery CDN.
	if fe3Client(r) && s.contentIdx[key]%2 == 1 {
		return "http://" + HostDelivery + port + "/filestreamingservice/files/" + key + ".cab"
	}
	return "http://" + HostDownload + port + "/c/msdownload/update/software/updt/" + key + ".cab"
}

// contentPort is ":port" for Microsoft Update content URLs when the lab's
// port is not 80, else "".
func (s *Server) contentPort() string {
	if s.opts.ContentPort != nil {
		if p := s.opts.ContentPort(); p > 0 && p != 80 {
			return ":" + strconv.Itoa(p)
		}
	}
	return ""
}

// fe3Client reports whether r came to the Windows 10+ client web service
// (a *.delivery.mp.microsoft.com name).
func fe3Client(r *http.Request) bool {
	return strings.Contains(strings.ToLower(requestHost(r)), "delivery.mp.microsoft.com")
}

// externalMetadata reports whether the client that sent r gets its
// updates' file metadata in external (ECP) cabs: a client of fe3, when no
// ContentBaseURL pins every file to one place.
func (s *Server) externalMetadata(r *http.Request) bool {
	return s.opts.ContentBaseURL == "" && fe3Client(r)
}

// metadataURL is the URL of a metadata cab, on HostMetadata.
func (s *Server) metadataURL(key string) string {
	return "http://" + HostMetadata + s.contentPort() + profile.MetadataPath + key + ".cab"
}

func requestHost(r *http.Request) string {
	if r.URL.IsAbs() && r.URL.Host != "" {
		return r.URL.Host
	}
	return r.Host
}

// slsXML is the emulator's SLS answer: where the client web service is.
// The element names are this emulator's (the real document is not in our
// references); the client reads the URLs it names.
type slsXML struct {
	XMLName   xml.Name `xml:"ServiceLocations"`
	ServiceID string   `xml:"ServiceId,attr"`
	Client    urlAttr  `xml:"ClientServer"`
	Reporting urlAttr  `xml:"ReportingServer"`
}

// serveSLS answers the SLS discovery request
// (/SLS/{ServiceId}/{arch}/{build}/0?…): the fe3 client web service.
func (s *Server) serveSLS(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	client := "https://" + HostFE3 + "/ClientWebService/client.asmx"
	if !MicrosoftHost(requestHost(r)) {
		client = s.baseURL(r) + "/ClientWebService/client.asmx"
	}
	doc := slsXML{ServiceID: "{" + ServiceIDMicrosoftUpdate + "}", Client: urlAttr{client},
		Reporting: urlAttr{strings.Replace(client, "/ClientWebService/client.asmx", "/ReportingWebService/ReportingWebService.asmx", 1)}}
	body, err := xml.Marshal(doc)
	if err != nil {
		panic(fmt.Sprintf("wsus: marshal the SLS answer: %v", err)) // static types: cannot fail
	}
	s.serveStatic(w, r, "sls.xml", "text/xml; charset=utf-8", append([]byte(xml.Header), body...))
}
