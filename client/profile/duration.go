package profile

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Duration is a time.Duration written as a Go duration string ("500ms",
// "1m30s") in scenarios and JSON. Bare numbers are refused: "30" could mean
// seconds or milliseconds, and toxiproxy's millisecond integers are a
// lesson.
type Duration time.Duration

// D returns d as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string { return time.Duration(d).String() }

// MarshalText writes the Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	s := strings.TrimSpace(string(b))
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration (want e.g. 500ms, 30s, 2m)", s)
	}
	*d = Duration(v)
	return nil
}

// UnmarshalYAML refuses non-string scalars with a clear message.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || n.Tag == "!!int" || n.Tag == "!!float" {
		return fmt.Errorf("%q is not a duration (want a unit, e.g. 500ms, 30s, 2m)", n.Value)
	}
	return d.UnmarshalText([]byte(n.Value))
}
