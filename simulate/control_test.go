package simulate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

func controlWorld(t *testing.T, o Options) (*World, string) {
	t.Helper()
	o.Control = "127.0.0.1:0"
	w := proxyWorld(t, o)
	return w, "http://" + w.Addrs().Control
}

func call(t *testing.T, method, url, token, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func TestControlScenarioJournalMetrics(t *testing.T) {
	w, api := controlWorld(t, Options{})
	o := origin(t, false)

	code, b := call(t, "PUT", api+"/scenario", "", `name: control-test
seed: 7
faults:
  - kind: http.status
    match: {path: /echo}
    when: {first: 1}
    status: 503
`)
	if code != 200 {
		t.Fatalf("PUT: %d %s", code, b)
	}
	var sv struct {
		Name   string
		Seed   int64
		Faults []struct{ Kind string }
	}
	if err := json.Unmarshal(b, &sv); err != nil || sv.Name != "control-test" || sv.Seed != 7 || len(sv.Faults) != 1 || sv.Faults[0].Kind != "http.status" {
		t.Fatalf("PUT answer %s (%v)", b, err)
	}

	// The stream, opened now, must see the request and the firing.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", api+"/journal/stream", nil)
	sresp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer sresp.Body.Close()
	if ct := sresp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("stream content type %q", ct)
	}

	c := client(t, w, nil, 5*time.Second)
	for n, want := range []int{503, 200} {
		resp, err := c.Get(o.URL + "/echo")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("request %d: %d, want %d", n+1, resp.StatusCode, want)
		}
	}

	sc := bufio.NewScanner(sresp.Body)
	sawFault := false
	for !sawFault && sc.Scan() {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("stream line %q: %v", sc.Text(), err)
		}
		sawFault = e.Kind == EventFault && e.Fault == "http.status" && e.Rule == 1 && e.Req != 0
	}
	if !sawFault {
		t.Error("stream ended without the firing")
	}

	code, b = call(t, "GET", api+"/faults", "", "")
	var rules []struct {
		Hits struct{ Matched, Fired int }
	}
	if err := json.Unmarshal(b, &rules); code != 200 || err != nil || len(rules) != 1 || rules[0].Hits.Matched != 2 || rules[0].Hits.Fired != 1 {
		t.Errorf("GET /faults: %d %s", code, b)
	}
	code, b = call(t, "GET", api+"/journal?since=0&event=fault", "", "")
	var evs []Event
	if err := json.Unmarshal(b, &evs); code != 200 || err != nil || len(evs) != 1 || evs[0].Fault != "http.status" {
		t.Errorf("GET /journal: %d %s", code, b)
	}
	code, b = call(t, "GET", api+"/journal?since=x", "", "")
	if code != 400 {
		t.Errorf("bad since: %d %s", code, b)
	}
	code, b = call(t, "GET", api+"/metrics", "", "")
	if code != 200 || !strings.Contains(string(b), `wufault_faults_fired_total{kind="http.status"} 1`) || !strings.Contains(string(b), "wufault_connections_total") {
		t.Errorf("metrics: %d\n%s", code, b)
	}

	// A broken scenario is refused with the loader's problems, and the
	// active one stays.
	code, b = call(t, "PUT", api+"/scenario", "", `{"name": "x", "faults": [{"kind": "tcp.reset", "after_bytes": -1, "bogus": 1}]}`)
	var ae apiError
	if err := json.Unmarshal(b, &ae); code != 400 || err != nil || len(ae.Problems) == 0 {
		t.Errorf("broken scenario: %d %s", code, b)
	}
	if w.Active().Name != "control-test" {
		t.Errorf("active scenario %q after a refused PUT", w.Active().Name)
	}
	code, _ = call(t, "DELETE", api+"/scenario", "", "")
	if code != 200 || len(w.Active().Set.Rules()) != 0 {
		t.Errorf("DELETE: %d, %d rules left", code, len(w.Active().Set.Rules()))
	}
	code, b = call(t, "GET", api+"/healthz", "", "")
	if code != 200 || !strings.Contains(string(b), `"status": "ok"`) {
		t.Errorf("healthz: %d %s", code, b)
	}
}

func TestControlToken(t *testing.T) {
	_, api := controlWorld(t, Options{ControlToken: "s3cret"})
	for _, tc := range []struct {
		token string
		want  int
	}{{"", 401}, {"wrong", 401}, {"s3cret", 200}} {
		if code, b := call(t, "GET", api+"/scenario", tc.token, ""); code != tc.want {
			t.Errorf("token %q: %d %s, want %d", tc.token, code, b, tc.want)
		}
	}
}

// Swapping the scenario while a download streams through a tunnel does
// not drop it; the tunnel keeps the rules it was armed with.
func TestControlSwapKeepsConnections(t *testing.T) {
	w, api := controlWorld(t, Options{})
	o := origin(t, true)
	c := client(t, w, o, 20*time.Second)
	size := 8 << 20
	resp, err := c.Get(o.URL + fmt.Sprintf("/blob/%d", size))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 1000)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	for n := range 5 {
		code, b := call(t, "PUT", api+"/scenario", "", fmt.Sprintf(`{"name": "swap-%d", "faults": [{"kind": "tcp.reset", "at": "proxy", "match": {"host": "127.0.0.1"}}]}`, n))
		if code != 200 {
			t.Fatalf("PUT: %d %s", code, b)
		}
	}
	rest, err := io.ReadAll(resp.Body)
	if err != nil || len(rest)+1000 != size {
		t.Fatalf("download across swaps: %d bytes, %v", len(rest)+1000, err)
	}
	// A new tunnel gets the new rules.
	tr := c.Transport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	if _, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Get(o.URL + "/echo"); !isReset(err) {
		t.Errorf("new tunnel: %v, want a reset", err)
	}
}

// TestControlRefusesAliasBomb: the reported bomb (a 1,000-key mapping
// aliased 3,000 times, 21 KB) gets a short 400 and costs the world no
// more than the parse of its bytes; it answered 287 MB after 10 s.
func TestControlRefusesAliasBomb(t *testing.T) {
	_, api := controlWorld(t, Options{})
	var b strings.Builder
	b.WriteString("name: bomb\nx: &a {")
	for i := range 1000 {
		fmt.Fprintf(&b, "k%d: 1, ", i)
	}
	b.WriteString("}\nfixes: [" + strings.Repeat("*a, ", 2999) + "*a]\n")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	code, body := call(t, "PUT", api+"/scenario", "", b.String())
	runtime.ReadMemStats(&after)
	if code != http.StatusBadRequest || len(body) > 4096 || !strings.Contains(string(body), "alias bomb") {
		t.Fatalf("PUT bomb: %d, %d bytes: %.300s", code, len(body), body)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 64<<20 {
		t.Errorf("the bomb cost %d MB of allocations", alloc>>20)
	}
}

// The console's event stream resumes where a reconnecting EventSource
// left off (Last-Event-ID), or after ?since; a bad id is a 400.
func TestEventsResume(t *testing.T) {
	w, api := controlWorld(t, Options{})
	var ids []uint64
	for range 5 {
		ids = append(ids, w.journal.Add(Event{Kind: EventError, Detail: "resume test"}).Seq)
	}
	for _, tc := range []struct {
		name, header, query string
		want                []uint64
	}{
		{"Last-Event-ID", fmt.Sprint(ids[2]), "", ids[3:]},
		{"since", "", fmt.Sprint(ids[0]), ids[1:]},
		{"header wins", fmt.Sprint(ids[3]), fmt.Sprint(ids[0]), ids[4:]},
		// An id from a world before a restart: the backlog, not silence.
		{"id past the newest", fmt.Sprint(ids[4] + 1000), "", ids},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			req, _ := http.NewRequestWithContext(ctx, "GET", api+"/events?event=error&since="+tc.query, nil)
			if tc.header != "" {
				req.Header.Set("Last-Event-ID", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var got []uint64
			sc := bufio.NewScanner(resp.Body)
			for sc.Scan() && sc.Text() != ": ready" {
				var id uint64
				if _, err := fmt.Sscanf(sc.Text(), "id: %d", &id); err == nil {
					got = append(got, id)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("events before ready: %v, want %v", got, tc.want)
			}
		})
	}
	req, _ := http.NewRequest("GET", api+"/events", nil)
	req.Header.Set("Last-Event-ID", "x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("bad Last-Event-ID: %d", resp.StatusCode)
	}
}
