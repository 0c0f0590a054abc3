package simulate

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// documentedOps reads every path and method of the OpenAPI document with
// the statuses it documents.
func documentedOps(t *testing.T) map[string][]int {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]struct {
			Responses map[string]json.RawMessage `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(openAPI(), &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	ops := map[string][]int{}
	for path, methods := range doc.Paths {
		for m, op := range methods {
			var codes []int
			for k := range op.Responses {
				n, err := strconv.Atoi(k)
				if err != nil {
					t.Fatalf("%s %s: response %q is not a status", m, path, k)
				}
				codes = append(codes, n)
			}
			if len(codes) == 0 {
				t.Errorf("%s %s documents no response", m, path)
			}
			ops[strings.ToUpper(m)+" "+path] = codes
		}
	}
	return ops
}

// TestOpenAPIMatchesHandlers holds the OpenAPI document to the real
// control API: every documented path and method answers with a documented
// status, every route served is documented, GET / lists them all, and
// docs/openapi.json is the document served.
func TestOpenAPIMatchesHandlers(t *testing.T) {
	w, api := controlWorld(t, Options{})
	ops := documentedOps(t)

	w.mu.Lock()
	c := w.services["control"].(*controlService)
	w.mu.Unlock()
	served := map[string]bool{}
	for _, r := range c.routes {
		r = strings.Replace(r, "{$}", "", 1)
		served[r] = true
		if _, ok := ops[r]; !ok {
			t.Errorf("route %q is not in openapi.json", r)
		}
	}
	for op, statuses := range ops {
		if !served[op] {
			t.Errorf("openapi.json documents %q, which no route serves", op)
			continue
		}
		method, path, _ := strings.Cut(op, " ")
		path = strings.NewReplacer("{cidr}", url.PathEscape("127.0.0.9/32"), "{file}", "console.css").Replace(path)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		req, _ := http.NewRequestWithContext(ctx, method, api+path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			cancel()
			t.Errorf("%s: %v", op, err)
			continue
		}
		resp.Body.Close() // a stream ends here
		cancel()
		if !slices.Contains(statuses, resp.StatusCode) {
			t.Errorf("%s answered %d, documented %v", op, resp.StatusCode, statuses)
		}
	}

	code, b := call(t, "GET", api+"/", "", "")
	var ix APIIndex
	if err := json.Unmarshal(b, &ix); code != 200 || err != nil {
		t.Fatalf("GET /: %d %v %s", code, err, b)
	}
	if len(ix.Endpoints) != len(ops) || ix.OpenAPI != "/openapi.json" {
		t.Errorf("GET / lists %d endpoints of %d: %s", len(ix.Endpoints), len(ops), b)
	}
	for _, e := range ix.Endpoints {
		if _, ok := ops[e.Method+" "+e.Path]; !ok || e.Summary == "" {
			t.Errorf("GET / lists %+v", e)
		}
	}
	if code, _ := call(t, "GET", api+"/no-such-thing", "", ""); code != http.StatusNotFound {
		t.Errorf("an unknown path: %d", code)
	}

	docs, err := os.ReadFile("../docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(docs, openAPI()) {
		t.Error("docs/openapi.json differs from simulate/api/openapi.json: cp simulate/api/openapi.json docs/")
	}
}
