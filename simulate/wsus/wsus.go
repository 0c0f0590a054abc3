package wsus

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Defaults and limits of Options.
const (
	DefaultUpdates     = 2
	DefaultPageSize    = 1
	DefaultContentSize = 64 << 10

	// MaxRequestBytes caps a SOAP request body; a larger one gets 413.
	MaxRequestBytes = 4 << 20

	maxUpdates      = 1000
	maxContentSize  = 64 << 20
	maxContentTotal = 256 << 20
	maxReports      = 10000 // Reports keeps the newest this many
	maxComputers    = 10000 // registrations remembered; the set starts over when full
)

// Options configure a Server. The zero value is usable: two updates, one update
// per SyncUpdates page, 64 KiB payloads, seed 0. An empty catalog is
// Options{Updates: new(0)}.
type Options struct {
	// Updates is the number of fake updates in the catalog. Nil means
	// DefaultUpdates (2); zero is allowed and gives an empty catalog.
	Updates *int
	// PageSize is the number of updates per SyncUpdates page; 0 means
	// DefaultPageSize (1), so that paging (Truncated) is always exercised.
	PageSize int
	// ContentSize is the size in bytes of the payload inside each update's
	// content cabinet; 0 means DefaultContentSize (64 KiB). The cabinet itself is
	// this plus its headers (under 100 bytes plus 8 per 32 KiB).
	ContentSize int
	// Seed makes update ids, content bytes, cookies' keys and fault ids
	// deterministic: two servers with the same Options serve the same bytes.
	Seed int64
	// ContentBaseURL is the scheme://host[:port] written into file URLs
	// (FileLocations, wuredir.xml). Empty: the scheme and Host of each request, so
	// the client downloads from the name it used for the SOAP call.
	ContentBaseURL string
	// ContentPort, if set, gives the port written into Microsoft Update
	// content URLs (download.windowsupdate.com, *.dl.delivery.mp.microsoft.com)
	// when it is not 80: the lab's own HTTP port, so that a client reaching
	// the content host without the proxy finds the emulator there.
	ContentPort func() int
	// Registration sets GetConfig's IsRegistrationRequired: the client must then
	// call RegisterComputer before SyncUpdates, or gets a RegistrationRequired fault.
	Registration bool
	// EndlessPaging makes every software SyncUpdates answer Truncated, with a
	// non-empty page whenever the catalog has updates; WUA gives up after 200
	// round trips with 0x80244010 [SUS-4010]. Scenarios reach the same
	// condition with the http.endless_paging fault, which rewrites the
	// answers of any upstream.
	EndlessPaging bool
	// Logger receives debug records per call and warnings for recovered panics.
	// Nil discards.
	Logger *slog.Logger
	// OnCall, if set, is called after each SOAP call is answered. It runs on the
	// request's goroutine and must be safe for concurrent use.
	OnCall func(Call)
	// OnReport, if set, is called for each event of a ReportEventBatch. It runs on
	// the request's goroutine and must be safe for concurrent use.
	OnReport func(Report)
	// Now is the clock for cookies and timestamps. Nil means time.Now.
	Now func() time.Time
}

// A Call is one SOAP call as answered, for the world's journal.
type Call struct {
	Time    time.Time // when the request arrived
	Remote  string    // the request's RemoteAddr
	Host    string    // the request's Host
	Path    string    // the request's URL path
	Service string    // "client", "simpleauth" or "reporting"
	Action  string    // the SOAP action as sent (unquoted); may be empty
	Method  string    // the method dispatched ("SyncUpdates"); empty when not recognised
	SOAP    string    // "1.1" or "1.2"
	Status  int       // HTTP status sent
	// Fault is the faultcode of a SOAP fault sent ("soap:Client", "soap:Server",
	// "s:Sender", "s:Receiver"); empty when the answer was not a fault.
	Fault string
	// ErrorCode is the WSUS ErrorCode in the fault's detail (InvalidCookie,
	// ConfigChanged…); empty for a success or a fault without WSUS detail.
	ErrorCode ErrorCode
	Computer  string // client id from the cookie, when known
	// Updates and Truncated describe a SyncUpdates answer: updates sent, and
	// whether the client was told to ask again.
	Updates   int
	Truncated bool
	Duration  time.Duration
}

// A Server is the Windows Update upstream emulator: an http.Handler serving the
// WSUS client, SimpleAuth and reporting web services, self-update and redirector
// cabinets, and update content. It does not care about the Host header. Its
// methods are safe for concurrent use.
type Server struct {
	opts    Options
	log     *slog.Logger
	now     func() time.Time
	catalog []Update
	byRev   map[int]*revision
	content map[string]*blob // key: uppercase hex SHA-1
	// contentIdx is each content file's update index, for the content
	// host a Microsoft Update client is sent to.
	contentIdx map[string]int
	// metadata holds the metadata (ECP) cabs, keyed like content.
	metadata map[string]*blob
	wuident  *blob
	version  *blob // wusserverversion.xml
	ident    serverIdentity

	faults atomic.Uint64 // fault ID counter

	mu         sync.Mutex
	reports    []Report
	registered map[string]bool // client ids that called RegisterComputer
}

// New builds the catalog, its content cabinets and the identity files. It opens
// no socket: serve the Server with the caller's listeners.
func New(o Options) (*Server, error) {
	n := DefaultUpdates
	if o.Updates != nil {
		n = *o.Updates
	}
	var errs []error
	if n < 0 || n > maxUpdates {
		errs = append(errs, fmt.Errorf("updates: must be in 0..%d, got %d", maxUpdates, n))
	}
	if o.PageSize < 0 {
		errs = append(errs, fmt.Errorf("page size: must be >= 0, got %d", o.PageSize))
	}
	if o.ContentSize < 0 || o.ContentSize > maxContentSize {
		errs = append(errs, fmt.Errorf("content size: must be in 0..%d, got %d", maxContentSize, o.ContentSize))
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.ContentSize == 0 {
		o.ContentSize = DefaultContentSize
	}
	if n > 0 && o.ContentSize > maxContentTotal/n {
		errs = append(errs, fmt.Errorf("content: %d updates of %d bytes exceed %d bytes", n, o.ContentSize, maxContentTotal))
	}
	if o.ContentBaseURL != "" {
		if err := checkBaseURL(o.ContentBaseURL); err != nil {
			errs = append(errs, err)
		}
		o.ContentBaseURL = strings.TrimSuffix(o.ContentBaseURL, "/")
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("wsus: options: %w", err)
	}
	s := &Server{
		opts:       o,
		log:        o.Logger,
		now:        o.Now,
		registered: map[string]bool{},
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if err := s.build(n); err != nil {
		return nil, fmt.Errorf("wsus: %w", err)
	}
	return s, nil
}

// Catalog returns a copy of the fake updates the server offers, in SyncUpdates
// order.
func (s *Server) Catalog() []Update {
	out := make([]Update, len(s.catalog))
	for i, u := range s.catalog {
		u.Files = append([]File(nil), u.Files...)
		out[i] = u
	}
	return out
}

// Reports returns a copy of the events clients reported with ReportEventBatch,
// oldest first (at most the newest 10000).
func (s *Server) Reports() []Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Report, len(s.reports))
	for i, r := range s.reports {
		r.ReplacementStrings = append([]string(nil), r.ReplacementStrings...)
		r.MiscData = append([]string(nil), r.MiscData...)
		out[i] = r
	}
	return out
}

// Route suffixes, lowercase: IIS paths are case-insensitive, and Microsoft hosts
// put the same services under prefixes such as /v6/ ([MS-WUSP] 2.1; reference
// wu-codes.md 6.1, 6.2).
const (
	routeClient        = "/clientwebservice/client.asmx"
	routeClientSecured = "/clientwebservice/client.asmx/secured"
	routeSimpleAuth    = "/simpleauthwebservice/simpleauth.asmx"
	routeReporting     = "/reportingwebservice/reportingwebservice.asmx"
	routeVersion       = "/clientwebservice/wusserverversion.xml"
	routeWuident       = "/selfupdate/wuident.cab"
	routeWuredir       = "/wuredir.cab"
	routeSLS           = "/sls/"
)

// ServeHTTP routes on the path alone (never on Host): the SOAP services, the
// cabinets, the version file and /Content. Unknown paths get an IIS-like 404.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rw := &statusWriter{ResponseWriter: w}
	defer s.recoverPanic(rw, r)
	iisHeaders(rw.Header())
	p := r.URL.Path
	if p == "" {
		p = "/"
	}
	p = path.Clean(p)
	lp := strings.ToLower(p)
	switch {
	case strings.HasSuffix(lp, routeClient), strings.HasSuffix(lp, routeClientSecured):
		s.serveSOAP(rw, r, clientService)
	case strings.HasSuffix(lp, routeSimpleAuth):
		s.serveSOAP(rw, r, simpleAuthService)
	case strings.HasSuffix(lp, routeReporting):
		s.serveSOAP(rw, r, reportingService)
	case strings.HasSuffix(lp, routeVersion):
		s.serveBlob(rw, r, s.version, "text/xml")
	case strings.HasSuffix(lp, routeWuident):
		s.serveBlob(rw, r, s.wuident, cabType)
	case strings.HasSuffix(lp, routeWuredir):
		s.serveStatic(rw, r, "wuredir.cab", cabType, s.wuredirFor(r))
	case strings.HasPrefix(lp, routeSLS):
		s.serveSLS(rw, r)
	default:
		if b, ok := s.lookupContent(p); ok {
			s.serveBlob(rw, r, b, cabType)
			return
		}
		notFound(rw)
	}
}

// iisHeaders sets the headers IIS and ASP.NET add (GoSecure/pywsus imitates the
// same set; reference wu-codes.md 6.3).
func iisHeaders(h http.Header) {
	h.Set("Server", "Microsoft-IIS/10.0")
	h.Set("X-Powered-By", "ASP.NET")
}

func aspNetHeaders(h http.Header) {
	h.Set("Cache-Control", "private")
	h.Set("X-AspNet-Version", "4.0.30319")
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusNotFound)
	_, _ = w.Write([]byte(`<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">` +
		"\r\n<HTML><HEAD><TITLE>Not Found</TITLE>\r\n" +
		`<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>` +
		"\r\n<BODY><h2>Not Found</h2>\r\n<hr><p>HTTP Error 404. The requested resource is not found.</p>\r\n</BODY></HTML>\r\n"))
}

// recoverPanic turns a handler panic into an InternalServerError fault (or a bare
// 500 once the response has started), so a bad request never takes the world down.
func (s *Server) recoverPanic(w *statusWriter, r *http.Request) {
	v := recover()
	if v == nil {
		return
	}
	if v == http.ErrAbortHandler {
		panic(v)
	}
	s.log.Warn("wsus: recovered panic", "panic", fmt.Sprint(v), "path", r.URL.Path, "stack", string(debug.Stack()))
	if w.status != 0 {
		return
	}
	s.writeFault(w, soap11, *wsusFault(InternalServerError, "internal error"), "", "")
}

// statusWriter records the status written, for Call and for recoverPanic.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
