package faults_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoProcessWideState keeps package faults (and faults/ntlm) free of
// state shared by every world in the process: the non-test code writes a
// package-level variable only in an init function, or in Register, which
// only init functions call (the kind registry is filled before main and
// read-only after). A fault's state belongs to the fault (one per rule) or
// to the connection (ConnValue), so two worlds in one process, or two
// tests, never see each other's.
func TestNoProcessWideState(t *testing.T) {
	for _, dir := range []string{".", "ntlm"} {
		checkNoPackageWrites(t, dir)
	}
}

func checkNoPackageWrites(t *testing.T, dir string) {
	fset := token.NewFileSet()
	paths, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	var files []*ast.File
	vars := map[string]bool{}
	for _, p := range paths {
		if strings.HasSuffix(p, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
		for _, d := range f.Decls {
			if g, ok := d.(*ast.GenDecl); ok && g.Tok == token.VAR {
				for _, s := range g.Specs {
					for _, n := range s.(*ast.ValueSpec).Names {
						if n.Name != "_" {
							vars[n.Name] = true
						}
					}
				}
			}
		}
	}
	if len(files) == 0 {
		t.Fatalf("%s: no Go files", dir)
	}
	for _, f := range files {
		// pkgVar reports whether id names a package-level variable: one
		// declared in this file (resolved to the file scope) or in another
		// file of the package (unresolved here, and a package var's name).
		pkgVar := func(id *ast.Ident) bool {
			if id.Obj == nil {
				return vars[id.Name]
			}
			return f.Scope.Objects[id.Name] == id.Obj && id.Obj.Kind == ast.Var
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			where := fset.Position(fd.Pos()).Filename + ": " + fd.Name.Name
			inInit := fd.Recv == nil && fd.Name.Name == "init"
			inRegister := fd.Recv == nil && fd.Name.Name == "Register" && dir == "."
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				var written []ast.Expr
				switch n := n.(type) {
				case *ast.AssignStmt:
					written = n.Lhs
				case *ast.IncDecStmt:
					written = []ast.Expr{n.X}
				case *ast.UnaryExpr:
					if n.Op == token.AND {
						written = []ast.Expr{n.X}
					}
				case *ast.CallExpr:
					if id, ok := n.Fun.(*ast.Ident); ok && (id.Name == "delete" || id.Name == "clear") && len(n.Args) > 0 {
						written = n.Args[:1]
					}
					if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
						switch sel.Sel.Name {
						case "Lock", "Store", "Add", "Swap", "CompareAndSwap", "Do":
							written = []ast.Expr{sel.X}
						}
					}
					if id, ok := n.Fun.(*ast.Ident); ok && id.Name == "Register" && dir == "." && !inInit {
						t.Errorf("%s calls Register outside an init function: the registry is filled before main", where)
					}
				}
				for _, e := range written {
					if id := rootIdent(e); id != nil && pkgVar(id) && !inInit && !(inRegister && strings.HasPrefix(id.Name, "registry")) {
						t.Errorf("%s: writes package-level %s at run time (process-wide state): keep it in the fault or the connection", where, id.Name)
					}
				}
				return true
			})
		}
	}
}

// rootIdent is the variable an lvalue writes into: x for x, x[k], x.f,
// *x and (x).
func rootIdent(e ast.Expr) *ast.Ident {
	for {
		switch v := e.(type) {
		case *ast.Ident:
			return v
		case *ast.IndexExpr:
			e = v.X
		case *ast.SelectorExpr:
			e = v.X
		case *ast.StarExpr:
			e = v.X
		case *ast.ParenExpr:
			e = v.X
		default:
			return nil
		}
	}
}
