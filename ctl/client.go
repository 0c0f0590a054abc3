package ctl

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/simulate"
)

// maxAnswer bounds an answer the client reads (a journal page included).
const maxAnswer = 64 << 20

// Client talks to one control API. Its zero value is not usable; call New.
type Client struct {
	base  *url.URL
	token string
	// HTTP is the client requests go through (default: a fresh
	// http.Client; a followed journal needs one without a timeout).
	HTTP *http.Client
}

// New returns a client of the control API at addr: "host:port" or a URL
// ("http://lab:8081"). token is the bearer token ("" on loopback without
// one).
func New(addr, token string) (*Client, error) {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	u, err := url.Parse(addr)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("control address %q: want host:port or http://host:port", addr)
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return &Client{base: u, token: token, HTTP: &http.Client{}}, nil
}

// APIError is an answer other than 2xx, with the API's explanation.
type APIError struct {
	Status   int
	Message  string
	Problems []string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("control API: %d %s", e.Status, http.StatusText(e.Status))
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if len(e.Problems) > 0 {
		msg += "\n  " + strings.Join(e.Problems, "\n  ")
	}
	return msg
}

// do sends one request and decodes a JSON answer into out (nil: discard).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte, out any) error {
	resp, err := c.send(ctx, method, path, query, body)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return fmt.Errorf("control API: read answer: %w", err)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("control API: %s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// send sends one request (path escaped, from "/") and returns a 2xx answer, else an *APIError.
func (c *Client) send(ctx context.Context, method, path string, query url.Values, body []byte) (*http.Response, error) {
	u := c.base.String() + path // path is escaped already
	if q := query.Encode(); q != "" {
		u += "?" + q
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/yaml")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("control API: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		e := &APIError{Status: resp.StatusCode}
		var ae struct {
			Error    string   `json:"error"`
			Problems []string `json:"problems"`
		}
		if json.Unmarshal(b, &ae) == nil {
			e.Message, e.Problems = ae.Error, ae.Problems
		} else {
			e.Message = strings.TrimSpace(string(b))
		}
		return nil, e
	}
	return resp, nil
}

// Scenario is a scenario as the API shows it (simulate.ScenarioView,
// with each fault's parameters left as JSON).
type Scenario struct {
	Name   string    `json:"name"`
	Seed   int64     `json:"seed"`
	Since  time.Time `json:"since"`
	Faults []Rule    `json:"faults"`
}

// Rule is one armed fault with its hits.
type Rule struct {
	Index  int             `json:"index"`
	Kind   string          `json:"kind"`
	Match  faults.Match    `json:"match,omitzero"`
	When   faults.When     `json:"when,omitzero"`
	Params json.RawMessage `json:"params"`
	Hits   faults.Hits     `json:"hits"`
	Phase  *profile.Phase  `json:"phase,omitempty"`
}

// Index returns GET /: the API's endpoints.
func (c *Client) Index(ctx context.Context) (simulate.APIIndex, error) {
	var ix simulate.APIIndex
	return ix, c.do(ctx, http.MethodGet, "/", nil, nil, &ix)
}

// Scenario returns the default scenario with its rules and hits.
func (c *Client) Scenario(ctx context.Context) (Scenario, error) {
	var v Scenario
	return v, c.do(ctx, http.MethodGet, "/scenario", nil, nil, &v)
}

// UseScenario makes the catalog scenario name the default one.
func (c *Client) UseScenario(ctx context.Context, name string) (Scenario, error) {
	var v Scenario
	return v, c.do(ctx, http.MethodPut, "/scenario", url.Values{"name": {name}}, nil, &v)
}

// UseScenarioYAML makes the scenario file body (YAML or JSON) the
// default one.
func (c *Client) UseScenarioYAML(ctx context.Context, body []byte) (Scenario, error) {
	var v Scenario
	return v, c.do(ctx, http.MethodPut, "/scenario", nil, body, &v)
}

// ClearScenario deactivates every fault of the default scenario.
func (c *Client) ClearScenario(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/scenario", nil, nil, nil)
}

// ClientAssignment is one assignment as GET /clients shows it.
type ClientAssignment struct {
	Client    string                `json:"client"` // a CIDR, or "default"
	Scenario  Scenario              `json:"scenario"`
	Addresses []simulate.ClientAddr `json:"addresses"`
}

// Clients lists the assignments, most specific first, then the default.
func (c *Client) Clients(ctx context.Context) ([]ClientAssignment, error) {
	var out []ClientAssignment
	return out, c.do(ctx, http.MethodGet, "/clients", nil, nil, &out)
}

// clientPath is the API path of a client network ("10.0.0.0/24" or an
// address).
func clientPath(cidr string) string { return "/clients/" + url.PathEscape(cidr) }

// Assign gives the clients in cidr the catalog scenario name.
func (c *Client) Assign(ctx context.Context, cidr, name string) (ClientAssignment, error) {
	var v ClientAssignment
	return v, c.do(ctx, http.MethodPut, clientPath(cidr)+"/scenario", url.Values{"name": {name}}, nil, &v)
}

// AssignYAML gives the clients in cidr the scenario file body.
func (c *Client) AssignYAML(ctx context.Context, cidr string, body []byte) (ClientAssignment, error) {
	var v ClientAssignment
	return v, c.do(ctx, http.MethodPut, clientPath(cidr)+"/scenario", nil, body, &v)
}

// Unassign returns the clients in cidr to the default scenario.
func (c *Client) Unassign(ctx context.Context, cidr string) error {
	return c.do(ctx, http.MethodDelete, clientPath(cidr), nil, nil, nil)
}

// JournalQuery selects journal events (zero fields: all).
type JournalQuery struct {
	Since uint64 // only events after this sequence number
	Limit int    // at most this many (Journal only)
	Event string // only this kind ("fault", "report", …)
	Fault string // only firings of this fault kind
	Conn  uint64
	Req   uint64
}

func (q JournalQuery) values(stream bool) url.Values {
	v := url.Values{}
	set := func(k string, n uint64) {
		if n != 0 {
			v.Set(k, strconv.FormatUint(n, 10))
		}
	}
	set("since", q.Since)
	set("conn", q.Conn)
	set("req", q.Req)
	if q.Limit > 0 && !stream {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Event != "" {
		v.Set("event", q.Event)
	}
	if q.Fault != "" {
		v.Set("fault", q.Fault)
	}
	return v
}

// Journal returns the journal events q selects, oldest first.
func (c *Client) Journal(ctx context.Context, q JournalQuery) ([]simulate.Event, error) {
	var evs []simulate.Event
	return evs, c.do(ctx, http.MethodGet, "/journal", q.values(false), nil, &evs)
}

// Follow calls fn with each event q selects as the world journals it
// (after q.Since when set, else from now on) until ctx ends (nil), fn
// fails (its error), or the world goes away (an error).
func (c *Client) Follow(ctx context.Context, q JournalQuery, fn func(simulate.Event) error) error {
	v := q.values(true)
	if q.Since == 0 {
		v.Del("since")
	}
	resp, err := c.send(ctx, http.MethodGet, "/journal/stream", v, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var e simulate.Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return fmt.Errorf("control API: journal stream: %w", err)
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil && !errors.Is(err, context.Canceled) {
		return fmt.Errorf("control API: journal stream: %w", err)
	}
	return errors.New("control API: the journal stream ended (the world stopped)")
}
