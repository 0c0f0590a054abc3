package scenarios

// Fix is a documented remedy for a Windows Update error: the commands an
// administrator runs (from the seeds and Microsoft's pages) and what
// changes in the lab when verify applies it.
type Fix struct {
	ID       string
	Title    string
	Commands []string
	// Effect is the change in the lab: to the client profile, its state,
	// or the world.
	Effect string
}

// Fixes is the catalog of fixes, in the order DESIGN.md lists them.
var Fixes = []Fix{
	{"flush-dns", "Flush the DNS client cache",
		[]string{`ipconfig /flushdns`, `net stop dnscache && net start dnscache`},
		"clears the client DNS cache (positive and negative answers)"},
	{"restart-wu-services", "Restart the Windows Update services",
		[]string{`net stop wuauserv`, `net stop bits`, `net stop cryptsvc`, `net start cryptsvc`, `net start bits`, `net start wuauserv`},
		"reloads the proxy settings and drops in-memory state"},
	{"set-winhttp-proxy", "Set the WinHTTP system proxy",
		[]string{`netsh winhttp set proxy proxy-server="host:port"`, `proxycfg -p host:port`},
		"sets the system proxy to the lab proxy (takes effect after restart-wu-services)"},
	{"import-ie-proxy", "Copy the user (IE) proxy to WinHTTP",
		[]string{`netsh winhttp import proxy source=ie`, `proxycfg -u`},
		"copies the user proxy to the system proxy (takes effect after restart-wu-services)"},
	{"reset-winhttp-proxy", "Reset the WinHTTP proxy to direct",
		[]string{`netsh winhttp reset proxy`, `proxycfg -d`},
		"direct connection (takes effect after restart-wu-services)"},
	{"provide-proxy-credentials", "Give the client proxy credentials",
		[]string{`configure the proxy account for the machine (LocalSystem) or allow the update hosts without authentication`},
		"the client answers 407 with the configured user"},
	{"enable-negotiate", "Enable Negotiate/NTLM proxy authentication",
		[]string{`reg add HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate /v EnableAuthenticateNegotiate /t REG_DWORD /d 1`},
		"the client can answer Negotiate and NTLM challenges"},
	{"use-public-dns", "Use a second, healthy DNS resolver",
		[]string{`netsh interface ip set dns "Ethernet" static 1.1.1.1`, `netsh interface ip add dns "Ethernet" 8.8.8.8 index=2`},
		"the client's resolvers become a healthy resolver (cache kept)"},
	{"remove-hosts-override", "Remove the hosts-file override",
		[]string{`notepad %SystemRoot%\System32\drivers\etc\hosts`},
		"drops the hosts entries"},
	{"trust-lab-ca", "Trust the lab CA",
		[]string{`certutil -addstore Root lab-ca.cer`},
		"adds the lab CA to the client's trusted roots"},
	{"install-root-certs", "Install the missing root certificates",
		[]string{`certutil -generateSSTFromWU roots.sst`, `certutil -addstore Root roots.sst`},
		"adds the lab CA to the client's trusted roots"},
	{"enable-tls12-ciphers", "Enable TLS 1.2 and its ECDHE cipher suites",
		[]string{`gpedit.msc: Computer Configuration > Administrative Templates > Network > SSL Configuration Settings > SSL Cipher Suite Order`},
		"enables TLS 1.2 with Go's default ECDHE suites"},
	{"raise-timeouts", "Raise the client's timeouts",
		[]string{`reg add HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings /v ReceiveTimeOut /t REG_DWORD /d 600000`, `reg add … /v SendTimeOut /t REG_DWORD /d 600000`},
		"multiplies the client's send and receive timeouts by 10"},
	{"fix-clock", "Synchronise the clock",
		[]string{`w32tm /resync`},
		"clock offset 0"},
	{"open-firewall", "Allow 80/443 to the update hosts",
		[]string{`allow outbound TCP 80 and 443 to *.update.microsoft.com, *.windowsupdate.com, *.delivery.mp.microsoft.com`},
		"removes refused and stalled connections (tcp.refuse, tcp.stall at connect)"},
	{"allow-range-requests", "Let the proxy pass Range requests",
		[]string{`configure the proxy to forward Range headers and 206 answers`},
		"removes http.range_ignored"},
	{"retry-later", "Wait and retry",
		[]string{`wuauclt /detectnow`, `usoclient StartScan`},
		"runs the session again with the same world (transient faults pass)"},
	{"reset-wu-components", "Reset the Windows Update components",
		[]string{`net stop wuauserv`, `ren %systemroot%\SoftwareDistribution SoftwareDistribution.old`, `ren %systemroot%\system32\catroot2 catroot2.old`, `net start wuauserv`},
		"drops client state but changes nothing on the network"},
	{"sfc-dism", "Repair system files",
		[]string{`sfc /scannow`, `DISM /Online /Cleanup-Image /RestoreHealth`},
		"changes nothing on the network"},
	{"re-register-wups2", "Re-register wups2.dll",
		[]string{`net stop wuauserv`, `regsvr32 %windir%\system32\wups2.dll`, `net start wuauserv`},
		"changes nothing on the network"},
}

// LookupFix returns the fix with the given id.
func LookupFix(id string) (Fix, bool) {
	for _, f := range Fixes {
		if f.ID == id {
			return f, true
		}
	}
	return Fix{}, false
}
