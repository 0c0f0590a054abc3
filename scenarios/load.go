package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/wufault/wufault/client/profile"
	"go.yaml.in/yaml/v3"
)

// MaxSize bounds a scenario file; anything larger is refused unread.
const MaxSize = 1 << 20

var nameRE = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// listIndex is the index of a list item at the end of a field path.
var listIndex = regexp.MustCompile(`\[\d+\]$`)

// Load reads one scenario from r; file names it in problems. On error the
// result is a *LoadError listing every problem.
func Load(r io.Reader, file string) (*Scenario, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	if len(b) > MaxSize {
		return nil, &LoadError{Problems: []Problem{{File: file, Path: "", Err: fmt.Errorf("larger than %d bytes", MaxSize)}}}
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &LoadError{Problems: []Problem{{File: file, Line: 1, Err: errors.New("empty scenario (want a mapping with name, faults, expect)")}}}
		}
		return nil, &LoadError{Problems: []Problem{syntaxProblem(file, err)}}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &LoadError{Problems: []Problem{{File: file, Line: extra.Line, Err: errors.New("more than one YAML document: one scenario per file")}}}
	} else if !errors.Is(err, io.EOF) {
		return nil, &LoadError{Problems: []Problem{syntaxProblem(file, err)}}
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) == 1 {
		root = root.Content[0]
	}
	if n := aliasBomb(root); n != nil {
		return nil, &LoadError{Problems: []Problem{{File: file, Line: n.Line, Err: fmt.Errorf(
			"aliases expand to more than %d values (an alias bomb?): write the values out or use fewer aliases", MaxAliasNodes)}}}
	}
	d := &decoder{file: file, lines: map[string]int{}}
	sc := &Scenario{File: file}
	if root.Kind != yaml.MappingNode {
		d.add(root.Line, "", "want a mapping with name, faults and expect, got a %s", kindName(root))
		return nil, d.err()
	}
	d.decodeStruct(root, reflect.ValueOf(sc).Elem(), "", nil)
	d.validate(sc, root)
	if err := d.err(); err != nil {
		return nil, err
	}
	return sc, nil
}

func syntaxProblem(file string, err error) Problem {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	line := 0
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if n, tail, ok := strings.Cut(rest, ": "); ok {
			if _, e := fmt.Sscan(n, &line); e == nil {
				msg = tail
			}
		}
	}
	return Problem{File: file, Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)}
}

func (d *decoder) err() error {
	if len(d.problems) == 0 {
		return nil
	}
	sort.SliceStable(d.problems, func(i, j int) bool { return d.problems[i].Line < d.problems[j].Line })
	return &LoadError{Problems: d.problems, More: d.more}
}

// MaxAliasNodes bounds the values YAML aliases may add to a scenario. The
// loader walks aliases (the decoder expands each one where it is used), so
// a file of a few kilobytes whose aliases nest or repeat could otherwise
// make it build gigabytes of values and problems. Aliases stay allowed,
// since a shared match block is a fair use, but only within this budget:
// a scenario is a few dozen values, and no real one comes near it.
const MaxAliasNodes = 10000

// aliasBomb returns the alias at which the values reached through aliases
// exceed MaxAliasNodes, or nil. It stops there, so its own work is bounded
// by the document's size plus the budget.
func aliasBomb(root *yaml.Node) *yaml.Node {
	budget := MaxAliasNodes
	var at *yaml.Node
	var walk func(n *yaml.Node, aliased bool, alias *yaml.Node) bool
	walk = func(n *yaml.Node, aliased bool, alias *yaml.Node) bool {
		if aliased {
			if budget--; budget < 0 {
				at = alias
				return false
			}
		}
		if n.Kind == yaml.AliasNode {
			if n.Alias == nil {
				return true
			}
			if !aliased {
				alias = n
			}
			return walk(n.Alias, true, alias)
		}
		for _, c := range n.Content {
			if !walk(c, aliased, alias) {
				return false
			}
		}
		return true
	}
	walk(root, false, nil)
	return at
}

// line returns the line of path's key, or def.
func (d *decoder) line(path string, def int) int {
	if l, ok := d.lines[path]; ok {
		return l
	}
	return def
}

// validate checks what types cannot: names, codes, faults' parameters,
// selectors, fixes.
func (d *decoder) validate(sc *Scenario, root *yaml.Node) {
	if l, given := d.lines["name"]; given && sc.Name == "" {
		d.add(l, "name", "is empty (want a kebab-case name, e.g. connection-aborted-scan)")
	} else if sc.Name != "" && !nameRE.MatchString(sc.Name) {
		d.add(d.line("name", root.Line), "name", "%q is not kebab-case (lowercase letters, digits and single dashes)", sc.Name)
	}
	for i, c := range sc.Codes {
		if !c.Known() {
			d.add(d.line("codes", root.Line), fmt.Sprintf("codes[%d]", i), "%s is not in the code catalog (wufault decode lists known codes)", c.Hex())
		}
	}
	for i, sp := range sc.Faults {
		if sp.Fault == nil {
			continue // decoding already reported why
		}
		label := fmt.Sprintf("faults[%d] (%s)", i, sp.Kind)
		itemLine := d.line(label, root.Line)
		d.fieldErrors(sp.Match.Validate(), label+": match", itemLine)
		d.fieldErrors(sp.When.Validate(), label+": when", itemLine)
		d.fieldErrors(sp.Fault.Validate(), label, itemLine)
	}
	if e := sc.Expect; e != nil {
		if !e.Code.Known() {
			d.add(d.line("expect.code", root.Line), "expect.code", "%s is not in the code catalog", e.Code.Hex())
		}
		if e.Class != "" && !e.Class.Valid() {
			d.add(d.line("expect.class", root.Line), "expect.class", "unknown class %q (want scan, selfupdate, redirector or download)", e.Class)
		}
		if e.Confidence != "" && !e.Confidence.Valid() {
			d.add(d.line("expect.confidence", root.Line), "expect.confidence", "%q is not one of %s", e.Confidence, profile.Join(profile.Confidences))
		}
	}
	seen := map[string]bool{}
	for i, f := range sc.Fixes {
		p := fmt.Sprintf("fixes[%d]", i)
		if _, ok := LookupFix(f.Fix); !ok && f.Fix != "" {
			ids := make([]string, len(Fixes))
			for n, fx := range Fixes {
				ids[n] = fx.ID
			}
			msg := fmt.Sprintf("unknown fix %q", f.Fix)
			if s := suggest(f.Fix, ids); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			}
			d.add(d.line(p+".fix", root.Line), p+".fix", "%s", msg)
		}
		chain := strings.Join(append(slices.Clone(f.With), f.Fix), " then ")
		if seen[chain] {
			d.add(d.line(p+".fix", root.Line), p+".fix", "%q is listed twice", chain)
		}
		seen[chain] = true
		for j, w := range f.With {
			if _, ok := LookupFix(w); !ok {
				d.add(d.line(p+".with", root.Line), fmt.Sprintf("%s.with[%d]", p, j), "unknown fix %q", w)
			}
		}
		if f.Outcome != "" && !slices.Contains(Outcomes, f.Outcome) {
			d.add(d.line(p+".outcome", root.Line), p+".outcome", "%q is not one of %s", f.Outcome, profile.Join(Outcomes))
		}
		if f.Code != nil && !f.Code.Known() {
			d.add(d.line(p+".code", root.Line), p+".code", "%s is not in the code catalog", f.Code.Hex())
		}
	}
	d.fieldErrors(sc.Profile.Validate(), "profile", root.Line)
}

// fieldErrors turns a Validate result into problems, placing each
// *faults.FieldError on the line of its key.
func (d *decoder) fieldErrors(err error, label string, def int) {
	for _, e := range flatten(err) {
		var fe *profile.FieldError
		if errors.As(e, &fe) {
			p := label + ": " + fe.Field
			if label == "profile" || strings.HasSuffix(label, ": match") || strings.HasSuffix(label, ": when") {
				p = join(label, fe.Field)
			}
			// A list item's line, or its list's ("profile.dns[1]" is on
			// the line of profile.dns).
			listLine := d.line(join(label, listIndex.ReplaceAllString(fe.Field, "")), def)
			d.add(d.line(join(label, fe.Field), listLine), p, "%s", fe.Err)
			continue
		}
		d.add(def, label, "%s", e)
	}
}

func flatten(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return []error{err}
}

// LoadFile loads a scenario from disk.
func LoadFile(name string) (*Scenario, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("open scenario: %w", err)
	}
	defer f.Close()
	return Load(f, name)
}

//go:embed catalog/*.yaml
var catalogFS embed.FS

// Catalog loads every embedded scenario, sorted by name. An error lists the
// problems of every broken file and any duplicate name.
func Catalog() ([]*Scenario, error) {
	return loadDir(catalogFS, "catalog")
}

func loadDir(fsys fs.FS, dir string) ([]*Scenario, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", dir, err)
	}
	var out []*Scenario
	var errs []error
	byName := map[string]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".yaml") {
			continue
		}
		p := path.Join(dir, e.Name())
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		sc, err := Load(bytes.NewReader(b), p)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if first, dup := byName[sc.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: name %q is also used by %s", p, sc.Name, first))
			continue
		}
		byName[sc.Name] = p
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, errors.Join(errs...)
}

// Find returns the catalog scenario called nameOrPath, or loads it as a
// file when it names one (it contains a path separator or ends in .yaml).
func Find(nameOrPath string) (*Scenario, error) {
	if strings.ContainsRune(nameOrPath, os.PathSeparator) || strings.HasSuffix(nameOrPath, ".yaml") || strings.HasSuffix(nameOrPath, ".yml") {
		return LoadFile(nameOrPath)
	}
	all, err := Catalog()
	if err != nil {
		return nil, fmt.Errorf("embedded catalog is broken: %w", err)
	}
	var names []string
	for _, sc := range all {
		if sc.Name == nameOrPath {
			return sc, nil
		}
		names = append(names, sc.Name)
	}
	msg := fmt.Sprintf("no scenario named %q", nameOrPath)
	if s := suggest(nameOrPath, names); s != "" {
		msg += fmt.Sprintf(" (did you mean %q?)", s)
	}
	return nil, errors.New(msg + "; `wufault scenarios list` shows the catalog")
}
