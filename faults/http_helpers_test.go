package faults

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
)

// hookServer serves h in front of next on a loopback server.
func hookServer(t *testing.T, h HTTPHook, next http.Handler) *httptest.Server {
	t.Helper()
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r, next) }))
	t.Cleanup(s.Close)
	return s
}

// origin answers body with a Content-Length (or chunked when chunked).
func originHandler(body string, chunked bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		if chunked {
			for i := 0; i < len(body); i += 100 {
				_, _ = io.WriteString(w, body[i:min(i+100, len(body))])
				w.(http.Flusher).Flush()
			}
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = io.WriteString(w, body)
	})
}

// get fetches url and reads the whole body.
func get(t *testing.T, req *http.Request) (*http.Response, []byte, error) {
	t.Helper()
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, b, err
}

var notCalled = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { panic("next must not be called") })
