package faults

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"github.com/wufault/wufault/client/profile"
)

// Param describes one parameter of a fault kind, read from the fault's
// type: its YAML name and Go type, the default its doc comment or its
// zero value gives, the values its own Validate accepts (when it names
// them) and the first sentence of the field's doc comment.
type Param struct {
	Name    string   `json:"name"`
	Type    string   `json:"type"`
	Default string   `json:"default,omitempty"`
	Allowed []string `json:"allowed,omitempty"`
	Doc     string   `json:"doc,omitempty"`
}

//go:generate go run ./internal/docgen

// Describe returns the parameters of kind, in the order of its fields
// (match and when, common to every kind, are not listed).
func Describe(kind string) ([]Param, error) {
	info, ok := Lookup(kind)
	if !ok {
		return nil, fmt.Errorf("unknown fault kind %q", kind)
	}
	zero := info.New()
	var out []Param
	var walk func(t reflect.Type, index []int)
	walk = func(t reflect.Type, index []int) {
		for i := range t.NumField() {
			sf := t.Field(i)
			if !sf.IsExported() {
				continue
			}
			name, opts, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			idx := append(append([]int{}, index...), i)
			if strings.Contains(opts, "inline") && sf.Type.Kind() == reflect.Struct {
				walk(sf.Type, idx)
				continue
			}
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(sf.Name)
			}
			p := Param{Name: name, Type: typeWord(sf.Type), Doc: fieldDocs[t.Name()+"."+sf.Name]}
			p.Default = defaultOf(zero, name, p.Doc, reflect.ValueOf(zero).Elem().FieldByIndex(idx))
			p.Allowed = allowed(info, idx, name)
			out = append(out, p)
		}
	}
	walk(reflect.TypeOf(zero).Elem(), nil)
	return out, nil
}

var (
	durationType = reflect.TypeFor[profile.Duration]()
	rateType     = reflect.TypeFor[ByteRate]()
	phaseType    = reflect.TypeFor[profile.Phase]()
	secretType   = reflect.TypeFor[profile.Secret]()
)

// typeWord names a parameter's type as a scenario author writes it.
func typeWord(t reflect.Type) string {
	switch t {
	case durationType:
		return "duration"
	case rateType:
		return "rate"
	case phaseType:
		return "phase"
	case secretType:
		return "secret"
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "list of " + typeWord(t.Elem())
	case reflect.Map:
		return "map of " + typeWord(t.Key()) + " to " + typeWord(t.Elem())
	case reflect.Pointer:
		return typeWord(t.Elem())
	case reflect.Struct:
		var names []string
		for i := range t.NumField() {
			if sf := t.Field(i); sf.IsExported() {
				n, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
				names = append(names, n)
			}
		}
		return "{" + strings.Join(names, ", ") + "}"
	}
	return t.String()
}

var defaultInDoc = regexp.MustCompile(`\(default:? ([^)]*)\)`)

// defaultOf is the default a parameter's doc names ("(default 1)"), the
// phase a phase-bound kind acts at when at is absent, or the fresh
// fault's non-zero value.
func defaultOf(zero Fault, name, doc string, v reflect.Value) string {
	if m := defaultInDoc.FindStringSubmatch(doc); m != nil {
		return m[1]
	}
	if pb, ok := zero.(PhaseBinder); ok && name == "at" {
		p, _ := pb.BoundPhase()
		return string(p)
	}
	if !v.IsZero() {
		return fmt.Sprint(v.Interface())
	}
	return ""
}

var wantOneOf = regexp.MustCompile(`(?:is not one of|want one of) ([^()]+)`)

// allowed asks the fault's own Validate which values a string (or list of
// strings) parameter takes: it sets a value no list holds and reads the
// values the error names.
func allowed(info Info, idx []int, name string) []string {
	f := info.New()
	v := reflect.ValueOf(f).Elem().FieldByIndex(idx)
	const bogus = "\x7f"
	switch {
	case v.Kind() == reflect.String:
		v.SetString(bogus)
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.String:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		s.Index(0).SetString(bogus)
		v.Set(s)
	default:
		return nil
	}
	for _, err := range flattenErrs(f.Validate()) {
		var fe *FieldError
		if !errors.As(err, &fe) || (fe.Field != name && !strings.HasPrefix(fe.Field, name+"[")) {
			continue
		}
		if m := wantOneOf.FindStringSubmatch(fe.Err.Error()); m != nil {
			var out []string
			for _, s := range strings.Split(m[1], ",") {
				if s = strings.Trim(strings.TrimSpace(s), `".`); s != "" {
					out = append(out, s)
				}
			}
			return out
		}
	}
	return nil
}

// flattenErrs lists the errors joined in err.
func flattenErrs(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, e := range j.Unwrap() {
			out = append(out, flattenErrs(e)...)
		}
		return out
	}
	return []error{err}
}
