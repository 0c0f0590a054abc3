package client

import (
	"context"
	"crypto/sha1" //nolint:gosec // the metadata cab's digest is SHA-1
	"encoding/base64"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// Limits and constants of the session flow.
const (
	// maxRoundTrips is WUA's hard-coded limit of SyncUpdates round trips
	// ([SUS-4010]).
	maxRoundTrips = 200
	// maxRecoveries bounds the re-handshakes a session makes on
	// InvalidCookie, ServerChanged, ConfigChanged and CookieExpired
	// faults ([MS-WUSP] 3.1.5.2).
	maxRecoveries = 2
	// maxExtendedPerRequest is used when GetConfig does not say.
	maxExtendedPerRequest = 20
	// clientID identifies the emulated computer to the server.
	clientID = "wufault-client-0001"
)

// Microsoft Update endpoints (reference wu-codes.md 6.2). The modern flow
// starts with the SLS discovery request and goes to the client web service
// it names ([L-2F8F], [L-WUTS]); the legacy flow starts at wuredir.cab and
// follows the URLs in it. Content comes from the URLs the client web
// service hands out. muModernClient is used when the SLS answer names no
// client web service URL the client can use.
const (
	muSLS            = "https://sls.update.microsoft.com/SLS/{9482F4B4-E343-43B6-B170-9A65BC822C77}/x64/10.0.19045.0/0?CH=531&L=en-US&P=&PT=0x7&WUA=10.0.19041.3636"
	muModernClient   = "https://fe3cr.delivery.mp.microsoft.com/ClientWebService/client.asmx"
	muLegacyRedir    = "http://update.microsoft.com/v6/windowsupdate/redir/wuredir.cab"
	muLegacyClient   = "https://fe2.update.microsoft.com/v6/ClientWebService/client.asmx"
	muLegacySelfBase = "https://www.update.microsoft.com/v11/3/legacy/windowsupdate/selfupdate"
)

// recoverable WSUS fault ErrorCodes: the client re-runs GetConfig,
// GetAuthorizationCookie and GetCookie ([MS-WUSP] GetConfig 3.1.5.2,
// GetCookie 2.2.2.2.2; reference 3.2).
var recoverable = []string{"InvalidCookie", "ServerChanged", "ConfigChanged", "CookieExpired"}

// session is one Windows Update detection and download run.
type session struct {
	cfg    Config
	t      *transport
	sys    ProxyList // the system proxy the running service read at start
	sysErr error     // the system proxy list did not parse
	user   ProxyList
	uerr   error // the user proxy list did not parse
	now    func() time.Time
	log    *slog.Logger
	obs    []Observation

	// Protocol state.
	base       *url.URL // WUServer (nil: Microsoft Update)
	clientURL  *url.URL
	authURL    *url.URL
	reportURL  *url.URL
	selfURL    *url.URL
	altURL     *url.URL // UpdateServiceUrlAlternate: where WSUS content is downloaded from
	redirURL   *url.URL // the legacy redirector cab, for recovery
	redirID    int      // its redirectorId
	config     configResponse
	ck         cookie
	maxExt     int
	revisions  []int
	files      []updateFile
	downloaded int
}

// firstClass is the class of the session's first request: the
// self-update check with a WUServer, the scan (modern) or the redirector
// (legacy) with Microsoft Update.
func (s *session) firstClass() profile.Class {
	switch {
	case s.cfg.Server != "":
		return profile.ClassSelfUpdate
	case s.cfg.Generation == Legacy:
		return profile.ClassRedirector
	}
	return profile.ClassScan
}

// attempt describes one request for its observation.
type attempt struct {
	class  profile.Class
	call   string
	method string
	url    string
	proxy  string
	start  time.Time
}

// record adds the observation of a finished request and returns it.
func (s *session) record(a attempt, resp *response, err error) Observation {
	o := Observation{Class: a.class, Call: a.call, Method: a.method, URL: a.url, Proxy: a.proxy, Start: a.start,
		Duration: Duration(time.Since(a.start))}
	if resp != nil {
		o.Status = resp.Status
		if resp.Proxy != "" {
			o.Proxy = resp.Proxy
		}
	}
	if err != nil {
		v := Classify(err, a.class, s.cfg.Generation, s.cfg.Download)
		o.Phase, o.Err, o.Error = phaseOf(err), err, err.Error()
		o.WinHTTP, o.Code, o.JobCode = v.WinHTTP, v.Code, v.JobCode
		o.Rule, o.Confidence, o.Source = v.Rule, v.Confidence, v.Source
		if se, ok := errors.AsType[*StatusError](err); ok {
			o.Status = se.Status
		}
		if te, ok := errors.AsType[*TransportError](err); ok && te.Proxy != "" {
			o.Proxy = te.Proxy
		}
		if sf, ok := errors.AsType[*SOAPFault](err); ok && sf.Status != 0 {
			o.Status = sf.Status
		}
	}
	s.log.Debug("client: request", "class", o.Class, "call", o.Call, "url", o.URL, "status", o.Status,
		"phase", o.Phase, "code", o.Code.Hex(), "err", o.Error)
	s.obs = append(s.obs, o)
	return o
}

// failure is the error a session step returns when a request decided the
// session: it carries that request's observation up to run's caller,
// which makes it the Result's failure. errors.Is and errors.As see the
// request's error through it.
type failure struct{ obs Observation }

func (f *failure) Error() string { return f.obs.Err.Error() }
func (f *failure) Unwrap() error { return f.obs.Err }

// failed makes the observation of a request that ends the session its
// failure.
func failed(o Observation) error { return &failure{obs: o} }

// failureOf returns the observation a session's error carries.
func failureOf(err error) (Observation, bool) {
	if f, ok := errors.AsType[*failure](err); ok {
		return f.obs, true
	}
	return Observation{}, false
}

// proxyLists returns the proxy lists to try for a request, in order
// ([L-PROXY]; reference 5.2): detection traffic uses the system proxy and
// falls back to the user proxy only when policy allows; reporting tries
// the user proxy first, then the system proxy.
func (s *session) proxyLists(reporting bool) ([]ProxyList, error) {
	hasUser := s.cfg.UserProxy != ""
	switch {
	case reporting && hasUser:
		if s.uerr != nil {
			return nil, s.uerr
		}
		return []ProxyList{s.user, s.sys}, nil
	case !reporting && hasUser && s.cfg.ProxyFallback:
		if s.uerr != nil {
			return []ProxyList{s.sys}, nil
		}
		return []ProxyList{s.sys, s.user}, nil
	}
	return []ProxyList{s.sys}, nil
}

// proxiesFor returns the proxies of a list for a URL, honouring the
// bypass list.
func (s *session) proxiesFor(l ProxyList) func(u *url.URL) []string {
	return func(u *url.URL) []string {
		if s.cfg.Bypass.Match(u.Hostname()) {
			return nil
		}
		return l.For(u.Scheme)
	}
}

// proxyFailure reports whether a failure is the proxy's own (unreachable,
// authentication), the failures that make WUA try its other proxy path.
func proxyFailure(err error) bool {
	te, ok := errors.AsType[*TransportError](err)
	if !ok || te.Proxy == "" {
		return false
	}
	switch te.Phase {
	case profile.PhaseProxy:
		return true
	case profile.PhaseResolve, profile.PhaseConnect:
		ne, isName := errors.AsType[*NameError](err)
		return !isName || ne.Proxy
	}
	return false
}

// fetch sends a request with WUA's proxy choice. It records the
// observations of failed attempts that a fallback replaced and returns
// the last attempt, whose observation the caller records once it has
// judged the response.
func (s *session) fetch(ctx context.Context, class profile.Class, call string, req *request, reporting bool) (*response, attempt, error) {
	a := attempt{class: class, call: call, method: req.Method, url: req.URL.String(), start: time.Now()}
	lists, err := s.proxyLists(reporting)
	if err != nil {
		return nil, a, &TransportError{URL: a.url, Err: err}
	}
	var resp *response
	for i, l := range lists {
		a.start = time.Now()
		resp, err = s.t.do(ctx, req, s.proxiesFor(l))
		if err == nil && resp.Status == http.StatusProxyAuthRequired && resp.Proxy != "" {
			err = &TransportError{Phase: profile.PhaseProxy, URL: a.url, Proxy: resp.Proxy,
				Err: &StatusError{Status: resp.Status, ContentType: resp.Header.Get("Content-Type"), Proxy: true}}
		}
		if err == nil || i == len(lists)-1 || !proxyFailure(err) {
			break
		}
		s.record(a, nil, err)
		s.log.Debug("client: trying the other proxy path", "call", call, "err", err)
	}
	return resp, a, err
}

// soap makes one SOAP call and decodes the response element into out;
// check, if not nil, then judges the decoded content.
func (s *session) soap(ctx context.Context, endpoint *url.URL, ns, method, inner string, out any, check ...func() error) error {
	req := &request{Method: http.MethodPost, URL: endpoint, Header: http.Header{
		"Content-Type": {"text/xml; charset=utf-8"},
		"Soapaction":   {`"` + ns + "/" + method + `"`},
	}, Body: envelope(method, ns, inner)}
	resp, a, err := s.fetch(ctx, profile.ClassScan, method, req, ns == nsReporting)
	if err == nil {
		err = soapResult(resp, method, out)
	}
	for _, c := range check {
		if err == nil {
			err = c()
		}
	}
	o := s.record(a, resp, err)
	if err != nil {
		return failed(o)
	}
	return nil
}

// soapResult judges a SOAP response in the order of reference 3.2: a
// status other than 200 with a body that is not a SOAP fault is an HTTP
// status error; a fault is a fault (whatever the status); a body that is
// not the expected response is a parse error.
func soapResult(resp *response, method string, out any) error {
	body, perr := parseEnvelope(resp.Body)
	if perr == nil && body.fault != nil {
		f := *body.fault
		f.Status = resp.Status
		return &f
	}
	if resp.Status != http.StatusOK {
		return resp.statusError()
	}
	if perr != nil {
		return &SOAPParseError{Method: method, Err: perr}
	}
	if body.name.Local != method+"Response" {
		return &SOAPParseError{Method: method, Err: fmt.Errorf("got <%s>, want <%sResponse>", body.name.Local, method)}
	}
	if err := xml.Unmarshal(body.raw, out); err != nil {
		return &SOAPParseError{Method: method, Err: err}
	}
	return nil
}

// scanCall makes a call that needs the cookie, re-running the handshake
// when the server says the cookie or its configuration is stale.
func (s *session) scanCall(ctx context.Context, method string, inner func() string, out any, check ...func() error) error {
	for n := 0; ; n++ {
		err := s.soap(ctx, s.clientURL, nsClient, method, inner(), out, check...)
		f, ok := errors.AsType[*SOAPFault](err)
		if !ok || n >= maxRecoveries || !slices.Contains(recoverable, f.ErrorCode) {
			return err
		}
		s.log.Debug("client: server asks for a new handshake", "method", method, "error_code", f.ErrorCode)
		if err := s.handshake(ctx); err != nil {
			return err
		}
	}
}

// fetchCab downloads a WinHTTP-fetched cabinet (wuident.cab, wuredir.cab)
// and returns the named file in it: the status, the content type and the
// cabinet's structure are checked.
func (s *session) fetchCab(ctx context.Context, class profile.Class, u *url.URL, file string, validate func([]byte) error) ([]byte, error) {
	call := u.Path[strings.LastIndexByte(u.Path, '/')+1:]
	req := &request{Method: http.MethodGet, URL: u, Header: http.Header{}}
	resp, a, err := s.fetch(ctx, class, call, req, false)
	var data []byte
	if err == nil {
		data, err = cabResult(resp, file)
	}
	if err == nil && validate != nil {
		if verr := validate(data); verr != nil {
			err = &CabError{File: u.String() + ": " + file, Err: verr}
		}
	}
	o := s.record(a, resp, err)
	if err != nil {
		return nil, failed(o)
	}
	return data, nil
}

// cabTypes are the content types WUA accepts for a cabinet (IIS serves
// .cab as application/vnd.ms-cab-compressed; inferred list).
var cabTypes = []string{"application/vnd.ms-cab-compressed", "application/octet-stream", "application/x-cab-compressed", "application/x-cab"}

func cabResult(resp *response, file string) ([]byte, error) {
	if resp.Status != http.StatusOK {
		return nil, resp.statusError()
	}
	ct := resp.Header.Get("Content-Type")
	mt, _, _ := mime.ParseMediaType(ct)
	if !slices.Contains(cabTypes, strings.ToLower(mt)) {
		return nil, &ContentTypeError{URL: resp.URL, Got: ct}
	}
	files, err := readCAB(resp.Body)
	if err != nil {
		return nil, &CabError{File: resp.URL, Err: err}
	}
	for name, data := range files {
		if strings.EqualFold(name, file) {
			return data, nil
		}
	}
	return nil, &CabError{File: resp.URL, Err: fmt.Errorf("no %s in the cabinet", file)}
}

// run executes the session and returns its failure: the observation of
// the request that decided it, nil when the session succeeded. The error
// is the emulator's own: a step that stopped without an observation.
func (s *session) run(ctx context.Context) (*Observation, error) {
	var err error
	if s.sysErr != nil {
		// WinHTTP reads the proxy list for the session's first request:
		// WUA fails before any request with WU_E_INVALID_PROXY_SERVER.
		err = failed(s.record(attempt{class: s.firstClass(), call: "proxy settings", url: s.cfg.RunningProxy, start: time.Now()}, nil, s.sysErr))
	} else {
		err = s.steps(ctx)
	}
	if err == nil {
		return nil, nil
	}
	if f, ok := failureOf(err); ok {
		return &f, nil
	}
	return nil, fmt.Errorf("client: session stopped without an observation: %w", err)
}

// steps are the session's steps: self-update check, the [MS-WUSP] 3.1.5
// scan, content download, and the report. A step that fails returns the
// failure (failed) of the request that decided it.
func (s *session) steps(ctx context.Context) error {
	if err := s.locate(ctx); err != nil {
		return err
	}
	if s.selfURL != nil {
		_, err := s.fetchCab(ctx, profile.ClassSelfUpdate, s.selfURL, "wuident.txt", func(b []byte) error {
			if !strings.Contains(string(b), "[") {
				return errors.New("no identity section")
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if err := s.handshake(ctx); err != nil {
		return s.recoverRedirector(ctx, err)
	}
	if s.config.Result.IsRegistrationRequired {
		err := s.scanCall(ctx, "RegisterComputer", func() string {
			return s.ck.xml("cookie") + "<computerInfo><DNSName>" + clientID + ".lab</DNSName><OSMajorVersion>10</OSMajorVersion>" +
				"<OSMinorVersion>0</OSMinorVersion><OSBuildNumber>19045</OSBuildNumber><ProcessorArchitecture>amd64</ProcessorArchitecture></computerInfo>"
		}, &struct{}{})
		if err != nil {
			return err
		}
	}
	if err := s.sync(ctx); err != nil {
		return err
	}
	if err := s.extended(ctx); err != nil {
		return err
	}
	derr := s.downloadAll(ctx)
	if s.base != nil {
		code := codes.OK
		if f, ok := failureOf(derr); ok {
			code = f.Code
		}
		if rerr := s.report(ctx, code); rerr != nil && derr == nil {
			return rerr
		}
	}
	return derr
}

// locate decides the endpoints: the WUServer's, or Microsoft Update's.
func (s *session) locate(ctx context.Context) error {
	if s.cfg.Server != "" {
		u, err := parseServerURL(s.cfg.Server)
		if err != nil {
			o := s.record(attempt{class: profile.ClassSelfUpdate, call: "WUServer", url: s.cfg.Server, start: time.Now()}, nil,
				&TransportError{URL: s.cfg.Server, Err: err})
			return failed(o)
		}
		s.base = u
		s.clientURL = u.JoinPath("ClientWebService", "client.asmx")
		s.authURL = u.JoinPath("SimpleAuthWebService", "SimpleAuth.asmx")
		s.reportURL = u.JoinPath("ReportingWebService", "ReportingWebService.asmx")
		s.selfURL = u.JoinPath("selfupdate", "wuident.cab")
		if s.cfg.AlternateServer != "" {
			alt, err := parseServerURL(s.cfg.AlternateServer)
			if err != nil {
				o := s.record(attempt{class: profile.ClassDownload, call: "UpdateServiceUrlAlternate", url: s.cfg.AlternateServer, start: time.Now()}, nil,
					&TransportError{URL: s.cfg.AlternateServer, Err: err})
				return failed(o)
			}
			s.altURL = alt
		}
		return nil
	}
	if s.cfg.Generation == Modern {
		return s.discover(ctx)
	}
	s.redirURL, _ = url.Parse(muLegacyRedir)
	var doc wuredirDoc
	_, err := s.fetchCab(ctx, profile.ClassRedirector, s.redirURL, "wuredir.xml", func(b []byte) error { return xml.Unmarshal(b, &doc) })
	if err != nil {
		return err
	}
	s.follow(doc)
	return nil
}

// wuredirDoc is what the client reads in wuredir.xml.
type wuredirDoc struct {
	ID         int     `xml:"redirectorId,attr"`
	Client     urlAttr `xml:"ClientServer"`
	SimpleAuth urlAttr `xml:"SimpleAuthServer"`
	SelfUpdate urlAttr `xml:"SelfUpdate"`
}

// discover asks SLS where the client web service is (Windows 10+:
// "SLS Making request with URL HTTPS://sls.update.microsoft.com/SLS/…",
// [L-2F8F], [L-2EFE]) and goes there.
func (s *session) discover(ctx context.Context) error {
	u, _ := url.Parse(muSLS)
	req := &request{Method: http.MethodGet, URL: u, Header: http.Header{}}
	resp, a, err := s.fetch(ctx, profile.ClassRedirector, "SLS", req, false)
	var doc struct {
		Client urlAttr `xml:"ClientServer"`
	}
	if err == nil {
		if resp.Status != http.StatusOK {
			err = resp.statusError()
		} else if xerr := xml.Unmarshal(resp.Body, &doc); xerr != nil {
			err = &SLSError{URL: a.url, Err: xerr}
		} else if cu, perr := url.Parse(doc.Client.URL); perr != nil || cu.Host == "" || cu.Scheme != "https" {
			err = &SLSError{URL: a.url, Err: fmt.Errorf("no https client web service URL (got %q)", doc.Client.URL)}
		}
	}
	o := s.record(a, resp, err)
	if err != nil {
		return failed(o)
	}
	s.clientURL = mustURL(doc.Client.URL, muModernClient)
	s.authURL = s.clientURL.ResolveReference(&url.URL{Path: "/SimpleAuthWebService/SimpleAuth.asmx"})
	return nil
}

// recoverRedirector is the legacy client's redirector recovery after the
// handshake failed on the network: it downloads wuredir.cab again, and
// when the redirectorId is the one it already had, the redirector cannot
// send it anywhere else: WU_E_PT_SAME_REDIR_ID becomes the session's
// code ([WUERR]; seed 002 lists 0x8024502D beside the proxy errors). A
// WSUS-managed client does no recovery (WU_E_PT_NO_MANAGED_RECOVER). A new
// redirectorId sends the client to the new URLs once.
func (s *session) recoverRedirector(ctx context.Context, cause error) error {
	if s.redirURL == nil || s.base != nil || !transportCause(cause) {
		return cause
	}
	s.log.Debug("client: redirector recovery", "after", cause)
	var doc wuredirDoc
	if _, err := s.fetchCab(ctx, profile.ClassRedirector, s.redirURL, "wuredir.xml", func(b []byte) error { return xml.Unmarshal(b, &doc) }); err != nil {
		return cause
	}
	if doc.ID != s.redirID {
		s.follow(doc)
		s.redirURL = nil // recover once
		if err := s.handshake(ctx); err != nil {
			return err
		}
		return nil
	}
	o := s.record(attempt{class: profile.ClassRedirector, call: "redirector recovery", method: http.MethodGet, url: s.redirURL.String(), start: time.Now()},
		nil, ErrSameRedirectorID)
	return failed(o)
}

// follow takes the service URLs a redirector document names.
func (s *session) follow(doc wuredirDoc) {
	s.redirID = doc.ID
	s.clientURL = mustURL(doc.Client.URL, muLegacyClient)
	s.authURL = mustURL(doc.SimpleAuth.URL, s.clientURL.ResolveReference(&url.URL{Path: "/SimpleAuthWebService/SimpleAuth.asmx"}).String())
	if doc.SelfUpdate.URL != "" {
		s.selfURL = mustURL(strings.TrimSuffix(doc.SelfUpdate.URL, "/")+"/wuident.cab", muLegacySelfBase+"/wuident.cab")
	} else {
		s.selfURL = mustURL(muLegacySelfBase+"/wuident.cab", "")
	}
}

type urlAttr struct {
	URL string `xml:"URL,attr"`
}

func mustURL(s, def string) *url.URL {
	if u, err := url.Parse(s); err == nil && u.Host != "" {
		return u
	}
	u, _ := url.Parse(def)
	return u
}

// parseServerURL reads a WUServer value as WinHttpCrackUrl would: a value
// without http:// or https:// fails with 12006 ([L-2EE6]), one WinHTTP
// cannot crack with 12005.
func parseServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		if !strings.Contains(s, "://") {
			return nil, &URLError{URL: s, Scheme: true, Err: err}
		}
		return nil, &URLError{URL: s, Err: err}
	}
	if sc := strings.ToLower(u.Scheme); sc != "http" && sc != "https" {
		return nil, &URLError{URL: s, Scheme: true}
	}
	if u.Hostname() == "" {
		return nil, &URLError{URL: s, Err: errors.New("no host")}
	}
	if _, err := strconv.Atoi(u.Port()); u.Port() != "" && err != nil {
		return nil, &URLError{URL: s, Err: errors.New("bad port")}
	}
	u.Path = "/" + strings.Trim(u.Path, "/")
	return u, nil
}

// handshake runs GetConfig → GetAuthorizationCookie → GetCookie.
func (s *session) handshake(ctx context.Context) error {
	s.config = configResponse{}
	if err := s.soap(ctx, s.clientURL, nsClient, "GetConfig", "<protocolVersion>"+protocolVersion+"</protocolVersion>", &s.config); err != nil {
		return err
	}
	s.maxExt = maxExtendedPerRequest
	for _, p := range s.config.Result.Properties {
		if p.Name == "MaxExtendedUpdatesPerRequest" {
			if n, err := strconv.Atoi(strings.TrimSpace(p.Value)); err == nil && n > 0 {
				s.maxExt = n
			}
		}
	}
	plugin := "SimpleTargeting"
	authURL := s.authURL
	for _, ai := range s.config.Result.AuthInfo {
		if ai.PlugInID == "" {
			continue
		}
		plugin = ai.PlugInID
		if ai.ServiceURL != "" {
			root := *s.clientURL
			root.Path = ""
			if s.base != nil {
				root = *s.base
			}
			root.Path = strings.TrimSuffix(root.Path, "/") + "/"
			if u, err := root.Parse(ai.ServiceURL); err == nil {
				authURL = u
			}
		}
		break
	}
	var auth authCookieResponse
	err := s.soap(ctx, authURL, nsSimpleAuth, "GetAuthorizationCookie",
		"<clientId>"+clientID+"</clientId><targetGroupName></targetGroupName><dnsName>"+clientID+".lab</dnsName>", &auth)
	if err != nil {
		return err
	}
	if auth.Result.PlugInID == "" {
		auth.Result.PlugInID = plugin
	}
	var ck cookieResponse
	last := s.config.Result.LastChange
	if last == "" {
		last = xsdTime(s.now())
	}
	err = s.soap(ctx, s.clientURL, nsClient, "GetCookie",
		"<authCookies><AuthorizationCookie><PlugInId>"+xmlText(auth.Result.PlugInID)+"</PlugInId><CookieData>"+xmlText(auth.Result.CookieData)+
			"</CookieData></AuthorizationCookie></authCookies><lastChange>"+xmlText(last)+"</lastChange><currentTime>"+xsdTime(s.now())+
			"</currentTime><protocolVersion>"+protocolVersion+"</protocolVersion>", &ck)
	if err != nil {
		return err
	}
	s.ck = ck.Result
	return nil
}

// sync runs SyncUpdates until the server stops answering Truncated, at
// most maxRoundTrips times ([SUS-4010]).
func (s *session) sync(ctx context.Context) error {
	known := map[int]bool{}
	for trip := 1; ; trip++ {
		if trip > maxRoundTrips {
			o := s.record(attempt{class: profile.ClassScan, call: "SyncUpdates", method: http.MethodPost, url: s.clientURL.String(), start: time.Now()},
				nil, ErrMaxRoundTrips)
			return failed(o)
		}
		var resp syncResponse
		err := s.scanCall(ctx, "SyncUpdates", func() string {
			var ids strings.Builder
			for _, id := range s.revisions {
				ids.WriteString("<int>" + strconv.Itoa(id) + "</int>")
			}
			return s.ck.xml("cookie") + "<parameters><ExpressQuery>false</ExpressQuery><InstalledNonLeafUpdateIDs></InstalledNonLeafUpdateIDs>" +
				"<OtherCachedUpdateIDs>" + ids.String() + "</OtherCachedUpdateIDs><SkipSoftwareSync>false</SkipSoftwareSync>" +
				"<NeedTwoGroupOutOfScopeUpdates>true</NeedTwoGroupOutOfScopeUpdates></parameters>"
		}, &resp)
		if err != nil {
			return err
		}
		if resp.Result.NewCookie != nil && resp.Result.NewCookie.EncryptedData != "" {
			s.ck = *resp.Result.NewCookie
		}
		fresh := 0
		for _, u := range resp.Result.NewUpdates {
			if !known[u.ID] {
				known[u.ID] = true
				s.revisions = append(s.revisions, u.ID)
				fresh++
			}
		}
		if !resp.Result.Truncated {
			return nil
		}
		if fresh == 0 {
			// The server repeats itself: start over with the same list, as
			// an endless pager makes WUA do until the limit.
			clear(known)
			s.revisions = s.revisions[:0]
		}
	}
}

// extended fetches the metadata and file locations of every revision,
// MaxExtendedUpdatesPerRequest at a time, then asks GetFileLocations for
// files without a location.
func (s *session) extended(ctx context.Context) error {
	byDigest := map[string]bool{}
	locs := map[string]string{}
	for i := 0; i < len(s.revisions); i += s.maxExt {
		ids := s.revisions[i:min(i+s.maxExt, len(s.revisions))]
		var resp extendedResponse
		var found []updateFile
		var external []ecpRef
		err := s.scanCall(ctx, "GetExtendedUpdateInfo", func() string {
			var b strings.Builder
			b.WriteString(s.ck.xml("cookie") + "<revisionIDs>")
			for _, id := range ids {
				b.WriteString("<int>" + strconv.Itoa(id) + "</int>")
			}
			b.WriteString("</revisionIDs><infoTypes><XmlUpdateFragmentType>Extended</XmlUpdateFragmentType>" +
				"<XmlUpdateFragmentType>LocalizedProperties</XmlUpdateFragmentType></infoTypes><locales><string>en-US</string><string>en</string></locales>")
			return b.String()
		}, &resp, func() error {
			found, external = found[:0], external[:0]
			for _, u := range resp.Result.Updates {
				files, err := fragmentFiles(u.XML)
				if err != nil {
					return &SOAPParseError{Method: "GetExtendedUpdateInfo", Err: fmt.Errorf("update %d metadata: %w", u.ID, err)}
				}
				ref, err := fragmentECP(u.XML)
				if err != nil {
					return &SOAPParseError{Method: "GetExtendedUpdateInfo", Err: fmt.Errorf("update %d metadata: %w", u.ID, err)}
				}
				if ref != nil {
					ref.UpdateID = u.ID
					external = append(external, *ref)
				}
				for _, f := range files {
					f.UpdateID = u.ID
					found = append(found, f)
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, f := range found {
			if _, dup := byDigest[f.Digest]; !dup {
				byDigest[f.Digest] = true
				s.files = append(s.files, f)
			}
		}
		for _, l := range resp.Result.FileLocations {
			locs[strings.TrimSpace(l.FileDigest)] = strings.TrimSpace(l.URL)
		}
		for _, ref := range external {
			files, err := s.fetchMetadata(ctx, ref, locs)
			if err != nil {
				return err
			}
			for _, f := range files {
				if !byDigest[f.Digest] {
					byDigest[f.Digest] = true
					s.files = append(s.files, f)
				}
			}
		}
	}
	defer s.alternate()
	var missing []string
	for i := range s.files {
		if u, ok := locs[s.files[i].Digest]; ok {
			s.files[i].URL = u
		} else {
			missing = append(missing, s.files[i].Digest)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	var resp fileLocationsResponse
	err := s.scanCall(ctx, "GetFileLocations", func() string {
		var b strings.Builder
		b.WriteString(s.ck.xml("cookie") + "<fileDigests>")
		for _, d := range missing {
			b.WriteString("<base64Binary>" + xmlText(d) + "</base64Binary>")
		}
		b.WriteString("</fileDigests>")
		return b.String()
	}, &resp)
	if err != nil {
		return err
	}
	for _, l := range resp.Result.FileLocations {
		locs[strings.TrimSpace(l.FileDigest)] = strings.TrimSpace(l.URL)
	}
	for i := range s.files {
		if s.files[i].URL == "" {
			s.files[i].URL = locs[s.files[i].Digest]
		}
	}
	return nil
}

// fetchMetadata downloads the metadata cab an update's Extended fragment
// points to and reads the update's files from it, as WUA's external cab
// processor does for Microsoft Update's metadata cabs ([AC]; reference
// 3.1): a plain WinHTTP GET of the URL FileLocations gives for the cab's
// digest, the SHA-1 of the bytes checked against that digest, the cabinet
// opened and the named file parsed. Any failure of the fetch is an
// *ECPError, which WUA reports as WU_E_PT_ECP_SUCCEEDED_WITH_ERRORS
// (0x8024402F), with the inner error logged.
func (s *session) fetchMetadata(ctx context.Context, ref ecpRef, locs map[string]string) ([]updateFile, error) {
	raw := locs[strings.TrimSpace(ref.Digest)]
	u, perr := url.Parse(raw)
	if perr != nil || u.Host == "" {
		o := s.record(attempt{class: profile.ClassScan, call: "ECP metadata", url: raw, start: time.Now()}, nil,
			&ECPError{URL: raw, Err: fmt.Errorf("no file location for the metadata cab %s", ref.Digest)})
		return nil, failed(o)
	}
	req := &request{Method: http.MethodGet, URL: u, Header: http.Header{}}
	resp, a, err := s.fetch(ctx, profile.ClassScan, "ECP metadata", req, false)
	var files []updateFile
	if err == nil {
		files, err = metadataResult(resp, ref)
	}
	if err != nil {
		err = &ECPError{URL: a.url, Err: err}
	}
	o := s.record(a, resp, err)
	if err != nil {
		return nil, failed(o)
	}
	for i := range files {
		files[i].UpdateID = ref.UpdateID
	}
	return files, nil
}

// metadataResult judges a metadata cab: the status, the digest of the
// bytes, the cabinet and the metadata file in it.
func metadataResult(resp *response, ref ecpRef) ([]updateFile, error) {
	if resp.Status != http.StatusOK {
		return nil, resp.statusError()
	}
	sum := sha1.Sum(resp.Body) //nolint:gosec // the digest the metadata names
	if got := base64.StdEncoding.EncodeToString(sum[:]); got != strings.TrimSpace(ref.Digest) {
		return nil, &DigestError{URL: resp.URL, Algorithm: "SHA1", Want: strings.TrimSpace(ref.Digest), Got: got}
	}
	files, err := readCAB(resp.Body)
	if err != nil {
		return nil, &CabError{File: resp.URL, Err: err}
	}
	for name, data := range files {
		if strings.EqualFold(name, ref.FileName) {
			out, err := documentFiles(data)
			if err != nil {
				return nil, &CabError{File: resp.URL + ": " + name, Err: err}
			}
			return out, nil
		}
	}
	return nil, &CabError{File: resp.URL, Err: fmt.Errorf("no %s in the cabinet", ref.FileName)}
}

// alternate sends the downloads of files on the WSUS server to the
// alternate download server when policy names one
// (UpdateServiceUrlAlternate, "Set the alternate download server":
// Windows Update downloads the files from it instead of the intranet
// update service).
func (s *session) alternate() {
	if s.altURL == nil {
		return
	}
	for i := range s.files {
		u, err := url.Parse(s.files[i].URL)
		if err != nil || !strings.EqualFold(u.Host, s.base.Host) {
			continue
		}
		u.Scheme, u.Host = s.altURL.Scheme, s.altURL.Host
		u.Path = strings.TrimSuffix(s.altURL.Path, "/") + u.Path
		s.files[i].URL = u.String()
	}
}

// report sends ReportEventBatch with the outcome: detection succeeded
// (event 147), or the download failed (event 161) with its HRESULT as a
// signed decimal, as WUA sends it.
func (s *session) report(ctx context.Context, code codes.Code) error {
	event := 147
	if code != codes.OK {
		event = 161
	}
	ev := `<ReportingEvent><BasicData><TargetID><Sid>` + clientID + `</Sid></TargetID><SequenceNumber>1</SequenceNumber>` +
		`<TimeAtTarget>` + xsdTime(s.now()) + `</TimeAtTarget><EventInstanceID>{6d5b0d6e-0b7a-4d59-9d57-5b5e2f4a6c01}</EventInstanceID>` +
		`<NamespaceID>1</NamespaceID><EventID>` + strconv.Itoa(event) + `</EventID><SourceID>1</SourceID>` +
		`<UpdateID><UpdateID>{00000000-0000-0000-0000-000000000000}</UpdateID><RevisionNumber>0</RevisionNumber></UpdateID>` +
		`<Win32HResult>` + strconv.Itoa(int(code.Signed())) + `</Win32HResult><AppName>AutomaticUpdates</AppName></BasicData>` +
		`<ExtendedData><ReplacementStrings soapenc:arrayType="xsd:string[1]"><string>` + code.Hex() + `</string></ReplacementStrings></ExtendedData>` +
		`<PrivateData><ComputerDnsName>` + clientID + `.lab</ComputerDnsName><UserAccountName></UserAccountName></PrivateData></ReportingEvent>`
	inner := s.ck.xml("cookie") + `<clientTime>` + xsdTime(s.now()) + `</clientTime>` +
		`<eventBatch xmlns:q1="http://www.microsoft.com/SoftwareDistribution" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" soapenc:arrayType="q1:ReportingEvent[1]">` +
		ev + `</eventBatch>`
	var resp reportResponse
	return s.soap(ctx, s.reportURL, nsReporting, "ReportEventBatch", inner, &resp)
}
