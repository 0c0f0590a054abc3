package faults

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// hooksOf lists the hook interfaces f implements.
func hooksOf(f Fault) []string {
	var hs []string
	if _, ok := f.(ConnHook); ok {
		hs = append(hs, "tcp")
	}
	if _, ok := f.(DNSHook); ok {
		hs = append(hs, "dns")
	}
	if _, ok := f.(TLSHook); ok {
		hs = append(hs, "tls")
	}
	if _, ok := f.(HTTPHook); ok {
		hs = append(hs, "http")
	}
	if _, ok := f.(ProxyHook); ok {
		hs = append(hs, "proxy")
	}
	return hs
}

func TestConformance(t *testing.T) {
	kinds := Kinds()
	if len(kinds) < 30 {
		t.Fatalf("only %d kinds registered: %v", len(kinds), kinds)
	}
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			info, ok := Lookup(kind)
			if !ok || info.Kind != kind {
				t.Fatalf("Lookup(%q) = %+v, %v", kind, info, ok)
			}
			if info.Summary == "" || strings.HasSuffix(info.Summary, ".") || info.Summary != strings.ToLower(info.Summary[:1])+info.Summary[1:] {
				t.Errorf("summary %q: want one lowercase line without a final period", info.Summary)
			}
			a, b := info.New(), info.New()
			// Zero-size structs may share an address; the rest must not.
			if reflect.ValueOf(a).Kind() != reflect.Pointer || (a == b && reflect.TypeOf(a).Elem().Size() > 0) {
				t.Errorf("New must return a distinct pointer each call")
			}
			if hs := hooksOf(a); len(hs) != 1 || hs[0] != info.Layer() {
				t.Errorf("kind %s implements hooks %v, want exactly [%s]", kind, hs, info.Layer())
			}
			// The zero value is either valid or rejected with field errors
			// that name a yaml key of the type.
			err := a.Validate()
			keys := yamlKeys(reflect.TypeOf(a).Elem())
			for _, e := range flatten(err) {
				var fe *FieldError
				if !errors.As(e, &fe) {
					t.Errorf("zero value: error %q is not a *FieldError", e)
					continue
				}
				if !keys[fe.Field] {
					t.Errorf("zero value: error names field %q, which is not a yaml key of %T (%v)", fe.Field, a, keys)
				}
			}
			for k := range keys {
				if k != strings.ToLower(k) || strings.Contains(k, "-") {
					t.Errorf("yaml key %q: want snake_case", k)
				}
			}
		})
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

// yamlKeys returns the yaml keys of a struct type, following inline fields.
func yamlKeys(t reflect.Type) map[string]bool {
	keys := map[string]bool{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if strings.Contains(opts, "inline") {
			for k := range yamlKeys(f.Type) {
				keys[k] = true
			}
			continue
		}
		if name != "" && name != "-" {
			keys[name] = true
		}
	}
	return keys
}

func TestRegisterRejects(t *testing.T) {
	for _, tc := range []struct {
		name string
		info Info
	}{
		{"duplicate", Info{Kind: "dns.nxdomain", Summary: "x", New: func() Fault { return new(NXDomain) }}},
		{"no layer", Info{Kind: "nxdomain", Summary: "x", New: func() Fault { return new(NXDomain) }}},
		{"bad layer", Info{Kind: "udp.x", Summary: "x", New: func() Fault { return new(NXDomain) }}},
		{"upper case", Info{Kind: "dns.NX", Summary: "x", New: func() Fault { return new(NXDomain) }}},
		{"no summary", Info{Kind: "dns.zz_test", New: func() Fault { return new(NXDomain) }}},
		{"no constructor", Info{Kind: "dns.zz_test", Summary: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%+v) did not panic", tc.info)
				}
			}()
			Register(tc.info)
		})
	}
	if _, err := New("dns.nope"); err == nil {
		t.Error("New of an unknown kind succeeded")
	}
}
