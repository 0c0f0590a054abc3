package wsus

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkSyncUpdates measures one SyncUpdates call through ServeHTTP: parse the
// envelope, check the cookie, page the catalog, marshal and write the answer.
// Results go to docs/benchmarks.md.
func BenchmarkSyncUpdates(b *testing.B) {
	for _, bc := range []struct{ updates, pageSize int }{{2, 1}, {50, 10}, {200, 100}} {
		b.Run(fmt.Sprintf("updates=%d/page=%d", bc.updates, bc.pageSize), func(b *testing.B) {
			s := newTestServer(b, Options{Updates: new(bc.updates), PageSize: bc.pageSize, ContentSize: 1})
			ck := tCookie(s.newCookie("bench"))
			// A client halfway through: it holds the first half of the catalog.
			var cached []int
			for _, u := range s.Catalog()[:bc.updates/2] {
				cached = append(cached, u.RevisionID, u.BundledRevisionID)
			}
			body := envelope11("SyncUpdates", nsClient, syncBody(ck, cached))
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(http.MethodPost, pathClient, strings.NewReader(body))
				req.Header.Set("SOAPAction", `"`+actClient+`SyncUpdates"`)
				rec := httptest.NewRecorder()
				s.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d: %s", rec.Code, rec.Body)
				}
			}
		})
	}
}
