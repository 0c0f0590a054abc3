package simulate

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/wufault/wufault/scenarios"
)

// The live console and what it reads (besides /clients and /journal):
//
//	GET /console           the page (embedded: works offline)
//	GET /console/{file}    its script and style
//	GET /events            journal events as server-sent events (?event=fault,scenario,… ?since=SEQ)
//	GET /catalog           the catalog scenarios: name, summary, expected code
//	GET /ca                the lab CA: subject, thumbprint, PEM
//	GET /ca.cer            the lab CA certificate as a file (certutil -addstore Root)
//
// A browser cannot put a bearer token on a link or an EventSource, so GET
// requests may carry it as ?access_token= (RFC 6750 section 2.3) instead.
// The console's own script and style need no token: they are static and
// hold nothing of the lab.

// consoleFiles returns the console's assets.
func consoleFiles() fs.FS {
	sub, err := fs.Sub(apiFiles, "api/console")
	if err != nil {
		panic("simulate: embedded console: " + err.Error())
	}
	return sub
}

func (c *controlService) console(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Cache-Control", "no-store")
	http.ServeFileFS(rw, r, consoleFiles(), "index.html")
}

func (c *controlService) consoleFile(rw http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	if name == "index.html" || strings.Contains(name, "/") {
		http.NotFound(rw, r)
		return
	}
	http.ServeFileFS(rw, r, consoleFiles(), name)
}

// CatalogEntry is one catalog scenario as GET /catalog lists it.
type CatalogEntry struct {
	Name    string   `json:"name"`
	Summary string   `json:"summary"`
	Codes   []string `json:"codes"`
	Expect  string   `json:"expect,omitempty"` // the predicted final code
	Class   string   `json:"class,omitempty"`
}

func (c *controlService) catalog(rw http.ResponseWriter, r *http.Request) {
	all, err := scenarios.Catalog()
	if err != nil {
		writeJSON(rw, http.StatusInternalServerError, apiError{Error: err.Error()})
		return
	}
	out := make([]CatalogEntry, 0, len(all))
	for _, s := range all {
		e := CatalogEntry{Name: s.Name, Summary: s.Summary, Codes: []string{}}
		for _, cd := range s.Codes {
			e.Codes = append(e.Codes, cd.Hex())
		}
		if s.Expect != nil {
			e.Expect, e.Class = s.Expect.Code.Hex(), string(s.Expect.Class)
		}
		out = append(out, e)
	}
	writeJSON(rw, http.StatusOK, out)
}

// CAInfo is GET /ca.
type CAInfo struct {
	Subject    string    `json:"subject"`
	Thumbprint string    `json:"thumbprint"`
	NotAfter   time.Time `json:"not_after"`
	PEM        string    `json:"pem"`
}

func (c *controlService) caInfo(rw http.ResponseWriter, r *http.Request) {
	ca, err := c.w.LabCA()
	if err != nil {
		writeJSON(rw, http.StatusServiceUnavailable, apiError{Error: "lab CA: " + err.Error()})
		return
	}
	writeJSON(rw, http.StatusOK, CAInfo{Subject: ca.Certificate().Subject.CommonName, Thumbprint: ca.Thumbprint(),
		NotAfter: ca.Certificate().NotAfter, PEM: string(ca.PEM())})
}

func (c *controlService) caFile(rw http.ResponseWriter, r *http.Request) {
	ca, err := c.w.LabCA()
	if err != nil {
		writeJSON(rw, http.StatusServiceUnavailable, apiError{Error: "lab CA: " + err.Error()})
		return
	}
	rw.Header().Set("Content-Type", "application/x-x509-ca-cert")
	rw.Header().Set("Content-Disposition", `attachment; filename="wufault-lab-ca.cer"`)
	_, _ = rw.Write(ca.PEM())
}

// events streams journal events as server-sent events, each with its
// sequence number as id: those after Last-Event-ID or ?since (default:
// the last 200 kept), then new ones, of the kinds in ?event
// (comma-separated; default every kind). It follows the journal as
// /journal/stream does (Journal.follow), so a slow console misses nothing
// the journal still holds.
func (c *controlService) events(rw http.ResponseWriter, r *http.Request) {
	kinds := map[string]bool{}
	for k := range strings.SplitSeq(r.URL.Query().Get("event"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			kinds[k] = true
		}
	}
	keep := func(e Event) bool { return len(kinds) == 0 || kinds[e.Kind] }
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(c.w.ctx, cancel)
	defer stop()
	j := c.w.journal
	since, err := sseSince(r, j, keep)
	if err != nil {
		writeJSON(rw, http.StatusBadRequest, apiError{Error: err.Error()})
		return
	}
	rc := http.NewResponseController(rw)
	rw.Header().Set("Content-Type", "text/event-stream")
	rw.Header().Set("Cache-Control", "no-store")
	rw.WriteHeader(http.StatusOK)
	write := func(e Event) error {
		b, err := json.Marshal(e)
		if err != nil {
			return nil // an event that does not encode is skipped, not the stream
		}
		_, err = rw.Write([]byte("id: " + strconv.FormatUint(e.Seq, 10) + "\ndata: " + string(b) + "\n\n"))
		return err
	}
	ready := func() error {
		if _, err := rw.Write([]byte(": ready\n\n")); err != nil {
			return err
		}
		return rc.Flush()
	}
	_ = j.follow(ctx, since, keep, write, ready, rc.Flush)
}

// sseBacklog is how many kept events a new console stream starts with.
const sseBacklog = 200

// sseSince is where an event stream starts: after the Last-Event-ID a
// reconnecting EventSource sends, else after ?since, else so that the
// last sseBacklog kept events come first (also when the id is past the
// newest event: the world restarted since the client saw it).
func sseSince(r *http.Request, j *Journal, keep func(Event) bool) (uint64, error) {
	for _, v := range []string{r.Header.Get("Last-Event-ID"), r.URL.Query().Get("since")} {
		if v == "" {
			continue
		}
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("event id %q: not a sequence number", v)
		}
		if n <= j.lastSeq() {
			return n, nil
		}
		break // an id from before a restart of the world: start afresh
	}
	backlog := j.Events(0, keep)
	if len(backlog) > sseBacklog {
		return backlog[len(backlog)-sseBacklog].Seq - 1, nil
	}
	if len(backlog) > 0 {
		return backlog[0].Seq - 1, nil
	}
	return j.lastSeq(), nil
}
