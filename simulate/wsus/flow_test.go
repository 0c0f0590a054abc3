package wsus

import (
	"bytes"
	"context"
	"crypto/sha1" //nolint:gosec // the protocol's digest
	"crypto/sha256"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test-side views of the responses, decoded by element name only.

type tCookie struct {
	Expiration    string `xml:"Expiration"`
	EncryptedData string `xml:"EncryptedData"`
}

func (c tCookie) xml(name string) string {
	return "<" + name + "><Expiration>" + c.Expiration + "</Expiration><EncryptedData>" + c.EncryptedData + "</EncryptedData></" + name + ">"
}

type tConfigResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetConfigResponse"`
	Result  struct {
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

type tAuthResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/SimpleAuthWebService GetAuthorizationCookieResponse"`
	Result  struct {
		PlugInID   string `xml:"PlugInId"`
		CookieData string `xml:"CookieData"`
	} `xml:"GetAuthorizationCookieResult"`
}

type tCookieResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetCookieResponse"`
	Result  tCookie  `xml:"GetCookieResult"`
}

type tUpdateInfo struct {
	ID         int `xml:"ID"`
	Deployment struct {
		ID     int    `xml:"ID"`
		Action string `xml:"Action"`
	} `xml:"Deployment"`
	IsLeaf bool   `xml:"IsLeaf"`
	XML    string `xml:"Xml"`
}

type tSyncResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService SyncUpdatesResponse"`
	Result  struct {
		NewUpdates *struct {
			Items []tUpdateInfo `xml:"UpdateInfo"`
		} `xml:"NewUpdates"`
		OutOfScope          []int   `xml:"OutOfScopeRevisionIDs>int"`
		Truncated           *bool   `xml:"Truncated"`
		NewCookie           tCookie `xml:"NewCookie"`
		DriverSyncNotNeeded bool    `xml:"DriverSyncNotNeeded"`
	} `xml:"SyncUpdatesResult"`
}

type tFileLocation struct {
	FileDigest string `xml:"FileDigest"`
	URL        string `xml:"Url"`
}

type tExtendedResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetExtendedUpdateInfoResponse"`
	Result  struct {
		OutOfScope []int `xml:"OutOfScopeRevisionIDs>int"`
		Updates    []struct {
			ID  int    `xml:"ID"`
			XML string `xml:"Xml"`
		} `xml:"Updates>Update"`
		FileLocations []tFileLocation `xml:"FileLocations>FileLocation"`
	} `xml:"GetExtendedUpdateInfoResult"`
}

type tFileLocationsResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService GetFileLocationsResponse"`
	Result  struct {
		FileLocations []tFileLocation `xml:"FileLocations>FileLocation"`
		NewCookie     tCookie         `xml:"NewCookie"`
	} `xml:"GetFileLocationsResult"`
}

type tReportResponse struct {
	XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution ReportEventBatchResponse"`
	Result  bool     `xml:"ReportEventBatchResult"`
}

// Metadata fragments, parsed after wrapping them in a root element.
type tFragment struct {
	Identity struct {
		UpdateID       string `xml:"UpdateID,attr"`
		RevisionNumber int    `xml:"RevisionNumber,attr"`
	} `xml:"UpdateIdentity"`
	Bundled []struct {
		UpdateID string `xml:"UpdateID,attr"`
	} `xml:"Relationships>BundledUpdates>UpdateIdentity"`
	Rules *struct{} `xml:"ApplicabilityRules"`
	Ext   *struct {
		Handler         string `xml:"Handler,attr"`
		MaxDownloadSize int64  `xml:"MaxDownloadSize,attr"`
		KB              string `xml:"KBArticleID"`
	} `xml:"ExtendedProperties"`
	Files []struct {
		Digest     string `xml:"Digest,attr"`
		Algorithm  string `xml:"DigestAlgorithm,attr"`
		FileName   string `xml:"FileName,attr"`
		Size       int64  `xml:"Size,attr"`
		Additional struct {
			Algorithm string `xml:"Algorithm,attr"`
			Value     string `xml:",chardata"`
		} `xml:"AdditionalDigest"`
	} `xml:"Files>File"`
	Title    string `xml:"LocalizedProperties>Title"`
	External *struct {
		Digest   string `xml:"Digest,attr"`
		FileName string `xml:"FileName,attr"`
		Size     int64  `xml:"Size,attr"`
	} `xml:"ExternalMetadata"`
}

func parseFragment(t testing.TB, frag string) tFragment {
	t.Helper()
	var f tFragment
	if err := xml.Unmarshal([]byte("<Fragment>"+frag+"</Fragment>"), &f); err != nil {
		t.Fatalf("fragment is not well-formed XML: %v\n%s", err, frag)
	}
	return f
}

func intsXML(ids []int) string {
	var b strings.Builder
	for _, id := range ids {
		b.WriteString("<int>" + strconv.Itoa(id) + "</int>")
	}
	return b.String()
}

func syncBody(ck tCookie, cached []int) string {
	return ck.xml("cookie") + "<parameters><ExpressQuery>false</ExpressQuery><InstalledNonLeafUpdateIDs></InstalledNonLeafUpdateIDs>" +
		"<OtherCachedUpdateIDs>" + intsXML(cached) + "</OtherCachedUpdateIDs><SkipSoftwareSync>false</SkipSoftwareSync>" +
		"<NeedTwoGroupOutOfScopeUpdates>true</NeedTwoGroupOutOfScopeUpdates></parameters>"
}

// handshake runs GetConfig → GetAuthorizationCookie → GetCookie (→ RegisterComputer).
func handshake(c *soapClient, prefix, clientID string) (tConfigResponse, tCookie) {
	c.t.Helper()
	var cfg tConfigResponse
	c.call(prefix+pathClient, nsClient, "GetConfig", "<protocolVersion>1.8</protocolVersion>", &cfg)
	var auth tAuthResponse
	c.call(prefix+pathAuth, nsSimpleAuth, "GetAuthorizationCookie",
		"<clientId>"+clientID+"</clientId><targetGroupName></targetGroupName><dnsName>"+clientID+".lab</dnsName>", &auth)
	var ck tCookieResponse
	c.call(prefix+pathClient, nsClient, "GetCookie",
		"<authCookies><AuthorizationCookie><PlugInId>"+auth.Result.PlugInID+"</PlugInId><CookieData>"+auth.Result.CookieData+
			"</CookieData></AuthorizationCookie></authCookies><lastChange>"+cfg.Result.LastChange+"</lastChange>"+
			"<currentTime>"+time.Now().UTC().Format(time.RFC3339)+"</currentTime><protocolVersion>1.8</protocolVersion>", &ck)
	if cfg.Result.IsRegistrationRequired {
		var reg struct {
			XMLName xml.Name `xml:"http://www.microsoft.com/SoftwareDistribution/Server/ClientWebService RegisterComputerResponse"`
		}
		c.call(prefix+pathClient, nsClient, "RegisterComputer", ck.Result.xml("cookie")+
			"<computerInfo><DNSName>"+clientID+".lab</DNSName><OSMajorVersion>10</OSMajorVersion></computerInfo>", &reg)
	}
	return cfg, ck.Result
}

var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// TestScanFlow drives the whole [MS-WUSP] 3.1.5 call order with a plain SOAP
// client, under the WSUS name and under Microsoft's names and prefixes.
func TestScanFlow(t *testing.T) {
	routes := []struct {
		name, host, prefix string
		lower              bool
	}{
		{"wsus", "wsus.lab:8530", "", false},
		{"microsoft update v6", "www.update.microsoft.com", "/v6", false},
		{"fe3 lowercase paths", "fe3.delivery.mp.microsoft.com", "", true},
	}
	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			var mu sync.Mutex
			var calls []Call
			var reports []Report
			s := newTestServer(t, Options{
				Updates: new(3), ContentSize: 100_000, Seed: 7, Registration: true, Logger: testLogger(t),
				OnCall:   func(c Call) { mu.Lock(); calls = append(calls, c); mu.Unlock() },
				OnReport: func(r Report) { mu.Lock(); reports = append(reports, r); mu.Unlock() },
			})
			ts := httptest.NewServer(s)
			defer ts.Close()
			// Every name resolves to the test server, as the world's DNS does.
			tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, network, ts.Listener.Addr().String())
			}}
			defer tr.CloseIdleConnections()
			base := "http://" + rt.host
			c := &soapClient{t: t, base: base, http: &http.Client{Transport: tr}, lower: rt.lower}
			runScanFlow(t, c, s, rt.prefix, base)

			mu.Lock()
			defer mu.Unlock()
			var methods []string
			for _, cl := range calls {
				if cl.Status != http.StatusOK || cl.Fault != "" {
					t.Errorf("call %s: status %d fault %q", cl.Method, cl.Status, cl.Fault)
				}
				if cl.Host != rt.host {
					t.Errorf("call %s: Host %q, want %q", cl.Method, cl.Host, rt.host)
				}
				methods = append(methods, cl.Method)
			}
			want := []string{"GetConfig", "GetAuthorizationCookie", "GetCookie", "RegisterComputer",
				"SyncUpdates", "SyncUpdates", "SyncUpdates", "SyncUpdates", "GetExtendedUpdateInfo", "GetFileLocations", "ReportEventBatch"}
			if !slices.Equal(methods, want) {
				t.Errorf("calls seen by OnCall:\n got %v\nwant %v", methods, want)
			}
			if len(reports) != 2 || reports[0].Win32HResult != 0x80244016 {
				t.Errorf("OnReport got %+v, want two reports, the first with 0x80244016", reports)
			}
		})
	}
}

func runScanFlow(t *testing.T, c *soapClient, s *Server, prefix, base string) {
	catalog := s.Catalog()

	// 0. Self-update identity.
	resp := c.get(prefix+"/selfupdate/wuident.cab", "")
	if resp.status != http.StatusOK || resp.header.Get("Content-Type") != cabType {
		t.Fatalf("wuident.cab: status %d type %q", resp.status, resp.header.Get("Content-Type"))
	}
	files, err := readCAB(resp.body)
	if err != nil || len(files) != 1 || files[0].Name != "wuident.txt" || !bytes.Contains(files[0].Data, []byte("[WUIdent]")) {
		t.Fatalf("wuident.cab: %v %+v", err, files)
	}

	// 1-3. GetConfig, GetAuthorizationCookie, GetCookie, RegisterComputer.
	cfg, ck := handshake(c, prefix, "client-1")
	r := cfg.Result
	if r.LastChange != "2024-01-01T00:00:00.000Z" || !r.IsRegistrationRequired || len(r.AuthInfo) != 1 ||
		r.AuthInfo[0].PlugInID != "SimpleTargeting" || r.AuthInfo[0].ServiceURL != "SimpleAuthWebService/SimpleAuth.asmx" {
		t.Errorf("GetConfig result %+v", r)
	}
	props := map[string]string{}
	for _, p := range r.Properties {
		props[p.Name] = p.Value
	}
	if props["ProtocolVersion"] != "3.2" || props["MaxExtendedUpdatesPerRequest"] != "20" {
		t.Errorf("GetConfig properties %v", props)
	}
	if _, err := time.Parse(time.RFC3339, ck.Expiration); err != nil || ck.EncryptedData == "" {
		t.Errorf("cookie %+v: %v", ck, err)
	}

	// 4. SyncUpdates while Truncated, sending what we hold ([MS-WUSP] 3.1.5.7).
	var cached []int
	byRev := map[int]tUpdateInfo{}
	trips := 0
	for {
		var sync tSyncResponse
		c.call(prefix+pathClient, nsClient, "SyncUpdates", syncBody(ck, cached), &sync)
		trips++
		res := sync.Result
		if res.NewUpdates == nil || res.Truncated == nil || res.NewCookie.EncryptedData == "" || !res.DriverSyncNotNeeded {
			t.Fatalf("SyncUpdates result shape: %+v", res)
		}
		ck = res.NewCookie
		for _, u := range res.NewUpdates.Items {
			byRev[u.ID] = u
			cached = append(cached, u.ID)
		}
		if wantTrunc := trips < len(catalog); *res.Truncated != wantTrunc {
			t.Errorf("trip %d: Truncated %v, want %v", trips, *res.Truncated, wantTrunc)
		}
		if !*res.Truncated {
			break
		}
		if trips > 10 {
			t.Fatal("SyncUpdates never stopped")
		}
	}
	// One more call, as a client following the spec does: nothing new.
	var last tSyncResponse
	c.call(prefix+pathClient, nsClient, "SyncUpdates", syncBody(ck, cached), &last)
	if len(last.Result.NewUpdates.Items) != 0 || *last.Result.Truncated {
		t.Errorf("final SyncUpdates: %d updates, truncated %v", len(last.Result.NewUpdates.Items), *last.Result.Truncated)
	}
	if len(byRev) != 2*len(catalog) {
		t.Fatalf("synced %d revisions, want %d", len(byRev), 2*len(catalog))
	}
	for _, u := range catalog {
		parent, child := byRev[u.RevisionID], byRev[u.BundledRevisionID]
		if parent.Deployment.Action != "Install" || child.Deployment.Action != "Bundle" || !parent.IsLeaf {
			t.Errorf("update %s: deployments %+v / %+v", u.ID, parent.Deployment, child.Deployment)
		}
		pf, cf := parseFragment(t, parent.XML), parseFragment(t, child.XML)
		if pf.Identity.UpdateID != u.ID || len(pf.Bundled) != 1 || pf.Bundled[0].UpdateID != u.BundledID {
			t.Errorf("update %s: core fragment %+v", u.ID, pf)
		}
		if cf.Identity.UpdateID != u.BundledID || cf.Rules == nil {
			t.Errorf("update %s: child core fragment %+v", u.ID, cf)
		}
		if !guidRE.MatchString(u.ID) || !guidRE.MatchString(u.BundledID) {
			t.Errorf("ids %q %q are not lowercase v4 GUIDs", u.ID, u.BundledID)
		}
	}

	// 5. GetExtendedUpdateInfo for every revision.
	var ext tExtendedResponse
	c.call(prefix+pathClient, nsClient, "GetExtendedUpdateInfo", ck.xml("cookie")+"<revisionIDs>"+intsXML(cached)+"<int>42</int></revisionIDs>"+
		"<infoTypes><XmlUpdateFragmentType>Extended</XmlUpdateFragmentType><XmlUpdateFragmentType>LocalizedProperties</XmlUpdateFragmentType></infoTypes>"+
		"<locales><string>en-US</string><string>en</string></locales>", &ext)
	if !slices.Equal(ext.Result.OutOfScope, []int{42}) {
		t.Errorf("OutOfScopeRevisionIDs %v, want [42]", ext.Result.OutOfScope)
	}
	if len(ext.Result.Updates) != 2*len(cached) {
		t.Errorf("%d fragments, want %d", len(ext.Result.Updates), 2*len(cached))
	}
	urls := map[string]string{} // digest → URL
	for _, fl := range ext.Result.FileLocations {
		urls[fl.FileDigest] = fl.URL
	}
	type meta struct {
		size         int64
		sha1, sha256 string
		name         string
	}
	files2 := map[string]meta{} // digest → metadata
	external := 0
	for _, u := range ext.Result.Updates {
		f := parseFragment(t, u.XML)
		if f.External != nil {
			// A client of fe3 gets its file metadata in a metadata (ECP) cab
			// on www.download.windowsupdate.com: fetch it, check its digest,
			// open it and read the files from the named document.
			external++
			mu := urls[f.External.Digest]
			delete(urls, f.External.Digest)
			if !strings.HasPrefix(mu, "http://"+HostMetadata+"/msdownload/update/software/") {
				t.Errorf("metadata cab URL %q", mu)
			}
			resp := c.get(mu[strings.Index(mu[len("http://"):], "/")+len("http://"):], "")
			sum := sha1.Sum(resp.body) //nolint:gosec // the protocol's digest
			if resp.status != http.StatusOK || resp.header.Get("Content-Type") != cabType ||
				base64.StdEncoding.EncodeToString(sum[:]) != f.External.Digest || int64(len(resp.body)) != f.External.Size {
				t.Fatalf("metadata cab %s: status %d, %d bytes, digest mismatch or wrong type", mu, resp.status, len(resp.body))
			}
			inner, err := readCAB(resp.body)
			if err != nil || len(inner) != 1 || inner[0].Name != f.External.FileName {
				t.Fatalf("metadata cab %s: %v %+v", mu, err, inner)
			}
			var doc tFragment
			if err := xml.Unmarshal(inner[0].Data, &doc); err != nil || len(doc.Files) == 0 {
				t.Fatalf("metadata document %s: %v\n%s", inner[0].Name, err, inner[0].Data)
			}
			f.Files = doc.Files
		}
		for _, fm := range f.Files {
			if fm.Algorithm != "SHA1" || fm.Additional.Algorithm != "SHA256" {
				t.Errorf("file %s: algorithms %q/%q", fm.FileName, fm.Algorithm, fm.Additional.Algorithm)
			}
			files2[fm.Digest] = meta{size: fm.Size, sha1: fm.Digest, sha256: fm.Additional.Value, name: fm.FileName}
		}
	}
	if wantExternal := strings.Contains(base, "delivery.mp"); (external == len(catalog)) != wantExternal || (!wantExternal && external != 0) {
		t.Errorf("%d updates with external metadata for a client of %s (catalog %d)", external, base, len(catalog))
	}
	for _, u := range catalog {
		for _, f := range u.Files {
			m, ok := files2[f.Digest()]
			if !ok || m.size != f.Size || m.sha256 != base64.StdEncoding.EncodeToString(f.SHA256[:]) || m.name != f.Name {
				t.Errorf("metadata for %s: %+v, catalog %+v", f.Name, m, f)
			}
			want := base + f.Path
			if MicrosoftHost(strings.TrimPrefix(base, "http://")) {
				// Microsoft's content hosts, as the client called a Microsoft name.
				key := contentKey(f.SHA1)
				want = "http://" + HostDownload + "/c/msdownload/update/software/updt/" + key + ".cab"
				if strings.Contains(base, "delivery.mp") && s.contentIdx[key]%2 == 1 {
					want = "http://" + HostDelivery + "/filestreamingservice/files/" + key + ".cab"
				}
			}
			if urls[f.Digest()] != want {
				t.Errorf("FileLocation for %s: %q, want %q", f.Name, urls[f.Digest()], want)
			}
		}
	}

	// 6. GetFileLocations for the same digests.
	var digests strings.Builder
	for d := range files2 {
		digests.WriteString("<base64Binary>" + d + "</base64Binary>")
	}
	var fl tFileLocationsResponse
	c.call(prefix+pathClient, nsClient, "GetFileLocations", ck.xml("cookie")+"<fileDigests>"+digests.String()+"</fileDigests>", &fl)
	if len(fl.Result.FileLocations) != len(files2) || fl.Result.NewCookie.EncryptedData == "" {
		t.Errorf("GetFileLocations: %+v", fl.Result)
	}
	for _, l := range fl.Result.FileLocations {
		if urls[l.FileDigest] != l.URL {
			t.Errorf("GetFileLocations %s: %q, GetExtendedUpdateInfo said %q", l.FileDigest, l.URL, urls[l.FileDigest])
		}
	}

	// 7. Download each file in two Range requests, as BITS and DO do, and verify it.
	for digest, u := range urls {
		path := u[strings.Index(u[len("http://"):], "/")+len("http://"):] // the server routes on the path alone
		first := c.get(path, "bytes=0-1023")
		if first.status != http.StatusPartialContent || len(first.body) != 1024 {
			t.Fatalf("%s first range: status %d, %d bytes", path, first.status, len(first.body))
		}
		if cr := first.header.Get("Content-Range"); cr != fmt.Sprintf("bytes 0-1023/%d", files2[digest].size) {
			t.Errorf("Content-Range %q", cr)
		}
		rest := c.get(path, "bytes=1024-")
		if rest.status != http.StatusPartialContent {
			t.Fatalf("%s second range: status %d", path, rest.status)
		}
		data := append(first.body, rest.body...)
		s1, s256 := sha1.Sum(data), sha256.Sum256(data) //nolint:gosec // the protocol's digest
		if int64(len(data)) != files2[digest].size || base64.StdEncoding.EncodeToString(s1[:]) != digest ||
			base64.StdEncoding.EncodeToString(s256[:]) != files2[digest].sha256 {
			t.Errorf("%s: downloaded %d bytes do not match the metadata", path, len(data))
		}
		inner, err := readCAB(data)
		if err != nil || len(inner) != 1 || len(inner[0].Data) != 100_000 {
			t.Errorf("%s: content cabinet: %v", path, err)
		}
	}

	// 8. ReportEventBatch with the code the client hit.
	var rep tReportResponse
	c.call(prefix+pathReport, nsReporting, "ReportEventBatch", reportBody(ck, catalog[0].ID), &rep)
	if !rep.Result {
		t.Error("ReportEventBatchResult false")
	}
	got := s.Reports()
	if len(got) != 2 {
		t.Fatalf("Reports() = %d reports, want 2", len(got))
	}
	r0 := got[0]
	if r0.Win32HResult != 0x80244016 || r0.Win32HResultText != "-2145107946" || r0.ComputerID != "client-1" ||
		r0.EventID != 148 || r0.NamespaceID != 1 || r0.SourceID != 1 || r0.UpdateID != catalog[0].ID || r0.RevisionNumber != 200 ||
		r0.AppName != "AutomaticUpdates" || r0.TargetSID != "client-1" || r0.ComputerDNSName != "client-1.lab" ||
		!slices.Equal(r0.ReplacementStrings, []string{"0x80244016"}) || !slices.Equal(r0.MiscData, []string{"Agent=1"}) ||
		r0.ClientTime.IsZero() || r0.SequenceNumber != 7 || r0.EventInstanceID == "" {
		t.Errorf("first report %+v", r0)
	}
	if got[1].Win32HResult != 0 || got[1].EventID != 147 {
		t.Errorf("second report %+v", got[1])
	}
}

// reportBody is a ReportEventBatch as WUA sends it: a detection failure with the
// signed HRESULT, then a success.
func reportBody(ck tCookie, updateID string) string {
	ev := func(seq, eventID int, hr, update string) string {
		return `<ReportingEvent><BasicData><TargetID><Sid>client-1</Sid></TargetID><SequenceNumber>` + strconv.Itoa(seq) +
			`</SequenceNumber><TimeAtTarget>2024-06-01T10:00:00.123Z</TimeAtTarget><EventInstanceID>{6d5b0d6e-0b7a-4d59-9d57-5b5e2f4a6c01}</EventInstanceID>` +
			`<NamespaceID>1</NamespaceID><EventID>` + strconv.Itoa(eventID) + `</EventID><SourceID>1</SourceID><UpdateID><UpdateID>{` + update +
			`}</UpdateID><RevisionNumber>200</RevisionNumber></UpdateID><Win32HResult>` + hr + `</Win32HResult><AppName>AutomaticUpdates</AppName></BasicData>` +
			`<ExtendedData><ReplacementStrings soapenc:arrayType="xsd:string[1]"><string>` + hr2hex(hr) + `</string></ReplacementStrings>` +
			`<MiscData soapenc:arrayType="xsd:string[1]"><string>Agent=1</string></MiscData></ExtendedData>` +
			`<PrivateData><ComputerDnsName>client-1.lab</ComputerDnsName><UserAccountName></UserAccountName></PrivateData></ReportingEvent>`
	}
	return ck.xml("cookie") + `<clientTime>2024-06-01T10:00:01Z</clientTime>` +
		`<eventBatch xmlns:q1="http://www.microsoft.com/SoftwareDistribution" xmlns:soapenc="http://schemas.xmlsoap.org/soap/encoding/" soapenc:arrayType="q1:ReportingEvent[2]">` +
		ev(7, 148, "-2145107946", strings.ToUpper(updateID)) + ev(8, 147, "0", "00000000-0000-0000-0000-000000000000") + `</eventBatch>`
}

func hr2hex(s string) string {
	n, _ := strconv.ParseInt(s, 10, 64)
	return fmt.Sprintf("0x%08X", uint32(n))
}

// get sends a GET, with a Range header when rng is not empty.
func (c *soapClient) get(path, rng string) rawResponse {
	c.t.Helper()
	return c.do(http.MethodGet, path, rng, nil)
}

func (c *soapClient) do(method, path, rng string, hdr http.Header) rawResponse {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, c.base+c.path(path), nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if rng != "" {
		req.Header.Set("Range", rng)
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("read %s: %v", path, err)
	}
	return rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
}
