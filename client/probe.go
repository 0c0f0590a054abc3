package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// Role says what a probed endpoint is for and how it is checked.
type Role string

// The roles of probed endpoints.
const (
	// RoleScan is a SOAP client web service: the probe POSTs GetConfig
	// and expects SOAP back (a response or a fault).
	RoleScan Role = "scan"
	// RoleFile is a file WUA fetches (wuident.cab, wuredir.cab,
	// wusserverversion.xml): GET with a Range of its first KiB.
	RoleFile Role = "file"
	// RoleHost is a host whose reachability matters (content and DO
	// hosts, SLS): any HTTP answer from it passes, except a proxy's 407 or
	// a gateway error.
	RoleHost Role = "host"
)

// Endpoint is one URL to probe.
type Endpoint struct {
	URL      string        `json:"url"`
	Class    profile.Class `json:"class"`
	Role     Role          `json:"role"`
	Required bool          `json:"required"`
	Note     string        `json:"note,omitempty"`
}

// MicrosoftUpdateEndpoints are the Microsoft Update endpoints of
// reference/wu-codes.md 6.2 (with the allow-list of [WSUS-CFG] and
// [L-DLERR] for the content hosts). The modern scan, SLS and content
// hosts are required; legacy and Delivery Optimization service hosts are
// reported but optional.
func MicrosoftUpdateEndpoints() []Endpoint {
	return []Endpoint{
		{URL: "https://fe3cr.delivery.mp.microsoft.com/ClientWebService/client.asmx", Class: profile.ClassScan, Role: RoleScan, Required: true, Note: "Windows 10+ scan [ASD]"},
		{URL: "https://fe3.delivery.mp.microsoft.com/ClientWebService/client.asmx", Class: profile.ClassScan, Role: RoleScan, Required: true, Note: "Windows 10+ scan [L-WUTS]"},
		{URL: "https://slscr.update.microsoft.com/SLS/{9482F4B4-E343-43B6-B170-9A65BC822C77}/x64/10.0.19045.0/0", Class: profile.ClassRedirector, Role: RoleHost, Required: true, Note: "Service Locator Service [L-2F8F]"},
		{URL: "http://download.windowsupdate.com/", Class: profile.ClassDownload, Role: RoleHost, Required: true, Note: "metadata and payloads over HTTP [AC] [WSUS-CFG]"},
		{URL: "http://dl.delivery.mp.microsoft.com/", Class: profile.ClassDownload, Role: RoleHost, Required: true, Note: "payload CDN [W11-EP]"},
		{URL: "https://dl.delivery.mp.microsoft.com/", Class: profile.ClassDownload, Role: RoleHost, Required: true, Note: "payload CDN [W11-EP]"},
		{URL: "http://update.microsoft.com/v6/windowsupdate/redir/wuredir.cab", Class: profile.ClassRedirector, Role: RoleFile, Note: "legacy redirector [KB902093]"},
		{URL: "https://www.update.microsoft.com/v11/3/legacy/windowsupdate/selfupdate/wuident.cab", Class: profile.ClassSelfUpdate, Role: RoleFile, Note: "legacy self-update [LU8]"},
		{URL: "https://fe2.update.microsoft.com/v6/ClientWebService/client.asmx", Class: profile.ClassScan, Role: RoleScan, Note: "older v6 scan (third-party logs)"},
		{URL: "https://tsfe.trafficshaping.dsp.mp.microsoft.com/", Class: profile.ClassDownload, Role: RoleHost, Note: "Delivery Optimization service [W11-EP]"},
		{URL: "http://emdl.ws.microsoft.com/", Class: profile.ClassDownload, Role: RoleHost, Note: "other WU host [W11-EP]"},
	}
}

// WSUSEndpoints are the endpoints of a WSUS server (reference 6.1): the
// self-update cab, the client and SimpleAuth web services, the version
// test URL of [L-SCAN], and the content folder.
func WSUSEndpoints(server string) ([]Endpoint, error) {
	u, err := parseServerURL(server)
	if err != nil {
		return nil, err
	}
	j := func(p ...string) string { return u.JoinPath(p...).String() }
	return []Endpoint{
		{URL: j("selfupdate", "wuident.cab"), Class: profile.ClassSelfUpdate, Role: RoleFile, Required: true},
		{URL: j("ClientWebService", "client.asmx"), Class: profile.ClassScan, Role: RoleScan, Required: true},
		{URL: j("SimpleAuthWebService", "SimpleAuth.asmx"), Class: profile.ClassScan, Role: RoleHost, Required: true},
		{URL: j("ClientWebService", "wusserverversion.xml"), Class: profile.ClassScan, Role: RoleFile, Required: true, Note: "test URL [L-SCAN]"},
		{URL: j("Content") + "/", Class: profile.ClassDownload, Role: RoleHost, Note: "content folder (a 403 or 404 for the folder itself is normal)"},
	}, nil
}

// ProbeOptions configure Probe.
type ProbeOptions struct {
	// Endpoints to probe; empty: MicrosoftUpdateEndpoints.
	Endpoints []Endpoint
	// Proxy is the proxy to go through, as a URL (http://host:port) or
	// host:port; empty: direct.
	Proxy         string
	ProxyUser     string
	ProxyPassword string
	// DNS are the resolvers (host:port or an address); required unless
	// the endpoints are reached through a proxy given by address.
	DNS []string
	// Generation and Download decide how codes are reported (modern, DO
	// by default).
	Generation Generation
	Download   Stack
	// TimeScale multiplies WinHTTP's timeouts; 0 means 1 (real time).
	TimeScale float64
	// Roots are the trusted roots; nil: the system's.
	Roots *x509.CertPool
	// CheckRevocation checks CRLs and OCSP staples as Windows does.
	CheckRevocation bool
	Env             Env // Logger and Clock
}

// ProbeStep is the outcome of one step of a probe.
type ProbeStep struct {
	OK       bool     `json:"ok"`
	Skipped  string   `json:"skipped,omitempty"`
	Detail   string   `json:"detail,omitempty"`
	Error    string   `json:"error,omitempty"`
	Duration Duration `json:"duration"`
}

// CertInfo describes one certificate of the server's chain.
type CertInfo struct {
	Subject  string    `json:"subject"`
	Issuer   string    `json:"issuer"`
	NotAfter time.Time `json:"not_after"`
	DNSNames []string  `json:"dns_names,omitempty"`
}

// EndpointReport is what the probe found for one endpoint, and the code
// a Windows Update client behind the same path would get.
type EndpointReport struct {
	Endpoint
	DNS        ProbeStep          `json:"dns"`
	TCP        ProbeStep          `json:"tcp"`
	TLS        ProbeStep          `json:"tls"`
	Chain      []CertInfo         `json:"chain,omitempty"`
	HTTP       ProbeStep          `json:"http"`
	Status     int                `json:"status,omitempty"`
	Range      string             `json:"range,omitempty"` // supported, ignored, or empty when not asked
	Code       codes.Code         `json:"code"`
	WinHTTP    WinHTTPError       `json:"winhttp,omitempty"`
	Rule       string             `json:"rule,omitempty"`
	Confidence profile.Confidence `json:"confidence,omitempty"`
	Source     string             `json:"source,omitempty"`
	Pass       bool               `json:"pass"`
}

// ProbeReport is the result of a probe.
type ProbeReport struct {
	Proxy     string           `json:"proxy,omitempty"`
	DNS       []string         `json:"dns,omitempty"`
	Endpoints []EndpointReport `json:"endpoints"`
	// Pass is true when every required endpoint passed.
	Pass bool `json:"pass"`
}

// Probe checks each endpoint the way a network team asks: name
// resolution, TCP, TLS (chain, issuer, expiry), the HTTP answer, Range
// support, and the WUA code a client on the same path would report. It
// fails only on bad options; network failures are in the report.
func Probe(ctx context.Context, o ProbeOptions) (*ProbeReport, error) {
	eps := o.Endpoints
	if len(eps) == 0 {
		eps = MicrosoftUpdateEndpoints()
	}
	proxy := ""
	if o.Proxy != "" {
		p, err := proxyAddr(o.Proxy)
		if err != nil {
			return nil, err
		}
		proxy = p
	}
	cfg := Config{
		Generation: o.Generation, Proxy: proxy, Download: o.Download, TimeScale: o.TimeScale, CheckRevocation: o.CheckRevocation,
		Timeouts:    Timeouts{Connect: DefaultConnectTimeout, Send: DefaultSendTimeout, Receive: DefaultReceiveTimeout},
		AuthSchemes: []string{SchemeBasic, SchemeNTLM, SchemeNegotiate}, TLSMin: tls.VersionTLS12, TLSMax: tls.VersionTLS13,
	}
	if cfg.Generation == "" {
		cfg.Generation = Modern
	}
	if cfg.Download == "" {
		cfg.Download = StackDO
	}
	if cfg.TimeScale <= 0 || cfg.TimeScale > 1 {
		cfg.TimeScale = 1
	}
	if o.ProxyUser != "" {
		cfg.Credentials = &Credentials{User: o.ProxyUser, Password: o.ProxyPassword}
	}
	for _, d := range o.DNS {
		a, err := mapDNS(d, Env{})
		if err != nil {
			return nil, err
		}
		cfg.DNS = append(cfg.DNS, a)
	}
	env := o.Env
	env.Roots = o.Roots
	if env.Roots == nil {
		sys, err := x509.SystemCertPool()
		if err != nil {
			return nil, fmt.Errorf("probe: system roots: %w", err)
		}
		env.Roots = sys
	}
	m := NewMachineConfig(cfg, env)
	rep := &ProbeReport{Proxy: proxy, DNS: cfg.DNS, Pass: true}
	for _, ep := range eps {
		er := m.probe(ctx, cfg, ep)
		rep.Endpoints = append(rep.Endpoints, er)
		if ep.Required && !er.Pass {
			rep.Pass = false
		}
		if ctx.Err() != nil {
			return nil, fmt.Errorf("probe: %w", ctx.Err())
		}
	}
	return rep, nil
}

// proxyAddr reads --proxy: a URL or host:port.
func proxyAddr(s string) (string, error) {
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", fmt.Errorf("proxy %q: want http://host:port", s)
		}
		s = u.Host
	}
	l, err := ParseProxyList(s)
	if err != nil || len(l.HTTP) != 1 {
		return "", fmt.Errorf("proxy %q: want one host:port", s)
	}
	return l.HTTP[0], nil
}

// probe checks one endpoint.
func (m *Machine) probe(ctx context.Context, cfg Config, ep Endpoint) EndpointReport {
	er := EndpointReport{Endpoint: ep}
	s := m.newSession(cfg, cfg.Proxy)
	defer s.t.close()
	fail := func(err error) EndpointReport {
		v := Classify(err, ep.Class, cfg.Generation, cfg.Download)
		er.Code, er.WinHTTP, er.Rule, er.Confidence, er.Source = v.Code, v.WinHTTP, v.Rule, v.Confidence, v.Source
		return er
	}
	u, err := url.Parse(ep.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
		er.DNS.Error = fmt.Sprintf("not an http(s) URL: %q", ep.URL)
		return fail(&TransportError{URL: ep.URL, Err: &URLError{URL: ep.URL, Scheme: err == nil && u.Scheme != "http" && u.Scheme != "https"}})
	}
	proxy := ""
	if l := s.sys.For(u.Scheme); len(l) > 0 {
		proxy = l[0]
	}
	// DNS: the proxy's name when there is one (it resolves the target).
	host, port, _ := net.SplitHostPort(hostPort(u))
	if proxy != "" {
		host, port, _ = net.SplitHostPort(proxy)
	}
	start := time.Now()
	addrs, err := s.t.res.lookup(ctx, host)
	er.DNS.Duration = Duration(time.Since(start))
	if err != nil {
		er.DNS.Error = err.Error()
		if ne, ok := errors.AsType[*NameError](err); ok && proxy != "" {
			ne.Proxy = true
		}
		return fail(&TransportError{Phase: profile.PhaseResolve, URL: ep.URL, Proxy: proxy, Err: err})
	}
	er.DNS.OK = true
	var names []string
	for _, a := range addrs {
		names = append(names, a.String())
	}
	er.DNS.Detail = host + " → " + strings.Join(names, ", ")
	if proxy != "" {
		er.DNS.Detail += " (the proxy resolves " + u.Hostname() + ")"
	}
	// TCP.
	start = time.Now()
	c, err := dialAddrs(ctx, &net.Dialer{Timeout: s.t.connect}, addrs, port)
	er.TCP.Duration = Duration(time.Since(start))
	if err != nil {
		er.TCP.Error = err.Error()
		return fail(&TransportError{Phase: profile.PhaseConnect, URL: ep.URL, Proxy: proxy, Err: err})
	}
	er.TCP.OK, er.TCP.Detail = true, c.RemoteAddr().String()
	_ = c.Close()
	// TLS: a connection through the whole path, and the chain.
	if u.Scheme == "https" {
		start = time.Now()
		pc, ph, err := s.t.conn(ctx, u, proxy, s.t.auth.session(proxy))
		er.TLS.Duration = Duration(time.Since(start))
		if err != nil {
			er.TLS.Error = err.Error()
			if ph == profile.PhaseHandshake {
				er.Chain = m.peekChain(ctx, s, u, proxy)
			}
			return fail(&TransportError{Phase: ph, URL: ep.URL, Proxy: proxy, Err: err})
		}
		if tc, ok := pc.c.(*tls.Conn); ok {
			st := tc.ConnectionState()
			er.TLS.OK = true
			er.TLS.Detail = tls.VersionName(st.Version) + ", " + tls.CipherSuiteName(st.CipherSuite)
			er.Chain = chainInfo(st.PeerCertificates)
		}
		_ = pc.c.Close()
	} else {
		er.TLS.Skipped = "http"
	}
	// HTTP.
	method, header, body := ProbeRequest(ep.Role)
	req := &request{Method: method, URL: u, Header: header, Body: body}
	start = time.Now()
	resp, err := s.t.do(ctx, req, s.proxiesFor(s.sys))
	er.HTTP.Duration = Duration(time.Since(start))
	if err == nil && resp.Status == http.StatusProxyAuthRequired && resp.Proxy != "" {
		err = &TransportError{Phase: profile.PhaseProxy, URL: ep.URL, Proxy: resp.Proxy, Err: &StatusError{Status: resp.Status, Proxy: true}}
	}
	if err != nil {
		er.HTTP.Error = err.Error()
		if se, ok := errors.AsType[*StatusError](err); ok {
			er.Status = se.Status
		}
		return fail(err)
	}
	er.Status = resp.Status
	er.HTTP.Detail = statusText(resp.Status) + ", " + orDash(resp.Header.Get("Content-Type")) + ", " + strconv.Itoa(len(resp.Body)) + " bytes"
	var verdict error
	switch ep.Role {
	case RoleScan:
		body, perr := parseEnvelope(resp.Body)
		switch {
		case perr == nil && body.fault != nil:
			er.HTTP.Detail += ", SOAP fault " + body.fault.Code // the service answered
		case resp.Status != http.StatusOK:
			verdict = &TransportError{Phase: profile.PhaseHeaders, URL: ep.URL, Proxy: proxy, Err: &StatusError{Status: resp.Status}}
		case perr != nil:
			verdict = &SOAPParseError{Method: "GetConfig", Err: perr}
		}
	case RoleFile:
		switch resp.Status {
		case http.StatusPartialContent:
			er.Range = "supported"
		case http.StatusOK:
			er.Range = "ignored"
			if ep.Class == profile.ClassDownload {
				verdict = &JobError{Stack: cfg.Download, URL: ep.URL, Attempts: 1, Err: &RangeError{Status: 200, Want: header.Get("Range")}}
			}
		default:
			verdict = &TransportError{Phase: profile.PhaseHeaders, URL: ep.URL, Proxy: proxy, Err: &StatusError{Status: resp.Status}}
		}
	case RoleHost:
		if resp.Status == http.StatusBadGateway || resp.Status == http.StatusGatewayTimeout {
			verdict = &TransportError{Phase: profile.PhaseHeaders, URL: ep.URL, Proxy: proxy, Err: &StatusError{Status: resp.Status}}
		}
	}
	if verdict != nil {
		er.HTTP.Error = verdict.Error()
		return fail(verdict)
	}
	er.HTTP.OK, er.Pass = true, true
	return er
}

// ProbeRequest is how Probe requests an endpoint of the role: a scan
// service is POSTed GetConfig (SOAP 1.1, reference 6.3), a file is asked
// for its first KiB with a Range, a host gets a plain GET. The Windows
// agent sends the same through the real WinHTTP.
func ProbeRequest(role Role) (method string, header http.Header, body []byte) {
	switch role {
	case RoleScan:
		return http.MethodPost, http.Header{"Content-Type": {"text/xml; charset=utf-8"}, "SOAPAction": {`"` + nsClient + `/GetConfig"`}},
			envelope("GetConfig", nsClient, "<protocolVersion>"+protocolVersion+"</protocolVersion>")
	case RoleFile:
		return http.MethodGet, http.Header{"Range": {"bytes=0-1023"}}, nil
	}
	return http.MethodGet, http.Header{}, nil
}

// peekChain fetches the server's chain without verifying it, for the
// report of a failed handshake.
func (m *Machine) peekChain(ctx context.Context, s *session, u *url.URL, proxy string) []CertInfo {
	cfg := s.t.tls.Clone()
	cfg.InsecureSkipVerify = true //nolint:gosec // only to show the chain of a failed handshake
	cfg.VerifyConnection = nil
	t := newTransport(s.t.res, cfg, s.t.auth, s.t.connect, s.t.send, s.t.recv, s.log)
	defer t.close()
	pc, _, err := t.conn(ctx, u, proxy, t.auth.session(proxy))
	if err != nil {
		return nil
	}
	defer pc.c.Close()
	if tc, ok := pc.c.(*tls.Conn); ok {
		return chainInfo(tc.ConnectionState().PeerCertificates)
	}
	return nil
}

func chainInfo(certs []*x509.Certificate) []CertInfo {
	var out []CertInfo
	for _, c := range certs {
		out = append(out, CertInfo{Subject: c.Subject.String(), Issuer: c.Issuer.String(), NotAfter: c.NotAfter, DNSNames: c.DNSNames})
	}
	return out
}

// WriteJSON writes the report as indented JSON.
func (r *ProbeReport) WriteJSON(w io.Writer) error { return writeJSON(w, r) }

// WriteText writes the report for people.
func (r *ProbeReport) WriteText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tURL\tDNS\tTCP\tTLS\tHTTP\tRANGE\tWUA CODE")
	for _, e := range r.Endpoints {
		res := "PASS"
		if !e.Pass {
			res = "FAIL"
			if !e.Required {
				res = "fail (optional)"
			}
		}
		code := "-"
		if e.Code != codes.OK {
			code = e.Code.String()
		}
		status := "-"
		if e.Status != 0 {
			status = strconv.Itoa(e.Status)
		} else if e.HTTP.Error != "" {
			status = "error"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", res, e.URL, step(e.DNS), step(e.TCP), step(e.TLS), status, orDash(e.Range), code)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range r.Endpoints {
		if len(e.Chain) > 0 {
			detail := e.TLS.Detail
			if !e.TLS.OK {
				detail = "verification failed; the chain as the server sent it"
			}
			fmt.Fprintf(&b, "\n%s\n  tls: %s\n", e.URL, detail)
			for _, c := range e.Chain {
				fmt.Fprintf(&b, "  cert %s, issuer %s, expires %s\n", c.Subject, c.Issuer, c.NotAfter.Format("2006-01-02"))
			}
		}
		if !e.Pass {
			fmt.Fprintf(&b, "\n%s\n", e.URL)
			for _, st := range []struct {
				name string
				s    ProbeStep
			}{{"dns", e.DNS}, {"tcp", e.TCP}, {"tls", e.TLS}, {"http", e.HTTP}} {
				if st.s.Error != "" {
					fmt.Fprintf(&b, "  %s: %s\n", st.name, st.s.Error)
				}
			}
			fmt.Fprintf(&b, "  a Windows Update client here would report %s (rule %s, confidence %s; %s)\n", e.Code, e.Rule, e.Confidence, e.Source)
		}
	}
	verdict := "every required endpoint passed"
	if !r.Pass {
		verdict = "some required endpoints failed"
	}
	fmt.Fprintf(&b, "\nprobe: %s\n", verdict)
	_, err := io.WriteString(w, b.String())
	return err
}

func step(s ProbeStep) string {
	switch {
	case s.Skipped != "":
		return "-"
	case s.OK:
		return "ok"
	case s.Error != "":
		return "FAIL"
	}
	return "-"
}
