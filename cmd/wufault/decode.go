package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/codes"
)

// decodedCode is the JSON form of one decoded code.
type decodedCode struct {
	Input       string   `json:"input"`
	Code        string   `json:"code"`
	Name        string   `json:"name,omitempty"`
	Decimal     int32    `json:"decimal"`
	Facility    string   `json:"facility"`
	Win32       uint32   `json:"win32,omitempty"`
	Description string   `json:"description,omitempty"`
	Causes      string   `json:"causes,omitempty"`
	Aliases     []string `json:"aliases,omitempty"`
	Source      string   `json:"source,omitempty"`
	Known       bool     `json:"known"`
}

func (a *app) decodeCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "decode CODE...",
		Short: "Explain Windows Update, WinHTTP, BITS and DO error codes",
		Long: `decode prints the name, meaning and likely network causes of each code.
Codes may be written 0x80072EFE, 80072EFE, [80072EFE], -2147012866, 12030 (a Win32/WinHTTP
error number) or by name. It exits 1 if any code is unknown.`,
		Example: "  wufault decode 0x80072EFE 8024402C -2147012889",
		// Signed decimals such as -2147012889 look like flags to pflag, so
		// this command reads its own few flags.
		DisableFlagParsing: true,
		RunE: func(cmd *cobra.Command, all []string) error {
			var args []string
			global := false
			for n := 0; n < len(all); n++ {
				arg := all[n]
				name, value, hasValue := strings.Cut(strings.TrimPrefix(arg, "--"), "=")
				// The root's flags (--config, --log-level, --state-dir) take
				// a value, inline or as the next argument.
				if f := cmd.Root().PersistentFlags().Lookup(name); f != nil && strings.HasPrefix(arg, "--") {
					if !hasValue {
						if n+1 >= len(all) {
							return failf("flag needs an argument: --%s", name)
						}
						n++
						value = all[n]
					}
					if err := cmd.Root().PersistentFlags().Set(name, value); err != nil {
						return failf("--%s: %s", name, err)
					}
					global = true
					continue
				}
				switch arg {
				case "--json":
					asJSON = true
				case "-h", "--help":
					return cmd.Help()
				case "--":
				default:
					args = append(args, arg)
				}
			}
			if global {
				if err := a.configure(cmd); err != nil {
					return err
				}
			}
			if len(args) == 0 {
				return failf("decode needs at least one code, e.g. wufault decode 0x80072EFE")
			}
			var out []decodedCode
			var problems []string
			for _, arg := range args {
				c, err := codes.Parse(arg)
				if err != nil {
					problems = append(problems, err.Error())
					continue
				}
				d := decodedCode{Input: arg, Code: c.Hex(), Decimal: c.Signed(), Facility: c.Facility().String()}
				d.Win32, _ = c.Win32()
				if info, ok := codes.Lookup(c); ok {
					d.Known, d.Name, d.Description, d.Causes, d.Aliases, d.Source = true, info.Name, info.Meaning, info.Causes, info.Aliases, info.Source
				} else {
					problems = append(problems, fmt.Sprintf("%s is not in the code catalog (facility %s)", c.Hex(), c.Facility()))
				}
				out = append(out, d)
			}
			if asJSON {
				if err := a.printJSON(out); err != nil {
					return err
				}
			} else {
				for _, d := range out {
					printDecoded(a, d)
				}
			}
			if len(problems) > 0 {
				return failf("%s", strings.Join(problems, "\n"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON objects (code, name, decimal, description, …)")
	return cmd
}

func printDecoded(a *app, d decodedCode) {
	if !d.Known {
		fmt.Fprintf(a.stdout, "%s  (unknown)\n  decimal   %d\n  facility  %s\n\n", d.Code, d.Decimal, d.Facility)
		return
	}
	fmt.Fprintf(a.stdout, "%s  %s\n", d.Code, d.Name)
	fmt.Fprintf(a.stdout, "  meaning   %s\n", d.Description)
	if d.Causes != "" {
		fmt.Fprintf(a.stdout, "  causes    %s\n", d.Causes)
	}
	fmt.Fprintf(a.stdout, "  decimal   %d\n  facility  %s", d.Decimal, d.Facility)
	if d.Win32 != 0 {
		fmt.Fprintf(a.stdout, " (Win32 error %d)", d.Win32)
	}
	fmt.Fprintln(a.stdout)
	if len(d.Aliases) > 0 {
		fmt.Fprintf(a.stdout, "  aliases   %s\n", strings.Join(d.Aliases, ", "))
	}
	if d.Source != "" {
		fmt.Fprintf(a.stdout, "  source    %s\n", d.Source)
		for _, tag := range codes.SourceTags(d.Source) {
			fmt.Fprintf(a.stdout, "            [%s] %s\n", tag, codes.SourceLink(tag))
		}
	}
	fmt.Fprintln(a.stdout)
}
