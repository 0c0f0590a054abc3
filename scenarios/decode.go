package scenarios

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/wufault/wufault/faults"
)

// Problem is one thing wrong with a scenario file.
type Problem struct {
	File string
	Line int
	Path string // "faults[0] (tcp.reset): after_bytes"
	Err  error
}

func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Path != "" {
		b.WriteString(p.Path)
		b.WriteString(": ")
	}
	b.WriteString(p.Err.Error())
	return b.String()
}

func (p Problem) Unwrap() error { return p.Err }

// LoadError lists the problems found in a file, in line order: at most
// MaxProblems of them, with More counting the ones left out.
type LoadError struct {
	Problems []Problem
	More     int
}

func (e *LoadError) Error() string {
	s := make([]string, len(e.Problems), len(e.Problems)+1)
	for n, p := range e.Problems {
		s[n] = p.Error()
	}
	if e.More > 0 {
		s = append(s, fmt.Sprintf("… and %d more problems", e.More))
	}
	return strings.Join(s, "\n")
}

// Unwrap exposes the problems to errors.Is and errors.As.
func (e *LoadError) Unwrap() []error {
	out := make([]error, len(e.Problems))
	for n, p := range e.Problems {
		out[n] = p
	}
	return out
}

// decoder walks a yaml.Node tree into Go values strictly: unknown keys,
// duplicate keys, missing required keys and wrong types are problems with
// the line they are on. yaml.v3's own KnownFields is not used because
// Node.Decode drops it (go-yaml #460) and stops at the first error.
type decoder struct {
	file     string
	problems []Problem
	more     int            // problems past MaxProblems, counted, not kept
	lines    map[string]int // path → line of its key, for later validation errors
}

// MaxProblems caps the problems a load reports; the rest are counted. A
// hostile file cannot make the answer larger than its own few kilobytes.
const MaxProblems = 50

// full says the problem list is capped: further problems are only counted.
func (d *decoder) full() bool { return len(d.problems) >= MaxProblems }

func (d *decoder) add(line int, path string, format string, args ...any) {
	if d.full() {
		d.more++
		return
	}
	d.problems = append(d.problems, Problem{File: d.file, Line: line, Path: path, Err: fmt.Errorf(format, args...)})
}

var (
	unmarshalerType = reflect.TypeFor[yaml.Unmarshaler]()
	textType        = reflect.TypeFor[encoding.TextUnmarshaler]()
	specType        = reflect.TypeFor[faults.Spec]()
)

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// decode fills v (addressable) from n. extra lists keys that the caller
// handles itself and that must not be reported as unknown.
func (d *decoder) decode(n *yaml.Node, v reflect.Value, path string, extra ...string) {
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	t := v.Type()
	switch {
	case t == specType:
		d.decodeSpec(n, v.Addr().Interface().(*faults.Spec), path)
		return
	case reflect.PointerTo(t).Implements(unmarshalerType) || reflect.PointerTo(t).Implements(textType):
		if n.Kind != yaml.ScalarNode && !reflect.PointerTo(t).Implements(unmarshalerType) {
			d.add(n.Line, path, "want a single value, got a %s", kindName(n))
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.add(n.Line, path, "%s", cleanYAMLError(err))
		}
		return
	}
	switch t.Kind() {
	case reflect.Pointer:
		if isNull(n) {
			return
		}
		p := reflect.New(t.Elem())
		d.decode(n, p.Elem(), path)
		v.Set(p)
	case reflect.Struct:
		d.decodeStruct(n, v, path, extra)
	case reflect.Slice:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.SequenceNode {
			d.add(n.Line, path, "want a list, got a %s", kindName(n))
			return
		}
		if len(n.Content) == 0 {
			return // [] is the same as no list: Marshal omits both
		}
		s := reflect.MakeSlice(t, len(n.Content), len(n.Content))
		for i, item := range n.Content {
			d.decode(item, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
		}
		v.Set(s)
	case reflect.Map:
		if isNull(n) {
			return
		}
		if n.Kind != yaml.MappingNode {
			d.add(n.Line, path, "want a mapping, got a %s", kindName(n))
			return
		}
		m := reflect.MakeMap(t)
		seen := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if first, dup := seen[k.Value]; dup {
				d.add(k.Line, join(path, k.Value), "duplicate key (first on line %d)", first)
				continue
			}
			seen[k.Value] = k.Line
			kv := reflect.New(t.Key()).Elem()
			d.decode(k, kv, path)
			ev := reflect.New(t.Elem()).Elem()
			d.decode(val, ev, join(path, k.Value))
			m.SetMapIndex(kv, ev)
		}
		v.Set(m)
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Float32, reflect.Float64:
		if n.Kind != yaml.ScalarNode {
			d.add(n.Line, path, "want %s, got a %s", scalarName(t), kindName(n))
			return
		}
		if t.Kind() == reflect.String && n.Tag == "!!bool" {
			// An unquoted true/false where text belongs is almost always a slip.
			d.add(n.Line, path, "want a string, got %s (quote it)", n.Value)
			return
		}
		if err := n.Decode(v.Addr().Interface()); err != nil {
			d.add(n.Line, path, "want %s, got %q", scalarName(t), n.Value)
		}
	default:
		d.add(n.Line, path, "cannot decode into %s", t)
	}
}

// field is one yaml key of a struct, following inline fields.
type field struct {
	index    []int
	required bool
}

func structFields(t reflect.Type) (map[string]field, []string) {
	fields := map[string]field{}
	var order []string
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			idx := append(append([]int{}, prefix...), i)
			if strings.Contains(opts, "inline") {
				walk(f.Type, idx)
				continue
			}
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = field{index: idx, required: f.Tag.Get("required") == "true"}
			order = append(order, name)
		}
	}
	walk(t, nil)
	return fields, order
}

func (d *decoder) decodeStruct(n *yaml.Node, v reflect.Value, path string, extra []string) {
	if isNull(n) {
		n = &yaml.Node{Kind: yaml.MappingNode, Line: n.Line}
	}
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "want a mapping, got a %s", kindName(n))
		return
	}
	fields, order := structFields(v.Type())
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		key := k.Value
		if first, dup := seen[key]; dup {
			d.add(k.Line, join(path, key), "duplicate key (first on line %d)", first)
			continue
		}
		seen[key] = k.Line
		f, ok := fields[key]
		if !ok {
			if slices.Contains(extra, key) {
				continue
			}
			if d.full() {
				d.more++ // skip the suggestion: only counted
				continue
			}
			known := append(append([]string{}, order...), extra...)
			msg := fmt.Sprintf("unknown key %q", key)
			if s := suggest(key, known); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
			} else {
				sort.Strings(known)
				msg += " (known keys: " + strings.Join(known, ", ") + ")"
			}
			d.add(k.Line, path, "%s", msg)
			continue
		}
		d.lines[join(path, key)] = k.Line
		d.decode(val, v.FieldByIndex(f.index), join(path, key))
	}
	for _, name := range order {
		if fields[name].required {
			if _, ok := seen[name]; !ok {
				d.add(d.line(path, n.Line), path, "missing required key %q", name)
			}
		}
	}
}

// decodeSpec decodes one fault: kind selects the type, match and when are
// common, every other key is a parameter of the kind.
func (d *decoder) decodeSpec(n *yaml.Node, s *faults.Spec, path string) {
	if n.Kind != yaml.MappingNode {
		d.add(n.Line, path, "want a fault (a mapping with a kind), got a %s", kindName(n))
		return
	}
	var kindNode, matchNode, whenNode *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		switch n.Content[i].Value {
		case "kind":
			kindNode = n.Content[i+1]
		case "match":
			matchNode = n.Content[i+1]
		case "when":
			whenNode = n.Content[i+1]
		}
	}
	if kindNode == nil {
		d.add(n.Line, path, "missing required key \"kind\" (one of: %s)", strings.Join(faults.Kinds(), ", "))
		return
	}
	s.Kind = kindNode.Value
	label := fmt.Sprintf("%s (%s)", path, s.Kind)
	f, err := faults.New(s.Kind)
	if err != nil {
		msg := fmt.Sprintf("unknown fault kind %q", s.Kind)
		if sg := suggest(s.Kind, faults.Kinds()); sg != "" {
			msg += fmt.Sprintf(" (did you mean %q?)", sg)
		}
		d.add(kindNode.Line, path+".kind", "%s", msg)
		return
	}
	s.Fault = f
	d.lines[label] = kindNode.Line
	if matchNode != nil {
		d.decode(matchNode, reflect.ValueOf(&s.Match).Elem(), label+": match")
	}
	if whenNode != nil {
		d.decode(whenNode, reflect.ValueOf(&s.When).Elem(), label+": when")
	}
	d.decodeStruct(n, reflect.ValueOf(f).Elem(), label, []string{"kind", "match", "when"})
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return fmt.Sprintf("value %q", n.Value)
	}
	return "node"
}

func scalarName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	}
	return "an integer"
}

// cleanYAMLError strips yaml.v3's "yaml: unmarshal errors:\n  line N: "
// wrapping: the problem carries the line already.
func cleanYAMLError(err error) string {
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		s := te.Errors[0]
		if _, rest, ok := strings.Cut(s, ": "); ok && strings.HasPrefix(s, "line ") {
			s = rest
		}
		return s
	}
	return strings.TrimPrefix(err.Error(), "yaml: ")
}

// suggest returns the known word closest to s when it is a likely typo.
func suggest(s string, known []string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" && bestD <= max(1, len(s)/3) {
		return best
	}
	return ""
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
