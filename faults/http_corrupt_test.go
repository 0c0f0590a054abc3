package faults

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHTTPCorrupt(t *testing.T) {
	body := strings.Repeat("a", 250) // written in chunks of 100
	rec := httptest.NewRecorder()
	(&HTTPCorrupt{AfterBytes: 98, Count: 4}).ServeHTTP(rec, httptest.NewRequest("GET", "http://x.test/", nil), originHandler(body, true))
	got := rec.Body.Bytes()
	if len(got) != len(body) {
		t.Fatalf("length %d", len(got))
	}
	for i, b := range got {
		if want := byte('a'); i >= 98 && i < 102 {
			want ^= 0xFF
			if b != want {
				t.Errorf("byte %d = %#x, want flipped", i, b)
			}
		} else if b != want {
			t.Errorf("byte %d = %#x, want untouched", i, b)
		}
	}
}
