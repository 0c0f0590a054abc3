package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/viper"

	"github.com/wufault/wufault/client/buildinfo"
)

// app is the state one invocation of the command shares: the writers, the
// configuration (file < WUFAULT_* environment < flags) and the logger.
type app struct {
	stdout, stderr io.Writer
	v              *viper.Viper
	log            *slog.Logger
}

// run executes the command line args. It is main without os: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	a := &app{
		stdout: stdout,
		stderr: stderr,
		// A private instance: never viper's global. "::" as the key
		// delimiter keeps dotted host names whole; lists are used for hosts anyway.
		v: viper.NewWithOptions(viper.KeyDelimiter("::"), viper.ExperimentalBindStruct()),
	}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "wufault",
		Short: "Reproduce Windows Update network errors on demand",
		Long: `wufault injects network faults (DNS, TCP, TLS, HTTP, proxy authentication) in front of
Windows Update traffic and observes which Windows Update Agent code each fault produces.

Configuration comes from flags, then the environment, then a YAML file (--config): its
top-level keys are flag names, and a section per command (serve:, probe:, lab: …) holds that
command's own. WUFAULT_<FLAG> (WUFAULT_LOG_LEVEL) applies to every command,
WUFAULT_<COMMAND>_<FLAG> (WUFAULT_SERVE_PROXY, WUFAULT_PROBE_PROXY) to one. proxy and dns
mean a listen address for serve and a proxy URL / DNS servers for probe, so they are only
read per command.`,
		Version:       buildinfo.Read("wufault").String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return a.configure(cmd)
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	pf := root.PersistentFlags()
	pf.String("config", "", "YAML configuration file (keys are flag names)")
	pf.String("log-level", "warn", "log level: debug, info, warn or error")
	pf.String("state-dir", defaultStateDir(), "directory for the lab CA and other state")
	root.AddCommand(
		a.caCommand(),
		a.decodeCommand(),
		a.faultsCommand(),
		a.scenariosCommand(),
		a.serveCommand(),
		a.labCommand(),
		a.runCommand(),
		a.matrixCommand(),
		a.verifyCommand(),
		a.probeCommand(),
		a.logsCommand(), a.analyzeCommand(),
		a.ctlCommand(), a.vmSetupCommand(),
		a.versionCommand(),
		a.atlasCommand(), a.explainCommand(),
	)
	strictGroups(root)
	completions(root)
	return root
}

// strictGroups makes every command group (a command with subcommands and
// no action of its own) fail on an unknown subcommand with a suggestion,
// instead of printing its help and exiting 0: scripts must notice a typo.
func strictGroups(c *cobra.Command) {
	for _, s := range c.Commands() {
		strictGroups(s)
	}
	if !c.HasSubCommands() || c.Runnable() || !c.HasParent() {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.SuggestionsMinimumDistance = 2
	c.RunE = func(cmd *cobra.Command, args []string) error {
		if len(args) == 0 {
			return cmd.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
		if sug := cmd.SuggestionsFor(args[0]); len(sug) > 0 {
			msg += fmt.Sprintf("; did you mean %q?", sug[0])
		}
		return &exitError{code: 2, err: fmt.Errorf("%s (%s --help lists them)", msg, cmd.CommandPath())}
	}
}

func defaultStateDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return d + string(os.PathSeparator) + "wufault"
	}
	return ".wufault"
}

// configure sets the command's flags from the environment and the config
// file (config.go), binds them into the app's viper instance, then builds
// the logger.
func (a *app) configure(cmd *cobra.Command) error {
	file, _ := cmd.Flags().GetString("config")
	if f := cmd.Flags().Lookup("config"); f != nil && !f.Changed {
		if env, ok := os.LookupEnv("WUFAULT_CONFIG"); ok {
			file = env
		}
	}
	var cf *configFile
	if file != "" {
		var err error
		if cf, err = readConfigFile(file, cmd.Root()); err != nil {
			return err
		}
	}
	if err := applyConfig(cmd, cf, os.LookupEnv); err != nil {
		return err
	}
	if err := a.v.BindPFlags(cmd.Flags()); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.v.GetString("log-level"))); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	a.log = slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: level}))
	return nil
}

// printJSON writes v to standard output as indented JSON.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// parseFiles opens each file and parses it; files that cannot be opened or
// parsed are problems (a partial result still counts unless its error is
// notOurs: the file is not of this kind at all), and parser warnings go to
// standard error.
func parseFiles[T any](a *app, files []string, parse func(io.Reader, string) (T, []string, error), notOurs error) ([]T, []string) {
	var out []T
	var problems []string
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		res, warnings, err := parse(f, name)
		f.Close()
		for _, w := range warnings {
			fmt.Fprintln(a.stderr, "warning:", w)
		}
		if err != nil {
			problems = append(problems, err.Error())
			if errors.Is(err, notOurs) {
				continue
			}
		}
		out = append(out, res)
	}
	return out, problems
}

// failf returns an error that makes the process exit with status 1.
func failf(format string, args ...any) error {
	return &exitError{code: 1, err: fmt.Errorf(format, args...)}
}

func (a *app) versionCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the module version and VCS revision this binary was built from",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			i := buildinfo.Read("wufault")
			if asJSON {
				return a.printJSON(i)
			}
			_, err := fmt.Fprintln(a.stdout, i)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (version, revision, time, modified, go, platform)")
	return cmd
}
