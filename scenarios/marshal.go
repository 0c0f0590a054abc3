package scenarios

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"

	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
	"github.com/wufault/wufault/faults"
)

// Marshal writes sc back as YAML in canonical form: keys in schema order,
// defaults omitted, passwords redacted. Loading the result gives sc again
// (but for redacted passwords).
func Marshal(sc *Scenario) ([]byte, error) {
	type out struct {
		Name    string           `yaml:"name"`
		Summary string           `yaml:"summary,omitempty"`
		Codes   []codes.Code     `yaml:"codes,flow,omitempty"`
		Notes   string           `yaml:"notes,omitempty"`
		Seed    int64            `yaml:"seed,omitempty"`
		Profile *profile.Profile `yaml:"profile,omitempty"`
		Faults  []*yaml.Node     `yaml:"faults,omitempty"`
		Expect  *Expect          `yaml:"expect,omitempty"`
		Fixes   []FixCheck       `yaml:"fixes,omitempty"`
	}
	o := out{Name: sc.Name, Summary: sc.Summary, Codes: sc.Codes, Notes: sc.Notes, Seed: sc.Seed, Expect: sc.Expect, Fixes: sc.Fixes}
	if !reflect.ValueOf(sc.Profile).IsZero() {
		o.Profile = &sc.Profile
	}
	for i, sp := range sc.Faults {
		n, err := specNode(sp)
		if err != nil {
			return nil, fmt.Errorf("faults[%d]: %w", i, err)
		}
		o.Faults = append(o.Faults, n)
	}
	return yaml.Marshal(o)
}

func specNode(s faults.Spec) (*yaml.Node, error) {
	params := &yaml.Node{}
	if err := params.Encode(s.Fault); err != nil {
		return nil, err
	}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v} }
	head := []*yaml.Node{str("kind"), str(s.Kind)}
	for _, part := range []struct {
		key string
		v   any
	}{{"match", s.Match}, {"when", s.When}} {
		if reflect.ValueOf(part.v).IsZero() {
			continue
		}
		n := &yaml.Node{}
		if err := n.Encode(part.v); err != nil {
			return nil, err
		}
		n.Style = yaml.FlowStyle
		head = append(head, str(part.key), n)
	}
	return &yaml.Node{Kind: yaml.MappingNode, Content: append(head, params.Content...)}, nil
}
