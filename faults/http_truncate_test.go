package faults

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestHTTPTruncate(t *testing.T) {
	body := strings.Repeat("x", 1000)
	for _, tc := range []struct {
		name     string
		f        HTTPTruncate
		chunked  bool
		wantLen  int64
		wantBody int
		wantErr  error
	}{
		{"keep", HTTPTruncate{AfterBytes: 300}, false, 1000, 300, io.ErrUnexpectedEOF},
		{"keep chunked", HTTPTruncate{AfterBytes: 300}, true, -1, 300, io.ErrUnexpectedEOF},
		{"match", HTTPTruncate{AfterBytes: 300, Length: "match"}, false, 300, 300, nil},
		{"none", HTTPTruncate{AfterBytes: 300, Length: "none"}, false, -1, 300, nil},
		// A Content-Length origin, sent chunked and cut without the last chunk.
		{"chunked", HTTPTruncate{AfterBytes: 300, Length: "chunked"}, false, -1, 300, io.ErrUnexpectedEOF},
		{"longer than the body", HTTPTruncate{AfterBytes: 5000}, false, 1000, 1000, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := hookServer(t, &tc.f, originHandler(body, tc.chunked))
			req, _ := http.NewRequest("GET", s.URL, nil)
			resp, b, err := get(t, req)
			if resp == nil || resp.ContentLength != tc.wantLen || len(b) != tc.wantBody || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("length %v, %d bytes, %v; want %d, %d, %v", resp.ContentLength, len(b), err, tc.wantLen, tc.wantBody, tc.wantErr)
			}
		})
	}
}
