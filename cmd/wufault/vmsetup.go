package main

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/wufault/wufault/simulate"
)

// vmPlan is what vm-setup needs to know about one VM and the lab host.
type vmPlan struct {
	VM, LabHost             string // addresses
	ProxyPort, UpstreamPort int
	ControlPort             int
	DNS, WSUS               bool
	CAPEM                   string
	CAThumbprint, CASubject string
}

// wuPolicy is the registry key of the Windows Update policy (WSUS).
const wuPolicy = `HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate`

// setup returns the commands (PowerShell, elevated) that point the VM at
// the lab: the WinHTTP proxy WUA uses, the lab CA in the machine's Root
// store, the lab DNS on the interface that reaches the lab host, the WSUS
// policy naming the emulator, and the service restart that makes WUA
// read them (it reads the proxy when it starts, seed 002).
func (p vmPlan) setup() []string {
	out := []string{
		fmt.Sprintf(`netsh winhttp set proxy proxy-server="%s" bypass-list="<local>"`, net.JoinHostPort(p.LabHost, strconv.Itoa(p.ProxyPort))),
		"@'\n" + strings.TrimSpace(p.CAPEM) + "\n'@ | Set-Content -Encoding ascii \"$env:TEMP\\wufault-lab-ca.cer\"",
		`certutil -addstore Root "$env:TEMP\wufault-lab-ca.cer"`,
	}
	if p.DNS {
		out = append(out,
			fmt.Sprintf(`$lab = (Find-NetRoute -RemoteIPAddress %s | Select-Object -First 1).InterfaceIndex`, p.LabHost),
			fmt.Sprintf(`Set-DnsClientServerAddress -InterfaceIndex $lab -ServerAddresses %s`, p.LabHost),
			"ipconfig /flushdns")
	}
	if p.WSUS {
		wsus := "http://wsus.lab:" + strconv.Itoa(p.UpstreamPort)
		out = append(out,
			fmt.Sprintf(`reg add %s /v WUServer /t REG_SZ /d %s /f`, wuPolicy, wsus),
			fmt.Sprintf(`reg add %s /v WUStatusServer /t REG_SZ /d %s /f`, wuPolicy, wsus),
			fmt.Sprintf(`reg add %s\AU /v UseWUServer /t REG_DWORD /d 1 /f`, wuPolicy))
	}
	return append(out, "Restart-Service -Force wuauserv, bits")
}

// undo returns the commands that reverse setup; the CA goes by its
// thumbprint (its subject carries a per-CA suffix).
func (p vmPlan) undo() []string {
	out := []string{
		"netsh winhttp reset proxy",
		"certutil -delstore Root " + p.CAThumbprint,
	}
	if p.DNS {
		out = append(out,
			fmt.Sprintf(`$lab = (Find-NetRoute -RemoteIPAddress %s | Select-Object -First 1).InterfaceIndex`, p.LabHost),
			"Set-DnsClientServerAddress -InterfaceIndex $lab -ResetServerAddresses",
			"ipconfig /flushdns")
	}
	if p.WSUS {
		out = append(out,
			fmt.Sprintf(`reg delete %s /v WUServer /f`, wuPolicy),
			fmt.Sprintf(`reg delete %s /v WUStatusServer /f`, wuPolicy),
			fmt.Sprintf(`reg delete %s\AU /v UseWUServer /f`, wuPolicy))
	}
	return append(out, "Restart-Service -Force wuauserv, bits")
}

// labHostFor is the address of this host that the kernel would use to
// reach vm (a UDP "connect" sends nothing).
func labHostFor(vm string) (string, error) {
	c, err := net.Dial("udp", net.JoinHostPort(vm, "9"))
	if err != nil {
		return "", err
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).IP.String(), nil
}

func (a *app) vmSetupCommand() *cobra.Command {
	var p vmPlan
	var noDNS, noWSUS bool
	cmd := &cobra.Command{
		Use:   "vm-setup --vm ADDRESS",
		Short: "Print the commands that point one Windows VM at this lab, and the commands that undo them",
		Long: `vm-setup prints, for the VM at --vm, the PowerShell commands (elevated) that send its
Windows Update traffic through this lab: the WinHTTP system proxy, the lab CA (inline, as
serve uses it) in the Root store, the lab DNS on the interface that reaches the lab host,
the WSUS policy naming the embedded emulator, and a service restart; then the commands
that undo each of them (the CA removed by its thumbprint). The lab host address is the one
this machine uses to reach the VM, unless --lab-host says otherwise.`,
		Example: `  wufault vm-setup --vm 192.168.56.10
  wufault vm-setup --vm 192.168.56.10 --lab-host 192.168.56.1 --no-wsus`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			vm, err := netip.ParseAddr(a.v.GetString("vm"))
			if err != nil {
				return failf("--vm %q: want the VM's IP address", a.v.GetString("vm"))
			}
			p.VM = vm.String()
			if p.LabHost = a.v.GetString("lab-host"); p.LabHost == "" {
				if p.LabHost, err = labHostFor(p.VM); err != nil {
					return failf("no route to the VM %s (%v): pass --lab-host", p.VM, err)
				}
			}
			domains, err := simulate.CADomains()
			if err != nil {
				return err
			}
			ca, created, err := simulate.OpenCA(a.v.GetString("state-dir"), domains)
			if err != nil {
				return err
			}
			if created {
				fmt.Fprintf(a.stderr, "wufault: created the lab CA (key %s)\n", ca.KeyPath())
			}
			p.CAPEM, p.CAThumbprint, p.CASubject = string(ca.PEM()), ca.Thumbprint(), ca.Certificate().Subject.CommonName
			p.DNS, p.WSUS = !noDNS, !noWSUS
			a.printVMPlan(p)
			return nil
		},
	}
	f := cmd.Flags()
	f.String("vm", "", "the VM's IP address (required)")
	f.String("lab-host", "", "this lab host's address as the VM reaches it (default: the address that routes to the VM)")
	f.IntVar(&p.ProxyPort, "proxy-port", 8080, "the lab proxy's port (serve --proxy)")
	f.IntVar(&p.UpstreamPort, "upstream-port", 8530, "the emulator's HTTP port (serve --upstream-http), for WUServer")
	f.IntVar(&p.ControlPort, "control-port", 8081, "the control API's port (serve --control)")
	f.BoolVar(&noDNS, "no-dns", false, "leave the VM's DNS servers alone")
	f.BoolVar(&noWSUS, "no-wsus", false, "leave the WSUS policy alone (the VM scans Microsoft Update through the proxy)")
	_ = cmd.MarkFlagRequired("vm")
	return cmd
}

func (a *app) printVMPlan(p vmPlan) {
	w := a.stdout
	host := func(port int) string { return net.JoinHostPort(p.LabHost, strconv.Itoa(port)) }
	fmt.Fprintf(w, "# wufault lab setup for the VM %s (lab host %s, CA %q, thumbprint %s)\n", p.VM, p.LabHost, p.CASubject, p.CAThumbprint)
	fmt.Fprintln(w, "#")
	fmt.Fprintln(w, "# On the lab host (port 53 needs root or CAP_NET_BIND_SERVICE; open TCP "+
		strings.Join([]string{strconv.Itoa(p.ProxyPort), strconv.Itoa(p.UpstreamPort), strconv.Itoa(p.ControlPort)}, ", ")+" and UDP+TCP 53 to the VM):")
	fmt.Fprintf(w, "#   wufault serve --proxy %s --dns %s --upstream-http %s --upstream-https %s \\\n#     --control %s --control-token \"$TOKEN\" --allow-cidr %s/32 --resolver 1.1.1.1:53\n",
		host(p.ProxyPort), net.JoinHostPort(p.LabHost, "53"), host(p.UpstreamPort), host(p.UpstreamPort+1), host(p.ControlPort), p.VM)
	fmt.Fprintln(w, "#")
	fmt.Fprintln(w, "# On the VM, in an elevated PowerShell:")
	for _, c := range p.setup() {
		fmt.Fprintln(w, c)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "# Undo, on the VM, in an elevated PowerShell:")
	for _, c := range p.undo() {
		fmt.Fprintln(w, c)
	}
}
