package verify

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/wufault/wufault/scenarios"
)

// TestFixTableCoversCatalog: every fix of the catalog has its one entry.
func TestFixTableCoversCatalog(t *testing.T) {
	for _, f := range scenarios.Fixes {
		if _, ok := fixTable[f.ID]; !ok {
			t.Errorf("fix %s has no entry in fixTable", f.ID)
		}
	}
	if len(fixTable) != len(scenarios.Fixes) {
		t.Errorf("fixTable has %d entries, the catalog %d fixes", len(fixTable), len(scenarios.Fixes))
	}
}

// TestHouseRules walks the module's non-test Go files: outside package
// faults no code names a concrete fault type in a type assertion or a type
// switch (a kind's needs are traits of its registry entry), and no switch
// anywhere has a case on a fix id (fixes are fixTable).
func TestHouseRules(t *testing.T) {
	fset := token.NewFileSet()
	concrete := map[string]bool{}
	parse := func(path string) *ast.File {
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	goFiles := func(root string, visit func(path string)) {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != root {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
				visit(path)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	matches, _ := filepath.Glob("../faults/*.go")
	for _, p := range matches {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		// A fault type is one with a Validate method (the Fault
		// interface).
		for _, d := range parse(p).Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Recv != nil && fd.Name.Name == "Validate" {
				r := fd.Recv.List[0].Type
				if st, ok := r.(*ast.StarExpr); ok {
					r = st.X
				}
				if id, ok := r.(*ast.Ident); ok && ast.IsExported(id.Name) {
					concrete[id.Name] = true
				}
			}
		}
	}
	if !concrete["TCPRefuse"] || !concrete["ProxyAuth"] {
		t.Fatalf("the fault types were not found: %v", concrete)
	}
	fixIDs := map[string]bool{}
	for _, f := range scenarios.Fixes {
		fixIDs[f.ID] = true
	}
	namesFault := func(e ast.Expr) string {
		if st, ok := e.(*ast.StarExpr); ok {
			e = st.X
		}
		if sel, ok := e.(*ast.SelectorExpr); ok {
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == "faults" && concrete[sel.Sel.Name] {
				return "faults." + sel.Sel.Name
			}
		}
		return ""
	}
	goFiles("..", func(path string) {
		f := parse(path)
		inFaults := filepath.Dir(path) == filepath.Join("..", "faults")
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.TypeAssertExpr:
				if name := namesFault(n.Type); name != "" && !inFaults {
					t.Errorf("%s: type assertion on %s outside package faults", fset.Position(n.Pos()), name)
				}
			case *ast.TypeSwitchStmt:
				for _, c := range n.Body.List {
					for _, e := range c.(*ast.CaseClause).List {
						if name := namesFault(e); name != "" && !inFaults {
							t.Errorf("%s: type switch on %s outside package faults", fset.Position(e.Pos()), name)
						}
					}
				}
			case *ast.CaseClause:
				for _, e := range n.List {
					if lit, ok := e.(*ast.BasicLit); ok && lit.Kind == token.STRING {
						if v, err := strconv.Unquote(lit.Value); err == nil && fixIDs[v] {
							t.Errorf("%s: switch on the fix id %q (fixes are verify's fixTable)", fset.Position(lit.Pos()), v)
						}
					}
				}
			}
			return true
		})
	})
}

// Every package of the module says what it is in a doc.go, and that file
// holds the package comment.
func TestEveryPackageHasDocGo(t *testing.T) {
	pkgs := map[string]bool{}
	err := filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && path != ".." && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(path, ".go") && !strings.HasSuffix(path, "_test.go") {
			pkgs[filepath.Dir(path)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(pkgs) < 20 {
		t.Fatalf("found %d packages under the module root: the walk is wrong", len(pkgs))
	}
	for dir := range pkgs {
		doc := filepath.Join(dir, "doc.go")
		f, err := parser.ParseFile(token.NewFileSet(), doc, nil, parser.PackageClauseOnly|parser.ParseComments)
		if err != nil {
			t.Errorf("%s: no doc.go (%v)", dir, err)
			continue
		}
		if f.Doc == nil || !strings.HasPrefix(f.Doc.Text(), "Package "+f.Name.Name) && f.Name.Name != "main" {
			t.Errorf("%s: its package comment does not start with %q", doc, "Package "+f.Name.Name)
		}
	}
}
