package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/client"
)

func (a *app) probeCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "probe",
		Short: "Check the Windows Update endpoints through a network path",
		Long: `probe checks, for each Windows Update endpoint, name resolution, TCP, TLS (chain, issuer,
expiry), the HTTP answer and Range support, and prints the Windows Update Agent code a client
behind the same path would get. It resolves names only through the --dns servers (or, without
them, those of /etc/resolv.conf), never through the system's resolver library.

Without --wsus it probes the Microsoft Update endpoints (reference wu-codes.md 6.2); with it, the
WSUS server's self-update cab, web services, version file and content folder. The exit status is
0 only when every required endpoint passes, 1 otherwise.`,
		Example: `  wufault probe --proxy http://proxy.corp:3128 --dns 10.0.0.53
  wufault probe --wsus http://wsus.corp:8530 --dns 10.0.0.53 --json
  WUFAULT_PROXY_PASSWORD=… wufault probe --proxy http://proxy.corp:3128 --proxy-user 'CORP\svc-wu'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v := a.v
			o := client.ProbeOptions{
				Proxy:           v.GetString("proxy"),
				ProxyUser:       v.GetString("proxy-user"),
				ProxyPassword:   v.GetString("proxy-password"),
				DNS:             v.GetStringSlice("dns"),
				Generation:      client.Generation(v.GetString("generation")),
				Download:        client.Stack(v.GetString("download")),
				TimeScale:       v.GetFloat64("time-scale"),
				CheckRevocation: v.GetBool("check-revocation"),
				Env:             client.Env{Logger: a.log},
			}
			if o.Generation != client.Modern && o.Generation != client.Legacy {
				return fmt.Errorf("--generation %q: want modern or legacy", o.Generation)
			}
			if o.Download != client.StackDO && o.Download != client.StackBITS {
				return fmt.Errorf("--download %q: want do or bits", o.Download)
			}
			if len(o.DNS) == 0 {
				servers, err := resolvConf("/etc/resolv.conf")
				if err != nil {
					return fmt.Errorf("no --dns given and %w", err)
				}
				o.DNS = servers
			}
			if w := v.GetString("wsus"); w != "" {
				eps, err := client.WSUSEndpoints(w)
				if err != nil {
					return fmt.Errorf("--wsus: %w", err)
				}
				o.Endpoints = eps
			}
			if f := v.GetString("ca"); f != "" {
				pool, err := x509.SystemCertPool()
				if err != nil {
					pool = x509.NewCertPool()
				}
				if err := addPEM(pool, f); err != nil {
					return err
				}
				o.Roots = pool
			}
			ctx := cmd.Context()
			if d := v.GetDuration("timeout"); d > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, d)
				defer cancel()
			}
			rep, err := client.Probe(ctx, o)
			if err != nil {
				return err
			}
			if v.GetBool("json") {
				err = rep.WriteJSON(a.stdout)
			} else {
				err = rep.WriteText(a.stdout)
			}
			if err != nil {
				return err
			}
			if !rep.Pass {
				return &exitError{code: 1}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.String("proxy", "", "proxy to go through (http://host:port); empty: direct")
	f.String("proxy-user", "", `proxy user (DOMAIN\user for NTLM/Negotiate); the password comes from --proxy-password or WUFAULT_PROXY_PASSWORD`)
	f.String("proxy-password", "", "proxy password (prefer the WUFAULT_PROXY_PASSWORD environment variable)")
	f.StringSlice("dns", nil, "DNS server (host[:port]) to resolve through (repeatable); default: /etc/resolv.conf's")
	f.String("wsus", "", "probe this WSUS server (http://wsus.corp:8530) instead of Microsoft Update")
	f.Bool("json", false, "print JSON")
	f.String("generation", "modern", "client generation whose codes to report: modern or legacy")
	f.String("download", "do", "download stack whose codes to report: do or bits")
	f.Float64("time-scale", 1, "multiply WinHTTP's timeouts (1: Windows' own)")
	f.Bool("check-revocation", true, "check certificate revocation (CRL, OCSP staple) as Windows Update does")
	f.String("ca", "", "PEM file of extra trusted roots (a TLS-inspecting proxy's CA)")
	f.Duration("timeout", 10*time.Minute, "give up on the whole probe after this long")
	return cmd
}

// addPEM adds the certificates of a PEM file to pool.
func addPEM(pool *x509.CertPool, file string) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return fmt.Errorf("--ca: %w", err)
	}
	n := 0
	for {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return fmt.Errorf("--ca %s: %w", file, err)
		}
		pool.AddCert(c)
		n++
	}
	if n == 0 {
		return errors.New("--ca " + file + ": no certificate in the file")
	}
	return nil
}

// resolvConf reads the nameservers of a resolv.conf file.
func resolvConf(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "nameserver" {
			out = append(out, f[1])
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s names no nameserver: pass --dns", path)
	}
	return out, nil
}
