package simulate

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/scenarios"
)

// The control API: HTTP and JSON on its own port. GET / lists it and
// GET /openapi.json describes it (api/openapi.json, also docs/openapi.json):
//
//	GET    /healthz          {"status":"ok", "scenario", "addrs", "uptime_s"}
//	GET    /scenario         the active scenario and its rules with hits
//	PUT    /scenario         activate the scenario in the body (YAML or JSON, the scenario file format);
//	                         ?name=<catalog name> with no body activates a catalog scenario
//	DELETE /scenario         deactivate every fault
//	GET    /faults           the active rules with their hits
//	GET    /journal          events as a JSON array; ?since=SEQ&limit=N&event=KIND&conn=ID&req=ID&fault=KIND
//	GET    /journal/stream   events as JSON lines, from ?since=SEQ (default: only new ones), until the client leaves
//	GET    /metrics          Prometheus metrics of this world
//	POST   /reports          observations of real clients (control_report.go)
//
// Activating a scenario never drops connections: requests and tunnels in
// flight keep the rules they were armed with. When a token is configured
// (required off loopback) every request needs "Authorization: Bearer
// <token>"; clients outside loopback and --allow-cidr are refused.
type controlService struct {
	w     *World
	ln    net.Listener
	srv   *http.Server
	start time.Time
	// routes are the patterns served, for the test that holds them to
	// the OpenAPI document.
	routes []string

	gate // handlers, streams included
}

// controlMaxHeaderBytes bounds a request head (larger: 431).
const controlMaxHeaderBytes = 64 << 10

// maxScenarioBody bounds a PUT /scenario body.
const maxScenarioBody = scenarios.MaxSize

// startControl opens the control API listener and serves it.
func (w *World) startControl(addr string) (service, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &controlService{w: w, ln: ln, start: time.Now()}
	mux := http.NewServeMux()
	route := func(pattern string, h http.Handler) {
		c.routes = append(c.routes, pattern)
		mux.Handle(pattern, c.instrument(pattern, h))
	}
	route("GET /{$}", http.HandlerFunc(c.index)) // control_doc.go
	route("GET /openapi.json", http.HandlerFunc(c.openAPIDoc))
	route("GET /healthz", http.HandlerFunc(c.health))
	route("GET /scenario", http.HandlerFunc(c.getScenario))
	route("PUT /scenario", http.HandlerFunc(c.putScenario))
	route("POST /scenario", http.HandlerFunc(c.putScenario))
	route("DELETE /scenario", http.HandlerFunc(c.deleteScenario))
	route("GET /faults", http.HandlerFunc(c.getFaults))
	route("GET /journal", http.HandlerFunc(c.getJournal))
	route("GET /journal/stream", http.HandlerFunc(c.streamJournal))
	route("POST /reports", http.HandlerFunc(c.postReports)) // control_report.go
	route("GET /clients", http.HandlerFunc(c.getClients))   // control_clients.go
	route("PUT /clients/{cidr}/scenario", http.HandlerFunc(c.putClient))
	route("DELETE /clients/{cidr}", http.HandlerFunc(c.deleteClient))
	route("DELETE /clients/{cidr}/scenario", http.HandlerFunc(c.deleteClient))
	route("GET /console", http.HandlerFunc(c.console)) // control_console.go
	route("GET /console/{file}", http.HandlerFunc(c.consoleFile))
	route("GET /events", http.HandlerFunc(c.events))
	route("GET /catalog", http.HandlerFunc(c.catalog))
	route("GET /ca", http.HandlerFunc(c.caInfo))
	route("GET /ca.cer", http.HandlerFunc(c.caFile))
	route("GET /metrics", promhttp.HandlerFor(w.metrics.reg, promhttp.HandlerOpts{ErrorLog: slogPrintln{w.log}}))
	c.srv = &http.Server{
		Handler:           c.guard(mux),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    controlMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(w.log.With("service", "control").Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return w.ctx },
	}
	go func() { _ = c.srv.Serve(ln) }()
	return c, nil
}

// Addr is the control API's address.
func (c *controlService) Addr() string { return c.ln.Addr().String() }

// Close stops the API and waits for its handlers (streams included).
func (c *controlService) Close() error {
	c.shut()
	err := c.srv.Close()
	c.wait()
	if errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// guard admits allowed clients with the right token.
func (c *controlService) guard(next http.Handler) http.Handler {
	token := c.w.opts.ControlToken
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if !c.enter() {
			http.Error(rw, "shutting down", http.StatusServiceUnavailable)
			return
		}
		defer c.leave()
		if b := boundBody(rw, r, c.w.opts.BodyTimeout); b != nil {
			defer func() {
				if b.err != nil {
					c.w.metrics.clientErr.WithLabelValues("control").Inc()
					closeAfter(rw)
				}
			}()
		}
		if ra, err := net.ResolveTCPAddr("tcp", r.RemoteAddr); err != nil || !c.w.clientAllowed(ra) {
			writeJSON(rw, http.StatusForbidden, apiError{Error: "client not allowed"})
			return
		}
		// The console's script and style are public, static files (the
		// page that loads them, and everything it reads, need the token).
		static := r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/console/")
		if token != "" && !static {
			got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
			if q := r.URL.Query().Get("access_token"); !ok && q != "" && r.Method == http.MethodGet {
				got, ok = q, true // a browser's link or EventSource (control_console.go)
			}
			if !ok || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
				rw.Header().Set("WWW-Authenticate", `Bearer realm="wufault"`)
				writeJSON(rw, http.StatusUnauthorized, apiError{Error: "missing or wrong bearer token"})
				return
			}
		}
		next.ServeHTTP(rw, r)
	})
}

// instrument counts requests per route and status.
func (c *controlService) instrument(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: rw, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		c.w.metrics.controlReq.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (s *statusWriter) WriteHeader(code int)        { s.status = code; s.ResponseWriter.WriteHeader(code) }
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// apiError is every error answer.
type apiError struct {
	Error    string   `json:"error"`
	Problems []string `json:"problems,omitempty"`
}

func writeJSON(rw http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode answer"}`)
	}
	rw.Header().Set("Content-Type", "application/json")
	rw.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	rw.WriteHeader(status)
	_, _ = rw.Write(append(b, '\n'))
}

func (c *controlService) health(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, map[string]any{
		"status": "ok", "scenario": c.w.Default().Name, "addrs": c.w.Addrs(),
		"uptime_s": int64(time.Since(c.start).Seconds()), "journal_dropped": c.w.journal.Dropped(),
	})
}

// RuleView is a rule as the control API shows it.
type RuleView struct {
	Index int            `json:"index"`
	Kind  string         `json:"kind"`
	Match faults.Match   `json:"match,omitzero"`
	When  faults.When    `json:"when,omitzero"`
	Param faults.Fault   `json:"params"`
	Hits  faults.Hits    `json:"hits"`
	Phase *profile.Phase `json:"phase,omitempty"`
}

// ScenarioView is the active scenario as the control API shows it.
type ScenarioView struct {
	Name   string     `json:"name"`
	Seed   int64      `json:"seed"`
	Since  time.Time  `json:"since"`
	Faults []RuleView `json:"faults"`
}

func viewOf(a *Active) ScenarioView {
	v := ScenarioView{Name: a.Name, Seed: a.Seed, Since: a.Since, Faults: []RuleView{}}
	for _, r := range a.Set.Rules() {
		rv := RuleView{Index: r.Index, Kind: r.Kind, Match: r.Match, When: r.When, Param: r.Fault, Hits: r.Hits()}
		if pb, ok := r.Fault.(faults.PhaseBinder); ok {
			p, _ := pb.BoundPhase()
			rv.Phase = &p
		}
		v.Faults = append(v.Faults, rv)
	}
	return v
}

func (c *controlService) getScenario(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, c.w.Default())
}

func (c *controlService) getFaults(rw http.ResponseWriter, r *http.Request) {
	writeJSON(rw, http.StatusOK, c.w.Default().Faults)
}

// putScenario activates the scenario in the body, decoded by the strict
// scenario loader (YAML, or JSON which YAML reads too).
func (c *controlService) putScenario(rw http.ResponseWriter, r *http.Request) {
	sc, ok := requestScenario(rw, r, http.StatusNotFound)
	if !ok {
		return
	}
	c.w.Activate(sc.Name, sc.Seed, sc.Faults)
	c.w.log.Info("scenario activated", "service", "control", "scenario", sc.Name, "faults", len(sc.Faults))
	writeJSON(rw, http.StatusOK, c.w.Default())
}

// requestScenario reads the scenario a request names: ?name= a catalog
// scenario (no body), or the scenario file in the body. It answers the
// problem itself (unknown: a name not in the catalog) and returns false
// when there is one.
func requestScenario(rw http.ResponseWriter, r *http.Request, unknown int) (*scenarios.Scenario, bool) {
	b, err := io.ReadAll(http.MaxBytesReader(rw, r.Body, maxScenarioBody))
	if err != nil {
		writeJSON(rw, http.StatusRequestEntityTooLarge, apiError{Error: "scenario body: " + err.Error()})
		return nil, false
	}
	name := r.URL.Query().Get("name")
	if len(bytes.TrimSpace(b)) == 0 && name != "" {
		sc, err := catalogScenario(name)
		if err != nil {
			writeJSON(rw, unknown, apiError{Error: err.Error()})
			return nil, false
		}
		return sc, true
	}
	sc, err := scenarios.Load(bytes.NewReader(b), "request body")
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{Error: "invalid scenario", Problems: problems(err)})
		return nil, false
	}
	return sc, true
}

func catalogScenario(name string) (*scenarios.Scenario, error) {
	all, err := scenarios.Catalog()
	if err != nil {
		return nil, err
	}
	for _, s := range all {
		if s.Name == name {
			return s, nil
		}
	}
	return nil, errors.New("no catalog scenario named " + strconv.Quote(name))
}

// problems lists a load error's problems one per line.
func problems(err error) []string {
	var out []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

func (c *controlService) deleteScenario(rw http.ResponseWriter, r *http.Request) {
	c.w.Activate("", 0, nil)
	c.w.journal.Add(Event{Kind: EventScenario, Detail: "deactivated: no faults"})
	writeJSON(rw, http.StatusOK, c.w.Default())
}

// journalFilter reads ?event, ?conn, ?req and ?fault.
func journalFilter(r *http.Request) (since uint64, keep func(Event) bool, err error) {
	q := r.URL.Query()
	num := func(k string) (uint64, error) {
		if s := q.Get(k); s != "" {
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return 0, errors.New(k + ": want a non-negative integer")
			}
			return n, nil
		}
		return 0, nil
	}
	if since, err = num("since"); err != nil {
		return 0, nil, err
	}
	conn, err := num("conn")
	if err != nil {
		return 0, nil, err
	}
	req, err := num("req")
	if err != nil {
		return 0, nil, err
	}
	kind, fault := q.Get("event"), q.Get("fault")
	if kind != "" && !slices.Contains(EventKinds, kind) {
		return 0, nil, errors.New("event: unknown kind " + strconv.Quote(kind) + "; want one of " + strings.Join(EventKinds, ", "))
	}
	if _, known := faults.Lookup(fault); fault != "" && !known {
		return 0, nil, errors.New("fault: unknown kind " + strconv.Quote(fault) + "; wufault faults list names them")
	}
	keep = func(e Event) bool {
		return (kind == "" || e.Kind == kind) && (fault == "" || e.Fault == fault) &&
			(conn == 0 || e.Conn == conn) && (req == 0 || e.Req == req)
	}
	return since, keep, nil
}

func (c *controlService) getJournal(rw http.ResponseWriter, r *http.Request) {
	since, keep, err := journalFilter(r)
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	limit := 10000
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			writeJSON(rw, http.StatusBadRequest, apiError{Error: "limit: want a positive integer"})
			return
		}
		limit = n
	}
	evs := c.w.journal.Events(since, keep)
	if len(evs) > limit {
		evs = evs[:limit]
	}
	if evs == nil {
		evs = []Event{}
	}
	writeJSON(rw, http.StatusOK, evs)
}

// streamJournal writes events as JSON lines: the kept ones after ?since
// (when given), then new ones as they happen. Events a slow reader missed
// are filled in from the ring when it still holds them.
func (c *controlService) streamJournal(rw http.ResponseWriter, r *http.Request) {
	since, keep, err := journalFilter(r)
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(c.w.ctx, cancel)
	defer stop()
	j := c.w.journal
	rc := http.NewResponseController(rw)
	rw.Header().Set("Content-Type", "application/x-ndjson")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusOK)
	enc := json.NewEncoder(rw)
	if r.URL.Query().Get("since") == "" {
		since = j.lastSeq()
	}
	_ = j.follow(ctx, since, keep, func(e Event) error { return enc.Encode(e) }, rc.Flush, rc.Flush)
}

// slogPrintln adapts slog to promhttp's logger.
type slogPrintln struct{ l *slog.Logger }

func (s slogPrintln) Println(v ...any) {
	s.l.Warn(fmt.Sprint(v...), "service", "control")
}
