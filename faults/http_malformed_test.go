package faults

import (
	"net/http"
	"strings"
	"testing"
)

func TestHTTPMalformed(t *testing.T) {
	for variant, want := range map[string]string{
		"garbage-status": "malformed HTTP status code",
		"bad-header":     "malformed MIME header",
		"bad-chunk":      "invalid byte in chunk length",
		"http09":         "malformed HTTP",
		"huge-header":    "exceeded",
		"header-flood":   "",
	} {
		t.Run(variant, func(t *testing.T) {
			s := hookServer(t, &HTTPMalformed{Variant: variant}, notCalled)
			req, _ := http.NewRequest("POST", s.URL, strings.NewReader("request body the hook must swallow"))
			resp, _, err := get(t, req)
			if want == "" {
				if err != nil || len(resp.Header) < floodHeaders {
					t.Errorf("%v, %d headers", err, len(resp.Header))
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("err = %v, want %q", err, want)
			}
		})
	}
}
