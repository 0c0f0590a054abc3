package wsus

import (
	"bytes"
	"crypto/sha1" //nolint:gosec // SHA-1 is what WSUS content names and digests use
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// catalogTime is the fixed LastChange of the configuration and the catalog, the
// Last-Modified of every file, and the Modified date of content: fixed so that
// output is deterministic.
var catalogTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	cabType       = "application/vnd.ms-cab-compressed" // IIS's MIME type for .cab
	firstKB       = 9900001                             // fake KB numbers, far from real ones
	revisionBase  = 900000                              // revision IDs, as in GoSecure/pywsus
	deployBase    = 80000                               // deployment IDs, as in GoSecure/pywsus
	revisionNum   = 200                                 // RevisionNumber of every fake update
	serverVersion = "10.0.17763.1"                      // a WSUS on Windows Server 2019
)

// An Update is one fake software update. On the wire it is two revisions, the
// shape GoSecure/pywsus serves to real clients: the update itself (deployment
// action Install, bundling the child) and one bundled child (action Bundle,
// applicability rules "not installed, installable") that carries the files.
type Update struct {
	ID                string // UpdateID, a lowercase GUID
	Revision          int    // RevisionNumber
	RevisionID        int    // the server's revision ID used by SyncUpdates and GetExtendedUpdateInfo
	DeploymentID      int
	BundledID         string // UpdateID of the bundled child
	BundledRevisionID int    // revision ID of the bundled child
	KB                string // KB article number, digits only
	Title             string // English title (LocalizedProperties)
	Files             []File // content of the bundled child
}

// A File is one content file of an update, served under /Content.
type File struct {
	Name   string // FileName in the metadata
	Path   string // URL path: /Content/XX/<SHA-1 hex>.cab, XX the digest's last byte
	SHA1   [sha1.Size]byte
	SHA256 [sha256.Size]byte
	Size   int64
}

// Digest returns the SHA-1 as the metadata carries it (base64; [MS-WUSP]
// FileDigest, the File Digest attribute in GoSecure/pywsus).
func (f File) Digest() string { return base64.StdEncoding.EncodeToString(f.SHA1[:]) }

// revision is one revision as SyncUpdates and GetExtendedUpdateInfo see it.
type revision struct {
	id, deployment int
	action         string // Deployment Action: Install or Bundle
	core           string // Core XML fragment
	extended       string // Extended XML fragment
	localized      string // LocalizedProperties XML fragment (English)
	files          []File
	// ecp is the Extended fragment a client of fe3 gets instead of
	// extended: the file metadata moves to the cab named metadata (its
	// key), which holds extended ([AC]; reference 3.1, the external cab
	// processor).
	ecp      string
	metadata string
}

// blob is one file served with http.ServeContent.
type blob struct {
	name string
	data []byte
	etag string
}

func newBlob(name string, data []byte) *blob {
	sum := sha1.Sum(data) //nolint:gosec // an ETag, not security
	return &blob{name: name, data: data, etag: `"` + hex.EncodeToString(sum[:8]) + `:0"`}
}

// serverIdentity keys the cookies: cookies from a server with another seed fail
// with ServerChanged, forged ones with InvalidCookie.
type serverIdentity struct {
	id  [16]byte
	key [32]byte
}

// build derives everything from the seed: ids from one PCG stream, content bytes
// from one ChaCha8 stream per update.
func (s *Server) build(n int) error {
	seed := uint64(s.opts.Seed)
	ids := rand.New(rand.NewPCG(seed, 0x7775666175_6c74)) // "wufault"
	keys := rand.New(rand.NewPCG(seed, 0x636f6f6b6965))   // "cookie"
	fillRand(keys, s.ident.id[:])
	fillRand(keys, s.ident.key[:])

	s.byRev = make(map[int]*revision, 2*n)
	s.content = make(map[string]*blob, n)
	s.contentIdx = make(map[string]int, n)
	s.metadata = make(map[string]*blob, n)
	used := map[int]bool{}
	nextID := func(base int) int {
		for {
			id := base + ids.IntN(99999)
			if !used[id] {
				used[id] = true
				return id
			}
		}
	}
	for i := range n {
		kb := strconv.Itoa(firstKB + i)
		u := Update{
			ID:                guid(ids),
			Revision:          revisionNum,
			RevisionID:        nextID(revisionBase),
			DeploymentID:      nextID(deployBase),
			BundledID:         guid(ids),
			BundledRevisionID: nextID(revisionBase),
			KB:                kb,
			Title:             fmt.Sprintf("wufault test update %d for Windows (KB%s)", i+1, kb),
		}
		childDeployment := nextID(deployBase)

		payload := make([]byte, s.opts.ContentSize)
		var cs [32]byte
		binary.LittleEndian.PutUint64(cs[:], seed)
		binary.LittleEndian.PutUint64(cs[8:], uint64(i))
		copy(cs[16:], "wufault-content!")
		_, _ = rand.NewChaCha8(cs).Read(payload)
		var cab bytes.Buffer
		err := WriteCAB(&cab, []CABFile{{Name: "wufault-kb" + kb + ".bin", Data: payload, ModTime: catalogTime}})
		if err != nil {
			return fmt.Errorf("content of update %d: %w", i, err)
		}
		f := File{
			Name:   "wufault-kb" + kb + "-x64.cab",
			SHA1:   sha1.Sum(cab.Bytes()), //nolint:gosec // the protocol's digest
			SHA256: sha256.Sum256(cab.Bytes()),
			Size:   int64(cab.Len()),
		}
		key := contentKey(f.SHA1)
		f.Path = "/Content/" + key[len(key)-2:] + "/" + key + ".cab"
		s.content[key] = newBlob(key+".cab", cab.Bytes())
		s.contentIdx[key] = i
		u.Files = []File{f}
		s.catalog = append(s.catalog, u)

		parent := &revision{id: u.RevisionID, deployment: u.DeploymentID, action: "Install"}
		child := &revision{id: u.BundledRevisionID, deployment: childDeployment, action: "Bundle", files: u.Files}
		parent.core, child.core = coreFragments(u)
		parent.extended, child.extended = extendedFragments(u)
		parent.localized, child.localized = localizedFragments(u)
		if err := s.externalize(u, child); err != nil {
			return fmt.Errorf("metadata cab of update %d: %w", i, err)
		}
		s.byRev[parent.id] = parent
		s.byRev[child.id] = child
	}

	var ident bytes.Buffer
	if err := WriteCAB(&ident, []CABFile{{Name: "wuident.txt", Data: s.wuidentTxt(), ModTime: catalogTime}}); err != nil {
		return fmt.Errorf("wuident.cab: %w", err)
	}
	s.wuident = newBlob("wuident.cab", ident.Bytes())
	s.version = newBlob("wusserverversion.xml", []byte(xml.Header+`<ServerVersion><Version>`+serverVersion+
		`</Version><ProtocolVersion>`+protocolVersion+`</ProtocolVersion></ServerVersion>`+"\r\n"))
	return nil
}

// externalize packs the child's Extended fragment into a metadata cab
// (one file, <UpdateID>.xml, holding the fragment under an
// <UpdateMetadata> root) and gives the child the short fragment that
// points to it by digest: <ExternalMetadata Digest DigestAlgorithm
// FileName Size/>. The element and the file's layout are this
// emulator's: the real ECP cab format is not in our references; what is
// documented is that WUA downloads metadata cabs over HTTP and checks
// their digest ([AC]).
func (s *Server) externalize(u Update, child *revision) error {
	name := u.BundledID + ".xml"
	doc := `<?xml version="1.0" encoding="utf-8"?>` + "\r\n" + `<UpdateMetadata UpdateID="` + u.BundledID + `" RevisionNumber="` +
		strconv.Itoa(u.Revision) + `">` + child.extended + `</UpdateMetadata>` + "\r\n"
	var cab bytes.Buffer
	if err := WriteCAB(&cab, []CABFile{{Name: name, Data: []byte(doc), ModTime: catalogTime}}); err != nil {
		return err
	}
	sum := sha1.Sum(cab.Bytes()) //nolint:gosec // the protocol's digest
	key := contentKey(sum)
	s.metadata[key] = newBlob(key+".cab", cab.Bytes())
	child.metadata = key
	child.ecp = fmt.Sprintf(`<ExtendedProperties DefaultPropertiesLanguage="en" Handler="http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/CommandLineInstallation" />`+
		`<ExternalMetadata Digest="%s" DigestAlgorithm="SHA1" FileName="%s" Size="%d" />`,
		base64.StdEncoding.EncodeToString(sum[:]), name, cab.Len())
	return nil
}

func fillRand(r *rand.Rand, p []byte) {
	for i := range p {
		p[i] = byte(r.Uint32())
	}
}

// guid returns a random (version 4) GUID in .NET's lowercase "D" format.
func guid(r *rand.Rand) string {
	var b [16]byte
	fillRand(r, b[:])
	return formatGUID(b)
}

func formatGUID(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// contentKey is the uppercase hex SHA-1 that names a content file.
func contentKey(sum [sha1.Size]byte) string { return strings.ToUpper(hex.EncodeToString(sum[:])) }

// lookupContent finds /Content/XX/<SHA-1>.<ext> under any prefix, case-insensitive,
// XX being the digest's last byte ([MS-WUSP] content directory; observed paths in
// reference wu-codes.md 6.1).
// Under Microsoft Update's content paths (/…/msdownload/update/software/…/
// and /filestreamingservice/files/) the file is <SHA-1>.cab alone.
func (s *Server) lookupContent(p string) (*blob, bool) {
	segs := strings.Split(p, "/")
	if lp := strings.ToLower(p); strings.Contains(lp, "/msdownload/update/software/") || strings.HasPrefix(lp, "/filestreamingservice/files/") {
		file := segs[len(segs)-1]
		if len(file) != 44 || !strings.EqualFold(file[40:], ".cab") {
			return nil, false
		}
		key := strings.ToUpper(file[:40])
		if b, ok := s.metadata[key]; ok {
			return b, true
		}
		b, ok := s.content[key]
		return b, ok
	}
	if len(segs) < 4 || !strings.EqualFold(segs[len(segs)-3], "content") {
		return nil, false
	}
	dir, file := strings.ToUpper(segs[len(segs)-2]), segs[len(segs)-1]
	dot := strings.IndexByte(file, '.')
	if dot != 40 {
		return nil, false
	}
	key := strings.ToUpper(file[:dot])
	if !strings.EqualFold(file[dot:], ".cab") || dir != key[38:] {
		return nil, false
	}
	b, ok := s.content[key]
	return b, ok
}

// baseURL is the scheme://host written into file URLs: the configured one, else
// the request's own (so the client downloads from the name it called).
func (s *Server) baseURL(r *http.Request) string {
	if s.opts.ContentBaseURL != "" {
		return s.opts.ContentBaseURL
	}
	scheme, host := "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if r.URL.IsAbs() && (r.URL.Scheme == "http" || r.URL.Scheme == "https") {
		scheme, host = r.URL.Scheme, r.URL.Host
	}
	if !validHost(host) {
		host = "127.0.0.1"
		if a, ok := r.Context().Value(http.LocalAddrContextKey).(net.Addr); ok && validHost(a.String()) {
			host = a.String()
		}
	}
	return scheme + "://" + host
}

// validHost accepts host[:port] made of the characters a DNS name, an IPv4 or a
// bracketed IPv6 literal use; anything else is not written into a URL.
func validHost(h string) bool {
	if h == "" || len(h) > 262 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '.', c == '-', c == ':', c == '[', c == ']', c == '_':
		default:
			return false
		}
	}
	return true
}

func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("content base url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return fmt.Errorf("content base url: want scheme://host[:port], got %q", raw)
	}
	return nil
}

// serveStatic serves a file the way IIS's static handler does, with
// http.ServeContent semantics: Range and 206, If-Range, HEAD, 416.
func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request, name, ctype string, data []byte) {
	s.serveBlob(w, r, newBlob(name, data), ctype)
}

func (s *Server) serveBlob(w http.ResponseWriter, r *http.Request, b *blob, ctype string) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "405 - HTTP verb used to access this page is not allowed.", http.StatusMethodNotAllowed)
		return
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("ETag", b.etag)
	h.Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, b.name, catalogTime, bytes.NewReader(b.data))
}

// wuidentTxt is the INI-like identity inside wuident.cab. Fake but well-formed:
// the real file's content is not documented in our references, and no client
// self-update is offered. Real clients check the cabinet's Authenticode
// signature, which this one lacks.
func (s *Server) wuidentTxt() []byte {
	var b strings.Builder
	b.WriteString("; wuident.txt written by the wufault Windows Update emulator (fake identity)\r\n")
	fmt.Fprintf(&b, "[WUIdent]\r\nServerID={%s}\r\nServerVersion=%s\r\nProtocolVersion=%s\r\n", formatGUID(s.ident.id), serverVersion, protocolVersion)
	for _, arch := range []string{"x86", "amd64", "arm64"} {
		fmt.Fprintf(&b, "\r\n[%s]\r\nClientVersion=7.6.7600.320\r\nSelfUpdate=0\r\n", arch)
	}
	return []byte(b.String())
}

// wuredirXML is the redirector document inside wuredir.cab: the server's own
// service URLs under base. The element names are this emulator's (the real
// schema is not in our references); the document is well-formed XML.
type wuredirXML struct {
	XMLName xml.Name `xml:"wuredir"`
	// RedirectorID is the document's redirectorId: a client that recovers
	// by downloading the cab again expects a new one ([WUERR]
	// WU_E_PT_SAME_REDIR_ID).
	RedirectorID int     `xml:"redirectorId,attr,omitempty"`
	Client       urlAttr `xml:"ClientServer"`
	SimpleAuth   urlAttr `xml:"SimpleAuthServer"`
	Reporting    urlAttr `xml:"ReportingServer"`
	SelfUpdate   urlAttr `xml:"SelfUpdate"`
	Content      urlAttr `xml:"ContentServer"`
}

type urlAttr struct {
	URL string `xml:"URL,attr"`
}

// wuredirFor is the redirector cab for the client that sent r: Microsoft
// Update's role hosts (fe2 for the v6 services, www.update.microsoft.com
// for self-update, download.windowsupdate.com for content) when it called a
// Microsoft name, else the server's own URLs under the name it called.
func (s *Server) wuredirFor(r *http.Request) []byte {
	if s.opts.ContentBaseURL != "" || !MicrosoftHost(requestHost(r)) {
		return s.wuredirCAB(s.baseURL(r))
	}
	fe2 := "https://" + HostFE2 + "/v6"
	return s.cabOf(wuredirXML{
		RedirectorID: RedirectorID,
		Client:       urlAttr{fe2 + "/ClientWebService/client.asmx"},
		SimpleAuth:   urlAttr{fe2 + "/SimpleAuthWebService/SimpleAuth.asmx"},
		Reporting:    urlAttr{fe2 + "/ReportingWebService/ReportingWebService.asmx"},
		SelfUpdate:   urlAttr{"https://" + HostSelfUpdate + "/v11/3/legacy/windowsupdate/selfupdate"},
		Content:      urlAttr{"http://" + HostDownload},
	})
}

// wuredirCAB builds wuredir.cab for one base URL; the output depends only on the
// base URL.
func (s *Server) wuredirCAB(base string) []byte {
	return s.cabOf(wuredirXML{
		Client:     urlAttr{base + "/ClientWebService/client.asmx"},
		SimpleAuth: urlAttr{base + "/SimpleAuthWebService/SimpleAuth.asmx"},
		Reporting:  urlAttr{base + "/ReportingWebService/ReportingWebService.asmx"},
		SelfUpdate: urlAttr{base + "/selfupdate"},
		Content:    urlAttr{base + "/Content"},
	})
}

// cabOf packs a redirector document into wuredir.cab.
func (s *Server) cabOf(doc wuredirXML) []byte {
	body, err := xml.MarshalIndent(doc, "", "  ")
	if err != nil {
		panic(fmt.Sprintf("wsus: marshal wuredir.xml: %v", err)) // static types: cannot fail
	}
	var cab bytes.Buffer
	data := append([]byte(xml.Header), body...)
	if err := WriteCAB(&cab, []CABFile{{Name: "wuredir.xml", Data: append(data, '\r', '\n'), ModTime: catalogTime}}); err != nil {
		panic(fmt.Sprintf("wsus: wuredir.cab: %v", err)) // one small file: cannot fail
	}
	return cab.Bytes()
}

// The XML fragments follow GoSecure/pywsus's sync-updates.xml and
// get-extended-update-info.xml, which real clients accept: the installable
// update bundles a child carrying the files and applicability rules
// ([MS-WUSP] 3.1.1: Core, Extended and LocalizedProperties fragments).

func coreFragments(u Update) (parent, child string) {
	parent = fmt.Sprintf(`<UpdateIdentity UpdateID="%s" RevisionNumber="%d" /><Properties UpdateType="Software" ExplicitlyDeployable="true" AutoSelectOnWebSites="true" />`+
		`<Relationships><BundledUpdates><UpdateIdentity UpdateID="%s" RevisionNumber="%d" /></BundledUpdates></Relationships>`,
		u.ID, u.Revision, u.BundledID, u.Revision)
	child = fmt.Sprintf(`<UpdateIdentity UpdateID="%s" RevisionNumber="%d" /><Properties UpdateType="Software" /><Relationships></Relationships>`+
		`<ApplicabilityRules><IsInstalled><False /></IsInstalled><IsInstallable><True /></IsInstallable></ApplicabilityRules>`,
		u.BundledID, u.Revision)
	return parent, child
}

func extendedFragments(u Update) (parent, child string) {
	parent = fmt.Sprintf(`<ExtendedProperties DefaultPropertiesLanguage="en" MsrcSeverity="Important" IsBeta="false">`+
		`<SupportUrl>https://wufault.example.invalid/</SupportUrl><KBArticleID>%s</KBArticleID></ExtendedProperties>`, u.KB)
	var size int64
	var files strings.Builder
	for _, f := range u.Files {
		size += f.Size
		fmt.Fprintf(&files, `<File Digest="%s" DigestAlgorithm="SHA1" FileName="%s" Size="%d" Modified="%s">`+
			`<AdditionalDigest Algorithm="SHA256">%s</AdditionalDigest></File>`,
			f.Digest(), xmlEscape(f.Name), f.Size, catalogTime.Format("2006-01-02T15:04:05"),
			base64.StdEncoding.EncodeToString(f.SHA256[:]))
	}
	program := ""
	if len(u.Files) > 0 {
		program = xmlEscape(u.Files[0].Name)
	}
	child = fmt.Sprintf(`<ExtendedProperties DefaultPropertiesLanguage="en" Handler="http://schemas.microsoft.com/msus/2002/12/UpdateHandlers/CommandLineInstallation" MaxDownloadSize="%d" MinDownloadSize="%d">`+
		`<InstallationBehavior RebootBehavior="NeverReboots" /></ExtendedProperties><Files>%s</Files>`+
		`<HandlerSpecificData type="cmd:CommandLineInstallation"><InstallCommand Arguments="" Program="%s" RebootByDefault="false" DefaultResult="Failed">`+
		`<ReturnCode Reboot="false" Result="Failed" Code="0" /></InstallCommand></HandlerSpecificData>`,
		size, size, files.String(), program)
	return parent, child
}

func localizedFragments(u Update) (parent, child string) {
	parent = `<LocalizedProperties><Language>en</Language><Title>` + xmlEscape(u.Title) + `</Title>` +
		`<Description>A fake update served by the wufault Windows Update emulator. It installs nothing.</Description>` +
		`<MoreInfoUrl>https://wufault.example.invalid/</MoreInfoUrl></LocalizedProperties>`
	child = `<LocalizedProperties><Language>en</Language><Title>` + xmlEscape(u.Title) + ` (payload)</Title></LocalizedProperties>`
	return parent, child
}

func xmlEscape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
