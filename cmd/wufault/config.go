package main

import (
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/wufault/wufault/faults"
	"github.com/wufault/wufault/scenarios"
	"github.com/wufault/wufault/verify"
)

// Configuration: a flag on the command line wins, then the environment
// (WUFAULT_<COMMAND>_<FLAG>, then WUFAULT_<FLAG>), then the --config file
// (the command's section, then the top level). Every value, wherever it
// comes from, is parsed by the flag's own type and checked by the flag's
// rule, and an error names where the value came from: the flag, the
// environment variable or file:line.

// perCommandKeys are flag names whose meaning differs between commands:
// they are read only from a command's section of the file and from
// WUFAULT_<COMMAND>_<FLAG>, never from the top level or WUFAULT_<FLAG>.
var perCommandKeys = map[string]string{
	"proxy": "a listen address (host:port) for serve, a proxy URL for probe",
	"dns":   "a listen address (host:port) for serve, DNS servers to ask for probe",
}

// flagRules check values beyond their type.
var flagRules = map[string]func(pflag.Value) error{
	"parallel":   intAtLeast(0),
	"dns-port":   portList,
	"time-scale": positiveFloat,
	"timeout":    durationAtLeast(0),
	"max-stall":  durationAtLeast(time.Millisecond),
	"stall":      durationAtLeast(time.Millisecond),
	"window":     durationAtLeast(0),
}

func intAtLeast(min int) func(pflag.Value) error {
	return func(v pflag.Value) error {
		if n, err := strconv.Atoi(v.String()); err == nil && n < min {
			return fmt.Errorf("must be >= %d, not %d", min, n)
		}
		return nil
	}
}

func durationAtLeast(min time.Duration) func(pflag.Value) error {
	return func(v pflag.Value) error {
		if d, err := time.ParseDuration(v.String()); err == nil && d < min {
			return fmt.Errorf("must be at least %s, not %s", min, d)
		}
		return nil
	}
}

func positiveFloat(v pflag.Value) error {
	if f, err := strconv.ParseFloat(v.String(), 64); err == nil && !(f > 0) {
		return fmt.Errorf("must be > 0, not %s", v.String())
	}
	return nil
}

func portList(v pflag.Value) error {
	sv, ok := v.(pflag.SliceValue)
	if !ok {
		return nil
	}
	for _, p := range sv.GetSlice() {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("port %s: want 1 to 65535", p)
		}
	}
	return nil
}

// section is the config-file section and environment infix of cmd: its
// top-level command's name ("serve", "probe", "ca" for ca init).
func section(cmd *cobra.Command) string {
	for cmd.HasParent() && cmd.Parent().HasParent() {
		cmd = cmd.Parent()
	}
	if !cmd.HasParent() {
		return ""
	}
	return cmd.Name()
}

// envName is the environment variable of a flag, in a section or not.
func envName(sec, flag string) string {
	name := "WUFAULT_"
	if sec != "" {
		name += strings.ToUpper(sec) + "_"
	}
	return name + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// configValue is one value from the file, with its line.
type configValue struct {
	node *yaml.Node
	line int
}

// configFile is a parsed --config file: top-level keys and sections.
type configFile struct {
	name     string
	top      map[string]configValue
	sections map[string]map[string]configValue
}

// flagIndex maps every flag name to its flags, per top-level command.
type flagIndex struct {
	any   map[string]*pflag.Flag            // some command's flag of this name
	byCmd map[string]map[string]*pflag.Flag // section → flag name → flag
}

func indexFlags(root *cobra.Command) flagIndex {
	ix := flagIndex{any: map[string]*pflag.Flag{}, byCmd: map[string]map[string]*pflag.Flag{}}
	var walk func(c *cobra.Command, sec string)
	walk = func(c *cobra.Command, sec string) {
		for _, fs := range []*pflag.FlagSet{c.Flags(), c.PersistentFlags()} {
			fs.VisitAll(func(f *pflag.Flag) {
				if _, ok := ix.any[f.Name]; !ok {
					ix.any[f.Name] = f
				}
				if sec != "" {
					if ix.byCmd[sec] == nil {
						ix.byCmd[sec] = map[string]*pflag.Flag{}
					}
					ix.byCmd[sec][f.Name] = f
				}
			})
		}
		for _, s := range c.Commands() {
			if sec == "" {
				walk(s, s.Name())
			} else {
				walk(s, sec)
			}
		}
	}
	walk(root, "")
	return ix
}

// readConfigFile parses and checks the file: every key is a flag of some
// command (of the section's command in a section), per-command keys are
// only in sections, and every value parses as its flag's type and passes
// its rule. All problems are reported at once, with file:line.
func readConfigFile(file string, root *cobra.Command) (*configFile, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cf := &configFile{name: file, top: map[string]configValue{}, sections: map[string]map[string]configValue{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("config %s: %w", file, err)
	}
	if len(doc.Content) == 0 {
		return cf, nil
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a mapping of flag names (and command sections) to values", file, m.Line)
	}
	ix := indexFlags(root)
	var bad []string
	problem := func(line int, format string, args ...any) {
		bad = append(bad, fmt.Sprintf("%s:%d: %s", file, line, fmt.Sprintf(format, args...)))
	}
	check := func(f *pflag.Flag, key string, v *yaml.Node) {
		if err := checkValue(f, v); err != nil {
			problem(v.Line, "%s: %v", key, err)
		}
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if flags, ok := ix.byCmd[k.Value]; ok && v.Kind == yaml.MappingNode {
			sec := map[string]configValue{}
			cf.sections[k.Value] = sec
			for j := 0; j+1 < len(v.Content); j += 2 {
				sk, sv := v.Content[j], v.Content[j+1]
				f, ok := flags[sk.Value]
				if !ok {
					problem(sk.Line, "%s: unknown key %q (keys in a command's section are its flag names)", k.Value, sk.Value)
					continue
				}
				check(f, k.Value+"."+sk.Value, sv)
				sec[sk.Value] = configValue{sv, sv.Line}
			}
			continue
		}
		f, ok := ix.any[k.Value]
		switch {
		case !ok:
			problem(k.Line, "unknown key %q (config keys are flag names, or a command's name for its section)", k.Value)
		case perCommandKeys[k.Value] != "":
			problem(k.Line, "%q means %s: put it under serve: or probe:", k.Value, perCommandKeys[k.Value])
		case k.Value == "config":
			problem(k.Line, "a config file cannot name another")
		default:
			check(f, k.Value, v)
			cf.top[k.Value] = configValue{v, v.Line}
		}
	}
	if len(bad) > 0 {
		slices.Sort(bad)
		return nil, fmt.Errorf("%s", strings.Join(bad, "\n"))
	}
	return cf, nil
}

// scalars returns the node's values as the strings a flag's Set takes: a
// sequence gives one per element.
func scalars(v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		out := make([]string, 0, len(v.Content))
		for _, e := range v.Content {
			if e.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("want a list of values")
			}
			out = append(out, e.Value)
		}
		return out, nil
	}
	return nil, fmt.Errorf("want a value or a list of values")
}

// checkValue parses v with a fresh flag of f's type (f itself is left
// alone) and applies f's rule.
func checkValue(f *pflag.Flag, v *yaml.Node) error {
	vals, err := scalars(v)
	if err != nil {
		return err
	}
	fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
	switch f.Value.Type() {
	case "bool":
		fs.Bool("v", false, "")
	case "int":
		fs.Int("v", 0, "")
	case "float64":
		fs.Float64("v", 0, "")
	case "duration":
		fs.Duration("v", 0, "")
	case "intSlice":
		fs.IntSlice("v", nil, "")
	case "stringSlice":
		fs.StringSlice("v", nil, "")
	default:
		fs.String("v", "", "")
	}
	probe := fs.Lookup("v").Value
	if len(vals) > 1 && !strings.HasSuffix(f.Value.Type(), "Slice") {
		return fmt.Errorf("want one %s, not a list", f.Value.Type())
	}
	for _, s := range vals {
		if err := probe.Set(s); err != nil {
			return fmt.Errorf("want %s: %w", typeWord(f.Value.Type()), err)
		}
	}
	if rule := flagRules[f.Name]; rule != nil {
		return rule(probe)
	}
	return nil
}

func typeWord(t string) string {
	switch t {
	case "int":
		return "an integer"
	case "float64":
		return "a number"
	case "duration":
		return "a duration such as 30s or 2m"
	case "bool":
		return "true or false"
	case "intSlice":
		return "a list of integers"
	}
	return t
}

// applyConfig sets every flag of cmd that the command line did not set
// from the environment or the file, in that order, naming the source of a
// bad value.
func applyConfig(cmd *cobra.Command, cf *configFile, lookupEnv func(string) (string, bool)) error {
	sec := section(cmd)
	fs := cmd.Flags()
	cmd.InheritedFlags() // merges the root's persistent flags into fs
	var errs []string
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			// From the command line: the rule still holds.
			if rule := flagRules[f.Name]; rule != nil {
				if err := rule(f.Value); err != nil {
					errs = append(errs, fmt.Sprintf("--%s: %v", f.Name, err))
				}
			}
			return
		}
		if f.Name == "config" {
			return
		}
		set := func(src string, vals []string) {
			for _, s := range vals {
				if err := f.Value.Set(s); err != nil {
					errs = append(errs, fmt.Sprintf("%s: want %s: %v", src, typeWord(f.Value.Type()), err))
					return
				}
			}
			f.Changed = true
			if rule := flagRules[f.Name]; rule != nil {
				if err := rule(f.Value); err != nil {
					errs = append(errs, fmt.Sprintf("%s: %v", src, err))
				}
			}
		}
		perCmd := perCommandKeys[f.Name] != ""
		if sec != "" {
			if s, ok := lookupEnv(envName(sec, f.Name)); ok {
				set(envName(sec, f.Name)+"="+s, envList(f, s))
				return
			}
		}
		if s, ok := lookupEnv(envName("", f.Name)); ok {
			if perCmd {
				errs = append(errs, fmt.Sprintf("%s: %q means %s; set %s instead", envName("", f.Name), f.Name, perCommandKeys[f.Name], envName(sec, f.Name)))
				return
			}
			set(envName("", f.Name)+"="+s, envList(f, s))
			return
		}
		if cf == nil {
			return
		}
		if v, ok := cf.sections[sec][f.Name]; ok {
			vals, _ := scalars(v.node)
			set(fmt.Sprintf("%s:%d: %s.%s", cf.name, v.line, sec, f.Name), vals)
			return
		}
		if v, ok := cf.top[f.Name]; ok {
			vals, _ := scalars(v.node)
			set(fmt.Sprintf("%s:%d: %s", cf.name, v.line, f.Name), vals)
		}
	})
	if len(errs) > 0 {
		return fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return nil
}

// envList splits a slice flag's environment value on commas or spaces.
func envList(f *pflag.Flag, s string) []string {
	if !strings.HasSuffix(f.Value.Type(), "Slice") {
		return []string{s}
	}
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' })
}

// Completion: the names a shell may offer for arguments and flag values.

func scenarioNames(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	all, err := scenarios.Catalog()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	out := make([]cobra.Completion, 0, len(all))
	for _, sc := range all {
		if !strings.HasPrefix(sc.Name, prefix) {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(sc.Name, sc.Summary))
	}
	// A scenario may also be a YAML file.
	return out, cobra.ShellCompDirectiveDefault
}

func fixIDs(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	out := make([]cobra.Completion, 0, len(scenarios.Fixes))
	for _, f := range scenarios.Fixes {
		if !strings.HasPrefix(f.ID, prefix) {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(f.ID, f.Title))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func faultKinds(_ *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	for _, i := range faults.All() {
		if !strings.HasPrefix(i.Kind, prefix) {
			continue
		}
		out = append(out, cobra.CompletionWithDesc(i.Kind, i.Summary))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func fixedValues(vals ...string) cobra.CompletionFunc {
	return cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp)
}

// completions wires the value completions into the command tree.
func completions(root *cobra.Command) {
	for _, path := range [][]string{{"run"}, {"matrix"}, {"verify"}, {"scenarios", "show"}} {
		if c, _, err := root.Find(path); err == nil {
			c.ValidArgsFunction = scenarioNames
		}
	}
	if c, _, err := root.Find([]string{"scenarios", "fixes"}); err == nil {
		c.ValidArgsFunction = fixIDs
	}
	if c, _, err := root.Find([]string{"faults", "show"}); err == nil && c.Name() == "show" {
		c.ValidArgsFunction = faultKinds
	}
	if c, _, err := root.Find([]string{"serve"}); err == nil {
		_ = c.RegisterFlagCompletionFunc("scenario", scenarioNames)
	}
	if c, _, err := root.Find([]string{"matrix"}); err == nil {
		_ = c.RegisterFlagCompletionFunc("format", fixedValues(verify.Formats...))
	}
	_ = root.RegisterFlagCompletionFunc("log-level", fixedValues("debug", "info", "warn", "error"))
	if c, _, err := root.Find([]string{"probe"}); err == nil {
		_ = c.RegisterFlagCompletionFunc("generation", fixedValues("modern", "legacy"))
		_ = c.RegisterFlagCompletionFunc("download", fixedValues("do", "bits"))
	}
}
