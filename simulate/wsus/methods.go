package wsus

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
)

const (
	protocolVersion       = "3.2" // GetConfig ProtocolVersion, as GoSecure/pywsus answers
	maxExtendedPerRequest = 20    // GetConfig MaxExtendedUpdatesPerRequest (GoSecure/pywsus)
	maxOutOfScope         = 1000  // OutOfScopeRevisionIDs listed per answer
)

// handler answers one SOAP method: a response body element, or a fault.
type handler func(s *Server, q *soapRequest, r *http.Request, c *Call) (any, *soapFault)

// handlerFor returns the handler of a method name from a service's list.
func handlerFor(method string) handler {
	switch method {
	case "GetConfig", "GetConfig2":
		return (*Server).getConfig
	case "GetCookie":
		return (*Server).getCookie
	case "RegisterComputer":
		return (*Server).registerComputer
	case "SyncUpdates":
		return (*Server).syncUpdates
	case "GetExtendedUpdateInfo":
		return (*Server).getExtendedUpdateInfo
	case "GetFileLocations":
		return (*Server).getFileLocations
	case "RefreshCache":
		return (*Server).refreshCache
	case "GetAuthorizationCookie":
		return (*Server).getAuthorizationCookie
	case "ReportEventBatch":
		return (*Server).reportEventBatch
	}
	panic("wsus: no handler for " + method) // every service method has one
}

// serveSOAP answers one request to a service endpoint: GET and HEAD get a small
// service page (as ASMX does), POST is dispatched on the SOAP action; any other
// method gets 405. Bad input gets the fault ASP.NET would send, an oversized body
// 413; a panic becomes an InternalServerError fault.
func (s *Server) serveSOAP(w *statusWriter, r *http.Request, svc *service) {
	switch r.Method {
	case http.MethodPost:
	case http.MethodGet, http.MethodHead:
		servicePage(w, r, svc)
		return
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "405 - HTTP verb used to access this page is not allowed.", http.StatusMethodNotAllowed)
		return
	}
	c := Call{Time: s.now(), Remote: r.RemoteAddr, Host: r.Host, Path: r.URL.Path, Service: svc.name, SOAP: soap11.String()}
	version := soap11
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.log.Warn("wsus: recovered panic", "panic", fmt.Sprint(v), "method", c.Method, "stack", string(debug.Stack()))
			if w.status == 0 {
				f := wsusFault(InternalServerError, "internal error")
				s.writeFault(w, version, *f, c.Action, "")
				c.Fault, c.ErrorCode = f.faultcode(version), f.errorCode
			}
		}
		c.Status = w.status
		c.Duration = s.now().Sub(c.Time)
		s.log.Debug("wsus: call", "endpoint", c.Service, "method", c.Method, "status", c.Status,
			"fault", c.Fault, "error_code", string(c.ErrorCode), "computer", c.Computer, "remote", c.Remote)
		if s.opts.OnCall != nil {
			s.opts.OnCall(c)
		}
	}()
	fail := func(f *soapFault) {
		s.writeFault(w, version, *f, c.Action, s.baseURL(r)+r.URL.Path)
		c.Fault, c.ErrorCode = f.faultcode(version), f.errorCode
	}

	if r.ContentLength > MaxRequestBytes {
		http.Error(w, "413 - Request Entity Too Large", http.StatusRequestEntityTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxRequestBytes))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "413 - Request Entity Too Large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "400 - Bad Request", http.StatusBadRequest)
		return
	}
	q, err := parseEnvelope(body)
	version = q.version
	c.SOAP = version.String()
	c.Action = soapAction(r, q)
	if err != nil {
		fail(readFault(err))
		return
	}
	if c.Action == "" {
		fail(&soapFault{str: "Unable to handle request without a valid action parameter. Please supply a valid soap action."})
		return
	}
	c.Method = svc.method(c.Action)
	if c.Method == "" {
		fail(&soapFault{str: "Server did not recognize the value of HTTP Header SOAPAction: " + c.Action + "."})
		return
	}
	if q.start.Name.Local != c.Method || q.start.Name.Space != svc.ns {
		fail(readFault(fmt.Errorf("<%s xmlns='%s'> was not expected", q.start.Name.Local, q.start.Name.Space)))
		return
	}
	resp, f := handlerFor(c.Method)(s, q, r, &c)
	if f != nil {
		fail(f)
		return
	}
	if err := s.writeResponse(w, q, c.Action, resp); err != nil {
		panic(err) // our own types: a bug, answered as InternalServerError
	}
}

// servicePage is the small page ASMX shows for a GET of the endpoint.
func servicePage(w http.ResponseWriter, r *http.Request, svc *service) {
	aspNetHeaders(w.Header())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	var b strings.Builder
	b.WriteString("<html><head><title>Web Service</title></head><body><h1>" + xmlEscape(svc.ns) + "</h1><p>Operations:</p><ul>")
	for _, m := range svc.methods {
		b.WriteString("<li>" + m + "</li>")
	}
	b.WriteString("</ul></body></html>\r\n")
	_, _ = io.WriteString(w, b.String())
}

// Wire types. Element names and order follow the [MS-WUSP] schemas and the
// responses GoSecure/pywsus serves to real clients (reference wu-codes.md 6.3).

type xmlCookie struct {
	Expiration    string `xml:"Expiration"`
	EncryptedData string `xml:"EncryptedData"`
}

func (s *Server) newCookie(clientID string) xmlCookie {
	exp := s.now().Add(cookieLifetime)
	return xmlCookie{Expiration: xsdTime(exp), EncryptedData: s.sealCookie(cookie{kind: cookieKindClnt, expires: exp, clientID: clientID})}
}

// checkCookie maps a client cookie to the [MS-WUSP] ErrorCode of its problem.
func (s *Server) checkCookie(xc *xmlCookie, c *Call) (cookie, *soapFault) {
	if xc == nil {
		return cookie{}, wsusFault(InvalidCookie, "cookie is missing")
	}
	ck, err := s.openCookie(xc.EncryptedData, cookieKindClnt)
	switch {
	case err == nil:
		c.Computer = ck.clientID
		return ck, nil
	case errors.Is(err, errCookieServer):
		return ck, wsusFault(ServerChanged, "%v", err)
	case errors.Is(err, errCookieExpired):
		c.Computer = ck.clientID
		return ck, wsusFault(CookieExpired, "%v", err)
	default:
		return ck, wsusFault(InvalidCookie, "%v", err)
	}
}

// GetConfig, [MS-WUSP] 2.2.2.2.1. GetConfig2 takes other parameters but answers
// the same configuration under its own element names (inferred; not in our
// references).

type configResult struct {
	LastChange             string           `xml:"LastChange"`
	IsRegistrationRequired bool             `xml:"IsRegistrationRequired"`
	AuthInfo               []authPlugInInfo `xml:"AuthInfo>AuthPlugInInfo"`
	Properties             []configProperty `xml:"Properties>ConfigurationProperty"`
}

type authPlugInInfo struct {
	PlugInID   string `xml:"PlugInID"`
	ServiceURL string `xml:"ServiceUrl"`
	Parameter  string `xml:"Parameter"`
}

type configProperty struct {
	Name  string `xml:"Name"`
	Value string `xml:"Value"`
}

type configResponse struct {
	XMLName xml.Name     `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetConfigResponse"`
	Result  configResult `xml:"GetConfigResult"`
}

type config2Response struct {
	XMLName xml.Name     `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetConfig2Response"`
	Result  configResult `xml:"GetConfig2Result"`
}

func (s *Server) getConfig(q *soapRequest, _ *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		ProtocolVersion string `xml:"protocolVersion"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	res := configResult{
		LastChange:             xsdTime(catalogTime),
		IsRegistrationRequired: s.opts.Registration,
		// The [MS-WUSP] example: SimpleTargeting, served by SimpleAuth.asmx
		// relative to the server root, so the client calls GetAuthorizationCookie.
		AuthInfo: []authPlugInInfo{{PlugInID: "SimpleTargeting", ServiceURL: "SimpleAuthWebService/SimpleAuth.asmx"}},
		Properties: []configProperty{
			{"ProtocolVersion", protocolVersion},
			{"MaxExtendedUpdatesPerRequest", fmt.Sprint(maxExtendedPerRequest)},
			{"IsInventoryRequired", "0"},
			{"ClientReportingLevel", "2"},
		},
	}
	if c.Method == "GetConfig2" {
		return config2Response{Result: res}, nil
	}
	return configResponse{Result: res}, nil
}

// GetAuthorizationCookie, [MS-WUSP] SimpleAuth web service.

type authCookieResponse struct {
	XMLName xml.Name   `xml:"http://www.microsoft.com/SoftwareDistribution/Server/SimpleAuthWebService GetAuthorizationCookieResponse"`
	Result  authCookie `xml:"GetAuthorizationCookieResult"`
}

type authCookie struct {
	PlugInID   string `xml:"PlugInId"`
	CookieData string `xml:"CookieData"`
}

func (s *Server) getAuthorizationCookie(q *soapRequest, _ *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		ClientID        string `xml:"clientId"`
		TargetGroupName string `xml:"targetGroupName"`
		DNSName         string `xml:"dnsName"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	id := sanitizeClientID(req.ClientID)
	if id == "" {
		return nil, wsusFault(InvalidParameters, "clientId is required")
	}
	c.Computer = id
	data := s.sealCookie(cookie{kind: cookieKindAuth, expires: s.now().Add(cookieLifetime), clientID: id})
	return authCookieResponse{Result: authCookie{PlugInID: "SimpleTargeting", CookieData: data}}, nil
}

// GetCookie, [MS-WUSP] 2.2.2.2.2.

type cookieResponse struct {
	XMLName xml.Name  `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetCookieResponse"`
	Result  xmlCookie `xml:"GetCookieResult"`
}

func (s *Server) getCookie(q *soapRequest, _ *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		AuthCookies     []authCookie `xml:"authCookies>AuthorizationCookie"`
		OldCookie       *xmlCookie   `xml:"oldCookie"`
		LastChange      *string      `xml:"lastChange"`
		CurrentTime     string       `xml:"currentTime"`
		ProtocolVersion string       `xml:"protocolVersion"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	var auth cookie
	found := false
	for _, ac := range req.AuthCookies {
		if ck, err := s.openCookie(ac.CookieData, cookieKindAuth); err == nil {
			auth, found = ck, true
			break
		}
	}
	if !found {
		return nil, wsusFault(InvalidAuthorizationCookie, "no valid authorization cookie from GetAuthorizationCookie")
	}
	c.Computer = auth.clientID
	if req.LastChange == nil {
		return nil, wsusFault(InvalidParameters, "lastChange is required")
	}
	last, ok := parseXSDTime(*req.LastChange)
	if !ok {
		return nil, wsusFault(InvalidParameters, "lastChange %q is not an xsd:dateTime", *req.LastChange)
	}
	// The client's configuration predates the server's: it must call GetConfig
	// again ([MS-WUSP] GetCookie, ConfigChanged).
	if last.Before(catalogTime) {
		return nil, wsusFault(ConfigChanged, "configuration changed at %s", xsdTime(catalogTime))
	}
	return cookieResponse{Result: s.newCookie(auth.clientID)}, nil
}

// RegisterComputer, [MS-WUSP] 2.2.2.2.3.

type registerResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService RegisterComputerResponse"`
}

func (s *Server) registerComputer(q *soapRequest, _ *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		Cookie *xmlCookie `xml:"cookie"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	ck, f := s.checkCookie(req.Cookie, c)
	if f != nil {
		return nil, f
	}
	s.mu.Lock()
	if len(s.registered) >= maxComputers {
		clear(s.registered)
	}
	s.registered[ck.clientID] = true
	s.mu.Unlock()
	return registerResponse{}, nil
}

func (s *Server) isRegistered(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registered[id]
}

// SyncUpdates, [MS-WUSP] 2.2.2.2.4 and 3.1.5.7: the client sends the revision IDs
// it already holds and asks again while the answer is Truncated; it is done when
// NewUpdates is empty. Paging is stateless: each answer holds the next PageSize
// catalog updates the client does not list yet.

type syncResponse struct {
	XMLName xml.Name   `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService SyncUpdatesResponse"`
	Result  syncResult `xml:"SyncUpdatesResult"`
}

type syncResult struct {
	NewUpdates          updateInfoList `xml:"NewUpdates"`
	OutOfScope          *intList       `xml:"OutOfScopeRevisionIDs,omitempty"`
	Truncated           bool           `xml:"Truncated"`
	NewCookie           xmlCookie      `xml:"NewCookie"`
	DriverSyncNotNeeded bool           `xml:"DriverSyncNotNeeded"`
}

// intList is an ArrayOfInt sent only when it has members.
type intList struct {
	Ints []int `xml:"int"`
}

func newIntList(ids []int) *intList {
	if len(ids) == 0 {
		return nil
	}
	return &intList{Ints: ids}
}

type updateInfoList struct {
	Items []updateInfo `xml:"UpdateInfo"`
}

type updateInfo struct {
	ID         int        `xml:"ID"`
	Deployment deployment `xml:"Deployment"`
	IsLeaf     bool       `xml:"IsLeaf"`
	XML        string     `xml:"Xml"`
}

type deployment struct {
	ID                   int    `xml:"ID"`
	Action               string `xml:"Action"`
	IsAssigned           bool   `xml:"IsAssigned"`
	LastChangeTime       string `xml:"LastChangeTime"`
	AutoSelect           int    `xml:"AutoSelect"`
	AutoDownload         int    `xml:"AutoDownload"`
	SupersedenceBehavior int    `xml:"SupersedenceBehavior"`
}

type syncParameters struct {
	ExpressQuery              bool  `xml:"ExpressQuery"`
	InstalledNonLeafUpdateIDs []int `xml:"InstalledNonLeafUpdateIDs>int"`
	OtherCachedUpdateIDs      []int `xml:"OtherCachedUpdateIDs>int"`
	SkipSoftwareSync          bool  `xml:"SkipSoftwareSync"`
	CachedDriverIDs           []int `xml:"CachedDriverIDs>int"`
}

func (s *Server) syncUpdates(q *soapRequest, _ *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		Cookie     *xmlCookie      `xml:"cookie"`
		Parameters *syncParameters `xml:"parameters"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	ck, f := s.checkCookie(req.Cookie, c)
	if f != nil {
		return nil, f
	}
	if req.Parameters == nil {
		return nil, wsusFault(InvalidParameters, "parameters are required")
	}
	if s.opts.Registration && !s.isRegistered(ck.clientID) {
		return nil, wsusFault(RegistrationRequired, "computer %q is not registered", ck.clientID)
	}
	p := req.Parameters
	known := map[int]bool{}
	var outOfScope []int
	for _, ids := range [][]int{p.InstalledNonLeafUpdateIDs, p.OtherCachedUpdateIDs, p.CachedDriverIDs} {
		for _, id := range ids {
			if known[id] {
				continue
			}
			known[id] = true
			if s.byRev[id] == nil && len(outOfScope) < maxOutOfScope {
				outOfScope = append(outOfScope, id)
			}
		}
	}
	res := syncResult{OutOfScope: newIntList(outOfScope), NewCookie: s.newCookie(ck.clientID), DriverSyncNotNeeded: true}
	if !p.SkipSoftwareSync { // driver sync (SkipSoftwareSync) always answers nothing
		var pending []int // catalog indexes
		for i, u := range s.catalog {
			if !known[u.RevisionID] || !known[u.BundledRevisionID] {
				pending = append(pending, i)
			}
		}
		if s.opts.EndlessPaging && len(pending) == 0 {
			pending = make([]int, len(s.catalog))
			for i := range pending {
				pending[i] = i
			}
			clear(known) // start over: every page is new again
		}
		page := pending[:min(s.opts.PageSize, len(pending))]
		for _, i := range page {
			u := s.catalog[i]
			for _, id := range []int{u.RevisionID, u.BundledRevisionID} {
				if !known[id] {
					res.NewUpdates.Items = append(res.NewUpdates.Items, s.updateInfo(s.byRev[id]))
				}
			}
		}
		res.Truncated = len(pending) > len(page) || s.opts.EndlessPaging
	}
	c.Updates, c.Truncated = len(res.NewUpdates.Items), res.Truncated
	return syncResponse{Result: res}, nil
}

func (s *Server) updateInfo(rv *revision) updateInfo {
	return updateInfo{
		ID: rv.id,
		Deployment: deployment{
			ID: rv.deployment, Action: rv.action, IsAssigned: true,
			LastChangeTime: catalogTime.Format("2006-01-02"),
		},
		IsLeaf: true,
		XML:    rv.core,
	}
}

// GetExtendedUpdateInfo, [MS-WUSP] 2.2.2.2.6 and 3.1.5.9: metadata fragments of the
// requested types, and the URLs of the revisions' files.

type extendedResponse struct {
	XMLName xml.Name       `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetExtendedUpdateInfoResponse"`
	Result  extendedResult `xml:"GetExtendedUpdateInfoResult"`
}

type extendedResult struct {
	OutOfScope    *intList         `xml:"OutOfScopeRevisionIDs,omitempty"`
	Updates       updateDataList   `xml:"Updates"`
	FileLocations fileLocationList `xml:"FileLocations"`
}

type updateDataList struct {
	Items []updateData `xml:"Update"`
}

type updateData struct {
	ID  int    `xml:"ID"`
	XML string `xml:"Xml"`
}

type fileLocationList struct {
	Items []fileLocation `xml:"FileLocation"`
}

type fileLocation struct {
	FileDigest string `xml:"FileDigest"`
	URL        string `xml:"Url"`
}

func (s *Server) getExtendedUpdateInfo(q *soapRequest, r *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		Cookie      *xmlCookie `xml:"cookie"`
		RevisionIDs []int      `xml:"revisionIDs>int"`
		InfoTypes   *struct {
			Types []string `xml:"XmlUpdateFragmentType"`
		} `xml:"infoTypes"`
		Locales *struct {
			Locales []string `xml:"string"`
		} `xml:"locales"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	if _, f := s.checkCookie(req.Cookie, c); f != nil {
		return nil, f
	}
	if req.InfoTypes == nil {
		return nil, wsusFault(InvalidParameters, "infoTypes is required")
	}
	if len(req.RevisionIDs) > maxExtendedPerRequest {
		return nil, wsusFault(InvalidParameters, "%d revisionIDs exceed MaxExtendedUpdatesPerRequest %d", len(req.RevisionIDs), maxExtendedPerRequest)
	}
	types := map[string]bool{}
	for _, t := range req.InfoTypes.Types {
		types[strings.TrimSpace(t)] = true
	}
	if (types["LocalizedProperties"] || types["Eula"]) && req.Locales == nil {
		return nil, wsusFault(InvalidParameters, "locales is required with LocalizedProperties or Eula")
	}
	var res extendedResult
	var outOfScope []int
	seen := map[string]bool{}
	ecp := s.externalMetadata(r)
	for _, id := range req.RevisionIDs {
		rv := s.byRev[id]
		if rv == nil {
			outOfScope = append(outOfScope, id)
			continue
		}
		// Fragment types without content here (Published, VerificationRule, Eula)
		// and unknown ones add nothing.
		extended := rv.extended
		if rv.metadata != "" && ecp {
			extended = rv.ecp
			if types["Extended"] {
				res.FileLocations.Items = append(res.FileLocations.Items, fileLocation{FileDigest: digestOf(rv.metadata), URL: s.metadataURL(rv.metadata)})
			}
		}
		for _, frag := range []struct{ typ, xml string }{{"Core", rv.core}, {"Extended", extended}, {"LocalizedProperties", rv.localized}} {
			if types[frag.typ] {
				res.Updates.Items = append(res.Updates.Items, updateData{ID: id, XML: frag.xml})
			}
		}
		for _, f := range rv.files {
			if d := f.Digest(); !seen[d] {
				seen[d] = true
				res.FileLocations.Items = append(res.FileLocations.Items, fileLocation{FileDigest: d, URL: s.fileURL(r, contentKey(f.SHA1))})
			}
		}
	}
	res.OutOfScope = newIntList(outOfScope)
	return extendedResponse{Result: res}, nil
}

// digestOf is the base64 SHA-1 of a content key (its uppercase hex).
func digestOf(key string) string {
	raw, _ := hex.DecodeString(key)
	return base64.StdEncoding.EncodeToString(raw)
}

// GetFileLocations, [MS-WUSP] 2.2.2.2.7: URLs for SHA-1 digests (20 bytes each).

type fileLocationsResponse struct {
	XMLName xml.Name            `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetFileLocationsResponse"`
	Result  fileLocationsResult `xml:"GetFileLocationsResult"`
}

type fileLocationsResult struct {
	FileLocations fileLocationList `xml:"FileLocations"`
	NewCookie     xmlCookie        `xml:"NewCookie"`
}

func (s *Server) getFileLocations(q *soapRequest, r *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		Cookie      *xmlCookie `xml:"cookie"`
		FileDigests *struct {
			Digests []string `xml:"base64Binary"`
		} `xml:"fileDigests"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	ck, f := s.checkCookie(req.Cookie, c)
	if f != nil {
		return nil, f
	}
	if req.FileDigests == nil {
		return nil, wsusFault(InvalidParameters, "fileDigests is required")
	}
	res := fileLocationsResult{NewCookie: s.newCookie(ck.clientID)}
	for _, d := range req.FileDigests.Digests {
		raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(d))
		if err != nil || len(raw) != 20 {
			return nil, wsusFault(InvalidParameters, "file digest %.40q is not a base64 SHA-1", d)
		}
		key := contentKey([20]byte(raw))
		if _, ok := s.content[key]; ok {
			res.FileLocations.Items = append(res.FileLocations.Items, fileLocation{
				FileDigest: base64.StdEncoding.EncodeToString(raw),
				URL:        s.fileURL(r, key),
			})
		}
	}
	return fileLocationsResponse{Result: res}, nil
}

// RefreshCache, [MS-WUSP] 2.2.2.2.5: revision IDs for update identities.

type refreshResponse struct {
	XMLName xml.Name      `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService RefreshCacheResponse"`
	Result  refreshResult `xml:"RefreshCacheResult"`
}

type refreshResult struct {
	Items []refreshItem `xml:"RefreshCacheResult"`
}

type refreshItem struct {
	RevisionID int            `xml:"RevisionID"`
	GlobalID   updateIdentity `xml:"GlobalID"`
	IsLeaf     bool           `xml:"IsLeaf"`
}

type updateIdentity struct {
	UpdateID       string `xml:"UpdateID"`
	RevisionNumber int    `xml:"RevisionNumber"`
}

func (s *Server) refreshCache(q *soapRequest, _ *http.Request, c *Call) (any, *soapFault) {
	var req struct {
		Cookie    *xmlCookie       `xml:"cookie"`
		GlobalIDs []updateIdentity `xml:"globalIDs>UpdateIdentity"`
	}
	if err := q.decode(&req); err != nil {
		return nil, readFault(err)
	}
	if _, f := s.checkCookie(req.Cookie, c); f != nil {
		return nil, f
	}
	var res refreshResult
	for _, g := range req.GlobalIDs {
		id := strings.ToLower(strings.Trim(strings.TrimSpace(g.UpdateID), "{}"))
		i := slices.IndexFunc(s.catalog, func(u Update) bool {
			return (u.ID == id || u.BundledID == id) && u.Revision == g.RevisionNumber
		})
		if i < 0 {
			continue
		}
		u := s.catalog[i]
		rev := u.RevisionID
		if u.BundledID == id {
			rev = u.BundledRevisionID
		}
		res.Items = append(res.Items, refreshItem{RevisionID: rev, GlobalID: updateIdentity{UpdateID: id, RevisionNumber: u.Revision}, IsLeaf: true})
	}
	return refreshResponse{Result: res}, nil
}
