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
	// Source is where the commands and the effect come from (seeds,
	// Microsoft pages, reference tags).
	Source string
}

// Fixes is the catalog of fixes, in the order DESIGN.md lists them.
var Fixes = []Fix{
	{"flush-dns", "Flush the DNS client cache",
		[]string{`ipconfig /flushdns`, `net stop dnscache && net start dnscache`},
		"clears the client DNS cache (positive and negative answers)", "seed 001; seed 004"},
	{"restart-wu-services", "Restart the Windows Update services",
		[]string{`net stop wuauserv`, `net stop bits`, `net stop cryptsvc`, `net start cryptsvc`, `net start bits`, `net start wuauserv`},
		"reloads the proxy settings and drops in-memory state", "seed 002 (the proxy settings are read when the service starts); seed 000"},
	{"set-winhttp-proxy", "Set the WinHTTP system proxy",
		[]string{`netsh winhttp set proxy proxy-server="host:port"`, `proxycfg -p host:port`},
		"sets the system proxy to the lab proxy (takes effect after restart-wu-services)", "seed 002 (proxycfg -p); [L-PROXY] (netsh winhttp set proxy)"},
	{"import-ie-proxy", "Copy the user (IE) proxy to WinHTTP",
		[]string{`netsh winhttp import proxy source=ie`, `proxycfg -u`},
		"copies the user proxy to the system proxy (takes effect after restart-wu-services)", "seed 002 (proxycfg -u, then restart the service); [L-PROXY] (netsh winhttp import proxy source=ie)"},
	{"reset-winhttp-proxy", "Reset the WinHTTP proxy to direct",
		[]string{`netsh winhttp reset proxy`, `proxycfg -d`},
		"direct connection (takes effect after restart-wu-services)", "seed 002 (proxycfg -d); [L-PROXY] (netsh winhttp reset proxy)"},
	{"provide-proxy-credentials", "Give the client proxy credentials",
		[]string{`configure the proxy account for the machine (LocalSystem) or allow the update hosts without authentication`},
		"the client answers 407 with the configured user", "[KTC]; [L-SCAN]"},
	{"enable-negotiate", "Enable Negotiate/NTLM proxy authentication",
		[]string{`reg add HKLM\SOFTWARE\Policies\Microsoft\Windows\WindowsUpdate /v EnableAuthenticateNegotiate /t REG_DWORD /d 1`},
		"the client can answer Negotiate and NTLM challenges", "seed 000 (EnableAuthenticateNegotiate)"},
	{"use-public-dns", "Use a second, healthy DNS resolver",
		[]string{`netsh interface ip set dns "Ethernet" static 1.1.1.1`, `netsh interface ip add dns "Ethernet" 8.8.8.8 index=2`},
		"the client's resolvers become a healthy resolver (cache kept)", "seed 001"},
	{"remove-hosts-override", "Remove the hosts-file override",
		[]string{`notepad %SystemRoot%\System32\drivers\etc\hosts`},
		"drops the hosts entries", "seed 001"},
	{"trust-lab-ca", "Trust the lab CA",
		[]string{`certutil -addstore Root lab-ca.cer`},
		"adds the lab CA to the client's trusted roots", "[L-2F8F] (untrusted root); seed 000 (certificates of internal CAs)"},
	{"install-root-certs", "Install the missing root certificates",
		[]string{`certutil -generateSSTFromWU roots.sst`, `certutil -addstore Root roots.sst`},
		"none in the lab: Microsoft's root list never holds a lab or TLS-inspection CA (only trust-lab-ca trusts one)", "Microsoft, Configure Trusted Roots and Disallowed Certificates (certutil -generateSSTFromWU writes the Microsoft Root Certificate Program's roots from Windows Update), https://learn.microsoft.com/en-us/windows-server/identity/ad-cs/configure-trusted-roots-disallowed-certificates; seed 000"},
	{"enable-tls12-ciphers", "Enable TLS 1.2 and its ECDHE cipher suites",
		[]string{`gpedit.msc: Computer Configuration > Administrative Templates > Network > SSL Configuration Settings > SSL Cipher Suite Order`},
		"enables TLS 1.2 with Go's default ECDHE suites", "seed 000 (TLS_ECDHE_*_GCM suites against 80072EFE); [L-2EFE]"},
	{"raise-timeouts", "Raise the client's timeouts",
		[]string{`reg add HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings /v ReceiveTimeOut /t REG_DWORD /d 600000`, `reg add … /v SendTimeOut /t REG_DWORD /d 600000`},
		"none in the lab: no source shows WUA reading these WinINet values, so the WinHTTP client's timeouts stay", "seed 000 (Internet Settings ReceiveTimeOut/SendTimeOut are WinINet's values); [L-TIMEOUTS] (WinHTTP callers set their own with WinHttpSetTimeouts); reference 5.1 (WUA's values are not documented)"},
	{"fix-clock", "Synchronise the clock",
		[]string{`w32tm /resync`},
		"clock offset 0", "[L-2F8F] (clock skew)"},
	{"open-firewall", "Allow 80/443 to the update hosts",
		[]string{`allow outbound TCP 80 and 443 to *.update.microsoft.com, *.windowsupdate.com, *.delivery.mp.microsoft.com`},
		"removes refused and stalled connections (tcp.refuse, tcp.stall at connect)", "[L-DLERR]; [WSUS-CFG] (allow-list, ports 80 and 443)"},
	{"allow-range-requests", "Let the proxy pass Range requests",
		[]string{`configure the proxy to forward Range headers and 206 answers`},
		"removes http.range_ignored", "[KB3175743]; [L-WUTS]"},
	{"retry-later", "Wait and retry",
		[]string{`wuauclt /detectnow`, `usoclient StartScan`},
		"runs the session again with the same world (transient faults pass)", "reference 3.3 (transient errors are retried)"},
	{"reset-wu-components", "Reset the Windows Update components",
		[]string{`net stop wuauserv`, `ren %systemroot%\SoftwareDistribution SoftwareDistribution.old`, `ren %systemroot%\system32\catroot2 catroot2.old`, `netsh winhttp reset proxy`, `net start wuauserv`},
		"resets the WinHTTP proxy to direct and restarts the services (caches dropped); nothing else on the network", "seed 000; Microsoft KB971058, How do I reset Windows Update components (its manual steps reset the WinHTTP proxy: netsh winhttp reset proxy, proxycfg -d on XP), https://support.microsoft.com/help/971058"},
	{"sfc-dism", "Repair system files",
		[]string{`sfc /scannow`, `DISM /Online /Cleanup-Image /RestoreHealth`},
		"changes nothing on the network", "seed 000"},
	{"re-register-wups2", "Re-register wups2.dll",
		[]string{`net stop wuauserv`, `regsvr32 %windir%\system32\wups2.dll`, `net start wuauserv`},
		"changes nothing on the network", "seed 003 (KB943144)"},
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
