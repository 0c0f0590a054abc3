package simulate

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// dupHandler records every log record at every level and the keys that
// appear twice in one record (the logger's With attributes included).
type dupHandler struct {
	attrs []slog.Attr
	mu    *sync.Mutex
	dups  *[]string
	msgs  *[]string
}

func (h dupHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h dupHandler) Handle(_ context.Context, r slog.Record) error {
	seen := map[string]bool{}
	var dups []string
	note := func(a slog.Attr) {
		if seen[a.Key] {
			dups = append(dups, r.Message+": "+a.Key)
		}
		seen[a.Key] = true
	}
	for _, a := range h.attrs {
		note(a)
	}
	r.Attrs(func(a slog.Attr) bool { note(a); return true })
	h.mu.Lock()
	*h.dups = append(*h.dups, dups...)
	*h.msgs = append(*h.msgs, r.Message)
	h.mu.Unlock()
	return nil
}

func (h dupHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(h.attrs[:len(h.attrs):len(h.attrs)], as...)
	return h
}

func (h dupHandler) WithGroup(string) slog.Handler { return h }

// TestLogsHaveNoDuplicateKeys runs SOAP calls, a CONNECT and a control
// request through a world logging at debug level and checks that no
// record names a key twice (the emulator's "service" once doubled the
// world's).
func TestLogsHaveNoDuplicateKeys(t *testing.T) {
	var mu sync.Mutex
	var dups, msgs []string
	w := testWorld(t, Options{Proxy: "127.0.0.1:0", UpstreamHTTP: "127.0.0.1:0", Control: "127.0.0.1:0",
		Logger: slog.New(dupHandler{mu: &mu, dups: &dups, msgs: &msgs})})
	resp, err := http.Post("http://"+w.Addrs().UpstreamHTTP+"/ClientWebService/client.asmx", "text/xml", strings.NewReader("<not-soap/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	req, _ := http.NewRequest(http.MethodPut, "http://"+w.Addrs().Control+"/scenario", strings.NewReader("name: x\nfaults: []\nexpect: {code: 0x0}\n"))
	if resp, err = http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	mu.Lock()
	defer mu.Unlock()
	if !strings.Contains(strings.Join(msgs, "\n"), "wsus: call") {
		t.Errorf("the emulator logged no call: %q", msgs)
	}
	if len(dups) > 0 {
		t.Errorf("records with a key twice: %q", dups)
	}
}
