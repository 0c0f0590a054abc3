package scenarios

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// FuzzLoad: the loader never panics, and whatever it accepts survives a
// trip through Marshal unchanged.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"catalog", "testdata"} {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(string(b))
		}
	}
	f.Add("name: a\nfaults: [{kind: tcp.latency, latency: 1s, jitter: 2s}]\n")
	f.Add("name: a\nfaults: &x [*x]\n")
	f.Fuzz(func(t *testing.T, in string) {
		sc, err := Load(strings.NewReader(in), "fuzz.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		for _, sp := range sc.Faults {
			if sp.Kind == "proxy.auth" {
				return // passwords are redacted by Marshal
			}
		}
		b, err := Marshal(sc)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		again, err := Load(strings.NewReader(string(b)), "fuzz.yaml")
		if err != nil {
			t.Fatalf("reload of %q: %v\n%s", in, err, b)
		}
		if !reflect.DeepEqual(sc, again) {
			t.Fatalf("round trip of %q differs:\n%s", in, b)
		}
	})
}
