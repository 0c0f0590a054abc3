package faults

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

func TestDescribe(t *testing.T) {
	ps, err := Describe("tcp.reset")
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]Param{}
	for _, p := range ps {
		byName[p.Name] = p
	}
	if p := byName["after_bytes"]; p.Type != "integer" || p.Doc == "" {
		t.Errorf("after_bytes: %+v", p)
	}
	if p := byName["at"]; p.Type != "phase" || p.Default != "headers" || !slices.Contains(p.Allowed, "body") || slices.Contains(p.Allowed, "resolve") {
		t.Errorf("at: %+v", p)
	}
	ps, _ = Describe("proxy.auth")
	for _, p := range ps {
		if p.Name == "reject" && !slices.Equal(p.Allowed, AuthRejectModes) {
			t.Errorf("reject allows %v, want %v", p.Allowed, AuthRejectModes)
		}
		if p.Name == "users" && p.Type != "list of {user, password}" {
			t.Errorf("users: %+v", p)
		}
	}
	ps, _ = Describe("tcp.bandwidth")
	if len(ps) != 2 || ps[0].Name != "rate" || ps[0].Type != "rate" ||
		ps[1].Name != "direction" || ps[1].Default != "down" || !slices.Equal(ps[1].Allowed, []string{"down", "up"}) {
		t.Errorf("tcp.bandwidth: %+v", ps)
	}
	if _, err := Describe("tcp.rest"); err == nil {
		t.Error("unknown kind described")
	}
	// Every parameter of every kind has a type and a line of doc.
	for _, k := range Kinds() {
		ps, err := Describe(k)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Type == "" || p.Doc == "" {
				t.Errorf("%s %s: type %q, doc %q (add a doc comment to the field, then go generate ./faults)", k, p.Name, p.Type, p.Doc)
			}
		}
	}
}

// params_doc.go is what docgen writes from the fields' comments.
func TestParamsDocUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the generator")
	}
	out := filepath.Join(t.TempDir(), "params_doc.go")
	if b, err := exec.Command("go", "run", "./internal/docgen", "-out", out).CombinedOutput(); err != nil {
		t.Fatalf("docgen: %v\n%s", err, b)
	}
	got, _ := os.ReadFile(out)
	want, _ := os.ReadFile("params_doc.go")
	if string(got) != string(want) {
		t.Error("faults/params_doc.go is stale: run go generate ./faults")
	}
}
