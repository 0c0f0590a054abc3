package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"
)

// Values are checked by the flag's type and rule wherever they come from,
// and the error names the source: file:line, the variable, the flag.
func TestConfigTypeChecks(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "wufault.yaml")
	os.WriteFile(cfg, []byte("log-level: info\nparallel: abc\n"), 0o600)
	if _, errs, status := runCmd(t, "--config", cfg, "lab"); status == 0 || !strings.Contains(errs, "wufault.yaml:2: parallel: want an integer") {
		t.Errorf("file: status %d, stderr %q", status, errs)
	}
	// A bad value fails even for a command without that flag: the file is wrong.
	if _, errs, status := runCmd(t, "--config", cfg, "faults", "list"); status == 0 || !strings.Contains(errs, "wufault.yaml:2:") {
		t.Errorf("file, other command: status %d, stderr %q", status, errs)
	}
	t.Setenv("WUFAULT_PARALLEL", "abc")
	if _, errs, status := runCmd(t, "lab"); status == 0 || !strings.Contains(errs, "WUFAULT_PARALLEL=abc: want an integer") {
		t.Errorf("env: status %d, stderr %q", status, errs)
	}
	t.Setenv("WUFAULT_PARALLEL", "-2")
	if _, errs, status := runCmd(t, "lab"); status == 0 || !strings.Contains(errs, "WUFAULT_PARALLEL=-2: must be >= 0") {
		t.Errorf("env range: status %d, stderr %q", status, errs)
	}
	os.Unsetenv("WUFAULT_PARALLEL")
	if _, errs, status := runCmd(t, "lab", "--parallel", "-1"); status == 0 || !strings.Contains(errs, "--parallel: must be >= 0") {
		t.Errorf("flag: status %d, stderr %q", status, errs)
	}
	os.WriteFile(cfg, []byte("serve:\n  max-stall: 10\n  parallel: 2\n"), 0o600)
	_, errs, status := runCmd(t, "--config", cfg, "faults", "list")
	if status == 0 || !strings.Contains(errs, "wufault.yaml:2: serve.max-stall: want a duration") || !strings.Contains(errs, `wufault.yaml:3: serve: unknown key "parallel"`) {
		t.Errorf("section: status %d, stderr %q", status, errs)
	}
}

// configured returns cmdPath's flags after the configuration layers, with
// env as the environment.
func configured(t *testing.T, file string, env map[string]string, cmdPath ...string) *cobra.Command {
	t.Helper()
	a := &app{stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, v: viper.New()}
	root := a.rootCommand()
	cmd, _, err := root.Find(cmdPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.ParseFlags(nil); err != nil {
		t.Fatal(err)
	}
	var cf *configFile
	if file != "" {
		if cf, err = readConfigFile(file, root); err != nil {
			t.Fatal(err)
		}
	}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	if err := applyConfig(cmd, cf, lookup); err != nil {
		t.Fatal(err)
	}
	return cmd
}

// readmeConfig extracts the example configuration file from the README.
func readmeConfig(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile("(?s)<!-- config example -->\\s*```yaml\n(.*?)```").FindSubmatch(b)
	if m == nil {
		t.Fatal("README has no config example")
	}
	f := filepath.Join(t.TempDir(), "wufault.yaml")
	os.WriteFile(f, m[1], 0o600)
	return f
}

// The README's example file loads; serve and probe each read their own
// proxy and dns from their section, and WUFAULT_<COMMAND>_<FLAG> wins over
// the file.
func TestConfigSections(t *testing.T) {
	file := readmeConfig(t)
	if _, errs, status := runCmd(t, "--config", file, "faults", "list"); status != 0 {
		t.Fatalf("README example does not load: %s", errs)
	}
	get := func(c *cobra.Command, name string) string { return c.Flags().Lookup(name).Value.String() }
	serve := configured(t, file, nil, "serve")
	probe := configured(t, file, nil, "probe")
	if get(serve, "proxy") != "0.0.0.0:8080" || get(probe, "proxy") != "http://proxy.corp.example:3128" {
		t.Errorf("proxy: serve %q, probe %q", get(serve, "proxy"), get(probe, "proxy"))
	}
	if get(serve, "dns") != "0.0.0.0:53" || get(probe, "dns") != "[10.0.0.53]" {
		t.Errorf("dns: serve %q, probe %q", get(serve, "dns"), get(probe, "dns"))
	}
	if get(serve, "log-level") != "info" || get(configured(t, file, nil, "lab"), "parallel") != "2" {
		t.Error("top-level and lab section keys not applied")
	}
	env := map[string]string{"WUFAULT_SERVE_PROXY": "127.0.0.1:3128", "WUFAULT_PROBE_PROXY": "http://other:8080", "WUFAULT_LOG_LEVEL": "debug"}
	serve = configured(t, file, env, "serve")
	probe = configured(t, file, env, "probe")
	if get(serve, "proxy") != "127.0.0.1:3128" || get(probe, "proxy") != "http://other:8080" || get(serve, "log-level") != "debug" {
		t.Errorf("env: serve %q, probe %q, log-level %q", get(serve, "proxy"), get(probe, "proxy"), get(serve, "log-level"))
	}
	// WUFAULT_PROXY would mean two things: refused with the right names.
	t.Setenv("WUFAULT_PROXY", "http://proxy:3128")
	if _, errs, status := runCmd(t, "serve"); status == 0 || !strings.Contains(errs, "set WUFAULT_SERVE_PROXY instead") {
		t.Errorf("WUFAULT_PROXY for serve: %d %q", status, errs)
	}
}

// Completion offers scenario names, fix ids and --format values, not
// only commands and flags.
func TestCompletion(t *testing.T) {
	for args, want := range map[string][]string{
		"run dns-nx":                  {"dns-nxdomain-scan\t", "dns-nxdomain-transient\t"},
		"scenarios fixes flush":       {"flush-dns\tFlush the DNS client cache"},
		"matrix --format j":           {"json", "junit"},
		"serve --scenario tls-cert-e": {"tls-cert-expired\t"},
		"faults show tcp.re":          {"tcp.reset\t"},
	} {
		out, _, status := runCmd(t, append([]string{"__complete"}, strings.Fields(args+" ")...)...)
		for _, w := range want {
			if status != 0 || !strings.Contains(out, w) {
				t.Errorf("complete %q: status %d, lacks %q:\n%s", args, status, w, out)
			}
		}
		if strings.Contains(out, "healthy-lab") {
			t.Errorf("complete %q offers names without the prefix:\n%s", args, out)
		}
	}
}
