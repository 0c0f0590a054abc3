package scenarios

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's list of reproducible codes from the catalog")

const (
	readmePath  = "../README.md"
	codesBegin  = "<!-- codes: generated from the catalog (go test ./scenarios -run TestREADMECodes -update-readme) -->"
	codesFinish = "<!-- end of codes -->"
)

// readmeCodes is the README's list of reproducible codes: every code the
// catalog's scenarios list (verify's golden test checks that each
// scenario produces them), with the scenarios that do.
func readmeCodes(all []*Scenario) string {
	by := map[codes.Code][]string{}
	for _, sc := range all {
		for _, c := range sc.Codes {
			by[c] = append(by[c], sc.Name)
		}
	}
	keys := make([]codes.Code, 0, len(by))
	for c := range by {
		keys = append(keys, c)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("| code | name | scenarios |\n|---|---|---|\n")
	for _, c := range keys {
		n, _ := codes.Lookup(c)
		fmt.Fprintf(&b, "| %s | %s | %s |\n", c.Hex(), n.Name, strings.Join(by[c], ", "))
	}
	return b.String()
}

// TestREADMECodes keeps the README's list of reproducible codes equal to
// the catalog's.
func TestREADMECodes(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	i, j := strings.Index(readme, codesBegin), strings.Index(readme, codesFinish)
	if i < 0 || j < i {
		t.Fatalf("README.md has no %q … %q block", codesBegin, codesFinish)
	}
	want := readmeCodes(all)
	got := readme[i+len(codesBegin)+1 : j]
	if *updateReadme {
		if err := os.WriteFile(readmePath, []byte(readme[:i+len(codesBegin)+1]+want+readme[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != want {
		t.Errorf("README.md's reproducible codes differ from the catalog's; run go test ./scenarios -run TestREADMECodes -update-readme\nwant:\n%s", want)
	}
}

// TestCatalogCoversEveryKindAndFix: every fault kind is injected by at
// least one catalog scenario, and every documented fix is checked by one
// (as the fix or in its chain).
func TestCatalogCoversEveryKindAndFix(t *testing.T) {
	all, err := Catalog()
	if err != nil {
		t.Fatal(err)
	}
	kinds, fixes := map[string]bool{}, map[string]bool{}
	for _, sc := range all {
		for _, sp := range sc.Faults {
			kinds[sp.Kind] = true
		}
		for _, fc := range sc.Fixes {
			fixes[fc.Fix] = true
		}
	}
	for _, k := range faults.Kinds() {
		if !kinds[k] {
			t.Errorf("fault kind %s is in no catalog scenario", k)
		}
	}
	for _, f := range Fixes {
		if !fixes[f.ID] {
			t.Errorf("fix %s is checked by no catalog scenario", f.ID)
		}
	}
}
