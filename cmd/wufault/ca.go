package main

import (
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/simulate"
)

func (a *app) caCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "ca",
		Short: "The lab CA that signs the certificates of intercepted and faulty TLS",
		Long: `The lab CA is an ECDSA P-256 root kept in the state directory (key file mode 0600,
directory 0700), created on first use. Its name constraints (critical) permit only the
Windows Update domains, the .lab names and the --intercept names, exclude every IP
address, and its extended key usage limits it to TLS server certificates: even trusted
on a lab client, it cannot vouch for anything else.

Windows checks revocation (WinHTTP asks for it on the update scan): the world serves
an OCSP responder and CRLs for the lab CA on the upstream HTTP port. Go clients never
check revocation; Windows does.`,
	}
	cmd.PersistentFlags().StringSlice("intercept", nil, "host patterns (name or *.name) the lab CA may issue for besides the Windows Update and .lab names (repeatable; the same names serve intercepts)")

	var force, asJSON bool
	initCmd := &cobra.Command{
		Use:   "init",
		Short: "Create the lab CA (if there is none) and describe it",
		Example: `  wufault ca init
  wufault ca init --force --intercept '*.corp.example'   (a new CA: re-import it on the clients)`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			dir := a.v.GetString("state-dir")
			domains, err := simulate.CADomains(a.v.GetStringSlice("intercept")...)
			if err != nil {
				return failf("--intercept: %s", err)
			}
			if force {
				if err := simulate.RemoveCA(dir); err != nil {
					return err
				}
			}
			ca, created, err := simulate.OpenCA(dir, domains)
			if err != nil {
				return err
			}
			state := "existing"
			if created {
				state = "created"
			}
			c := ca.Certificate()
			missing := ca.Missing(domains)
			if asJSON {
				return a.printJSON(struct {
					State     string    `json:"state"`
					Subject   string    `json:"subject"`
					Key       string    `json:"key"`
					NotAfter  time.Time `json:"not_after"`
					SHA256    string    `json:"sha256"`
					Permitted []string  `json:"permitted"`
					Missing   []string  `json:"missing,omitempty"`
				}{state, c.Subject.CommonName, ca.KeyPath(), c.NotAfter.UTC(), fmt.Sprintf("%X", sha256.Sum256(c.Raw)), ca.Domains(), missing})
			}
			fmt.Fprintf(a.stdout, "lab CA (%s)   %s\n", state, c.Subject.CommonName)
			fmt.Fprintf(a.stdout, "key            %s (mode 0600)\n", ca.KeyPath())
			fmt.Fprintf(a.stdout, "valid until    %s\n", c.NotAfter.UTC().Format("2006-01-02"))
			fmt.Fprintf(a.stdout, "SHA-256        %X\n", sha256.Sum256(c.Raw))
			fmt.Fprintf(a.stdout, "permitted      %s\n", strings.Join(ca.Domains(), ", "))
			if len(missing) > 0 {
				fmt.Fprintf(a.stderr, "wufault: this CA does not permit %s; run wufault ca init --force to replace it (then import the new one)\n", strings.Join(missing, ", "))
			}
			fmt.Fprintln(a.stdout, "next           wufault ca export --out lab-ca.cer, then on the Windows client: certutil -addstore Root lab-ca.cer")
			return nil
		},
	}
	initCmd.Flags().BoolVar(&force, "force", false, "replace an existing lab CA with a new one")
	initCmd.Flags().BoolVar(&asJSON, "json", false, "print JSON (state, subject, key, not_after, sha256, permitted)")

	var der bool
	var out string
	export := &cobra.Command{
		Use:   "export",
		Short: "Write the lab CA certificate (PEM, or DER with --der) for clients to trust",
		Long: `export writes the lab CA certificate (never its key) to --out or standard output,
creating the CA on first use. Windows imports either encoding from a .cer file:

  certutil -addstore Root lab-ca.cer`,
		Example: `  wufault ca export --out lab-ca.cer
  wufault ca export --der --out lab-ca.cer`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			domains, err := simulate.CADomains(a.v.GetStringSlice("intercept")...)
			if err != nil {
				return failf("--intercept: %s", err)
			}
			ca, created, err := simulate.OpenCA(a.v.GetString("state-dir"), domains)
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintf(a.stderr, "wufault: created the lab CA (key %s)\n", ca.KeyPath())
			}
			body := ca.PEM()
			if der {
				body = ca.DER()
			}
			if out == "" || out == "-" {
				if _, err := a.stdout.Write(body); err != nil {
					return err
				}
				fmt.Fprintln(a.stderr, "wufault: on the Windows client, save this as lab-ca.cer and run: certutil -addstore Root lab-ca.cer")
				return nil
			}
			if err := simulate.WriteFileAtomic(out, body, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "wrote %s; on the Windows client run: certutil -addstore Root %s\n", out, filepath.Base(out))
			return nil
		},
	}
	export.Flags().BoolVar(&der, "der", false, "write DER (binary) instead of PEM")
	export.Flags().StringVar(&out, "out", "", "file to write (default: standard output)")

	cmd.AddCommand(initCmd, export)
	return cmd
}
