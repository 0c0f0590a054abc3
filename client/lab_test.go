package client_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/wufault/wufault/client"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/internal/worldtest"
)

// startLab starts a world with its own emulator: proxy, DNS and the
// upstream ports asked for (worldtest.UpstreamHTTP, UpstreamHTTPS). Its
// Env maps "lab" to them the way the lab command does: WSUS
// http://wsus.lab:<http port> and https://wsus.lab:<https port>.
func startLab(t *testing.T, upstream ...worldtest.Option) *worldtest.World {
	t.Helper()
	return worldtest.Start(t, append(upstream, worldtest.Proxy(), worldtest.DNS(), worldtest.MaxStall(5*time.Second))...)
}

// The lab's default client: WSUS "lab" over HTTP, through the world's
// proxy, with the world's DNS.
func TestLabDefault(t *testing.T) {
	env := startLab(t, worldtest.UpstreamHTTP()).Env()
	for _, proxy := range []string{"lab", ""} {
		r := run(t, newMachine(t, profile.Profile{Proxy: ptr(proxy), Timeouts: patient()}, env))
		wantCode(t, r, "0x00000000")
		if r.Downloaded == 0 {
			t.Errorf("nothing downloaded\n%s", dumpResult(t, r))
		}
	}
}

// WSUS over HTTPS on the world's upstream port: the lab CA is trusted only
// after trust-lab-ca.
func TestLabHTTPS(t *testing.T) {
	w := startLab(t, worldtest.UpstreamHTTPS())
	env := w.Env()
	for _, proxy := range []string{"", "lab"} {
		t.Run("proxy="+proxy, func(t *testing.T) {
			p := profile.Profile{Server: ptr("lab-https"), Proxy: ptr(proxy), Timeouts: patient()}
			m := newMachine(t, p, env)
			r := run(t, m)
			wantCode(t, r, "0x80072F8F")
			if r.Failed.Rule != "cert-untrusted > winhttp-raw" {
				t.Errorf("rule %s", r.Failed.Rule)
			}
			m.TrustLabCA()
			r = run(t, m)
			wantCode(t, r, "0x00000000")
			if r.Downloaded == 0 {
				t.Errorf("nothing downloaded\n%s", dumpResult(t, r))
			}
		})
	}
	t.Run("tls faults on the upstream port", func(t *testing.T) {
		cases := []struct {
			faults  string
			profile profile.Profile
			want    string
			winhttp client.WinHTTPError
		}{
			{"- {kind: tls.cert, profile: expired}", profile.Profile{}, "0x80072F8F", 12175},
			{"- {kind: tls.cert, profile: revoked}", profile.Profile{}, "0x80072F8F", 12175},
			{"- {kind: tls.reset}", profile.Profile{}, "0x80072EFE", 12030},
			{"- {kind: tls.client_cert}", profile.Profile{}, "0x80072F0C", 12044},
			{"- {kind: tls.alert, alert: protocol_version}", profile.Profile{}, "0x80072F8F", 12175},
			{"- {kind: tls.version, min: '1.3'}", profile.Profile{Generation: "legacy"}, "0x80072F8F", 12175},
			// A 1024-bit RSA key is accepted (crypto/x509 takes 1024 bits and
			// more; the reference has no row for it).
			{"- {kind: tls.cert, profile: rsa1024}", profile.Profile{}, "0x00000000", 0},
		}
		for _, c := range cases {
			w.Activate(c.faults, 1, loadFaults(t, c.faults))
			p := c.profile
			p.Server, p.Proxy, p.TrustLabCA, p.Timeouts = ptr("lab-https"), ptr(""), ptr(true), patient()
			r := run(t, newMachine(t, p, env))
			wantCode(t, r, c.want)
			if c.want == "0x00000000" {
				continue
			}
			if r.Failed.WinHTTP != c.winhttp || r.Failed.Phase != profile.PhaseHandshake || r.Failed.Class != profile.ClassSelfUpdate {
				t.Errorf("%s: %+v", c.faults, r.Failed)
			}
		}
		w.Activate("none", 1, nil)
	})
	t.Run("fix-clock", func(t *testing.T) {
		d := profile.Duration(-400 * 24 * time.Hour)
		p := profile.Profile{Server: ptr("lab-https"), Proxy: ptr(""), TrustLabCA: ptr(true), ClockOffset: &d, Timeouts: patient()}
		m := newMachine(t, p, env)
		r := run(t, m)
		wantCode(t, r, "0x80072F8F")
		if r.Failed.Rule != "cert-expired > winhttp-raw" {
			t.Errorf("rule %s", r.Failed.Rule)
		}
		m.FixClock()
		wantCode(t, run(t, m), "0x00000000")
	})
	t.Run("enable-tls12-ciphers", func(t *testing.T) {
		w.Activate("tls12 only", 1, loadFaults(t, "- {kind: tls.version, min: '1.2', max: '1.2'}"))
		defer w.Activate("none", 1, nil)
		p := profile.Profile{Server: ptr("lab-https"), Proxy: ptr(""), TrustLabCA: ptr(true), TLSVersions: []string{"1.0", "1.1"}, Timeouts: patient()}
		m := newMachine(t, p, env)
		wantCode(t, run(t, m), "0x80072F8F")
		m.EnableTLS12Ciphers()
		wantCode(t, run(t, m), "0x00000000")
	})
}

// Without WSUS the client uses Microsoft Update's names on 443: in the lab
// only the world's proxy reaches them (it routes the lab zone to the
// emulator); directly, fe3cr resolves to the emulator's address, where
// nothing listens on 443.
func TestLabMicrosoftUpdate(t *testing.T) {
	env := startLab(t, worldtest.UpstreamHTTPS()).Env()
	p := profile.Profile{Server: ptr(""), TrustLabCA: ptr(true), Timeouts: patient()}
	r := run(t, newMachine(t, p, env))
	wantCode(t, r, "0x00000000")
	if r.Updates == 0 || r.Downloaded == 0 || r.Observations[0].Call != "SLS" || r.Observations[0].Class != profile.ClassRedirector ||
		!strings.HasPrefix(r.Observations[0].URL, "https://sls.update.microsoft.com/SLS/") ||
		r.Observations[1].Call != "GetConfig" || r.Observations[1].URL != "https://fe3cr.delivery.mp.microsoft.com/ClientWebService/client.asmx" {
		t.Errorf("modern Microsoft Update flow\n%s", dumpResult(t, r))
	}
	wantHosts(t, r, profile.ClassDownload, "download.windowsupdate.com", "tlu.dl.delivery.mp.microsoft.com")
	// The scan fetched its file metadata as metadata (ECP) cabs, one per
	// update, from www.download.windowsupdate.com ([AC]).
	wantHosts(t, r, profile.ClassScan, "fe3cr.delivery.mp.microsoft.com", "www.download.windowsupdate.com")
	if n := passed(r, "ECP metadata"); n != r.Downloaded || n == 0 {
		t.Errorf("%d metadata cabs fetched for %d files\n%s", n, r.Downloaded, dumpResult(t, r))
	}
	p.Proxy = ptr("")
	r = run(t, newMachine(t, p, env))
	wantCode(t, r, "0x80072EFD")
}

// passed counts the successful requests of a call.
func passed(r *client.Result, call string) int {
	n := 0
	for _, o := range r.Observations {
		if o.Call == call && o.Code == 0 {
			n++
		}
	}
	return n
}

// A metadata (ECP) cab that arrives short, or not at all, ends the scan of
// a Windows 10+ client of Microsoft Update with 0x8024402F
// WU_E_PT_ECP_SUCCEEDED_WITH_ERRORS (reference row 24, [AC]); the fault
// on the metadata host leaves the SLS, fe3 and content hosts alone.
func TestLabMetadataCab(t *testing.T) {
	w := startLab(t, worldtest.UpstreamHTTPS())
	env := w.Env()
	p := profile.Profile{Server: ptr(""), TrustLabCA: ptr(true), Timeouts: patient()}
	for _, c := range []struct {
		name, faults, rule, winhttp string
		status                      int
	}{
		{"truncated", "- {kind: http.truncate, match: {host: www.download.windowsupdate.com}, after_bytes: 100, length: match}", "ecp-cab", "", 200},
		{"404", "- {kind: http.status, match: {host: www.download.windowsupdate.com}, status: 404}", "ecp-cab", "", 404},
		{"reset", "- {kind: tcp.reset, match: {host: www.download.windowsupdate.com}, at: headers}", "reset > ecp-fetch", "12030", 0},
		// The world counts the lab's metadata cabs in the scan class, as
		// the client does: a scan-class fault on /msdownload/ meets them.
		{"scan class", "- {kind: http.status, match: {class: scan, path: /msdownload/*}, status: 503}", "ecp-cab", "", 503},
	} {
		t.Run(c.name, func(t *testing.T) {
			w.Activate("metadata cab "+c.name, 1, loadFaults(t, c.faults))
			r := run(t, newMachine(t, p, env))
			wantCode(t, r, "0x8024402F")
			f := r.Failed
			if f == nil || f.Class != profile.ClassScan || f.Call != "ECP metadata" || f.Rule != c.rule || f.Status != c.status ||
				!strings.HasPrefix(f.URL, "http://www.download.windowsupdate.com") || (c.winhttp != "" && strconv.Itoa(int(f.WinHTTP)) != c.winhttp) {
				t.Errorf("want the metadata cab to decide with %s\n%s", c.rule, dumpResult(t, r))
			}
			if passed(r, "SLS") != 1 || passed(r, "GetExtendedUpdateInfo") == 0 || passed(r, "content") != 0 {
				t.Errorf("want SLS and the scan to pass and no download\n%s", dumpResult(t, r))
			}
		})
	}
}

// wantHosts checks that the requests of a class went to exactly these
// hosts: the client followed the URLs the server handed it.
func wantHosts(t *testing.T, r *client.Result, class profile.Class, hosts ...string) {
	t.Helper()
	got := map[string]bool{}
	for _, o := range r.Observations {
		if o.Class != class {
			continue
		}
		u, err := url.Parse(o.URL)
		if err != nil {
			t.Fatalf("observation URL %q: %v", o.URL, err)
		}
		got[u.Hostname()] = true
	}
	for _, h := range hosts {
		if !got[h] {
			t.Errorf("no %s request to %s; hosts %v\n%s", class, h, got, dumpResult(t, r))
		}
		delete(got, h)
	}
	if len(got) > 0 {
		t.Errorf("%s requests to other hosts %v\n%s", class, got, dumpResult(t, r))
	}
}

// The legacy Microsoft Update flow starts at wuredir.cab over HTTP.
func TestLabMicrosoftUpdateLegacy(t *testing.T) {
	env := startLab(t, worldtest.UpstreamHTTP(), worldtest.UpstreamHTTPS()).Env()
	p := profile.Profile{Server: ptr(""), Generation: "legacy", TrustLabCA: ptr(true), Timeouts: patient()}
	r := run(t, newMachine(t, p, env))
	wantCode(t, r, "0x00000000")
	if r.Observations[0].Call != "wuredir.cab" || r.Observations[0].Class != profile.ClassRedirector {
		t.Errorf("legacy flow\n%s", dumpResult(t, r))
	}
	wantHosts(t, r, profile.ClassRedirector, "update.microsoft.com")
	wantHosts(t, r, profile.ClassSelfUpdate, "www.update.microsoft.com")
	wantHosts(t, r, profile.ClassScan, "fe2.update.microsoft.com")
	wantHosts(t, r, profile.ClassDownload, "download.windowsupdate.com")
}

// Each role's host can be faulted alone: a content host that does not
// resolve fails the BITS job with the raw 0x80072EE7 after a successful
// scan (reference row 1, download column); the scan's own host is
// untouched. The client reaches the content host around the proxy
// (bypass list), so it resolves the name itself.
func TestLabContentHostAlone(t *testing.T) {
	w := startLab(t, worldtest.UpstreamHTTP(), worldtest.UpstreamHTTPS())
	env := w.Env()
	w.Activate("content host", 1, loadFaults(t, "- {kind: dns.nxdomain, match: {host: download.windowsupdate.com}}"))
	p := profile.Profile{Server: ptr(""), Generation: "legacy", TrustLabCA: ptr(true), Timeouts: patient(),
		Bypass: []string{"*.windowsupdate.com"}}
	r := run(t, newMachine(t, p, env))
	wantCode(t, r, "0x80072EE7")
	if r.Class != profile.ClassDownload || r.Updates == 0 || r.Failed == nil || r.Failed.JobCode.Hex() != "0x80072EE7" {
		t.Errorf("want a download failure after the scan\n%s", dumpResult(t, r))
	}
	// The same fault with the content host reached through the proxy: no
	// client-side lookup, the download succeeds.
	p.Bypass = nil
	wantCode(t, run(t, newMachine(t, p, env)), "0x00000000")
}

// WSUS with an alternate download server: content comes from it, and a
// fault on its name alone fails only the download.
func TestLabAlternateDownloadServer(t *testing.T) {
	w := startLab(t, worldtest.UpstreamHTTP())
	env := w.Env()
	p := profile.Profile{AlternateDownloadServer: ptr("lab"), Proxy: ptr(""), Timeouts: patient()}
	r := run(t, newMachine(t, p, env))
	wantCode(t, r, "0x00000000")
	wantHosts(t, r, profile.ClassDownload, "content.wsus.lab")
	wantHosts(t, r, profile.ClassScan, "wsus.lab")
	w.Activate("alternate host", 1, loadFaults(t, "- {kind: dns.nxdomain, match: {host: content.wsus.lab}}"))
	r = run(t, newMachine(t, p, env))
	if r.Class != profile.ClassDownload || r.Updates == 0 {
		t.Errorf("want a download failure after the scan\n%s", dumpResult(t, r))
	}
}

// A legacy client whose redirector sends it to a client web service that
// fails on the network downloads the redirector cab again (recovery); the
// same redirectorId ends the session with 0x8024502D. A WSUS client makes
// no recovery.
func TestLabRedirectorRecovery(t *testing.T) {
	w := startLab(t, worldtest.UpstreamHTTP(), worldtest.UpstreamHTTPS())
	env := w.Env()
	w.Activate("fe2 down", 1, loadFaults(t, "- {kind: tls.reset, match: {host: fe2.update.microsoft.com}}"))
	p := profile.Profile{Server: ptr(""), Generation: "legacy", TrustLabCA: ptr(true), Timeouts: patient()}
	r := run(t, newMachine(t, p, env))
	wantCode(t, r, "0x8024502D")
	redirs := 0
	for _, o := range r.Observations {
		if o.Call == "wuredir.cab" {
			redirs++
		}
	}
	if r.Class != profile.ClassRedirector || redirs != 2 {
		t.Errorf("want two redirector downloads, then the recovery's failure\n%s", dumpResult(t, r))
	}
	w.Activate("wsus down", 1, loadFaults(t, "- {kind: tcp.reset, at: headers, match: {host: wsus.lab}}"))
	r = run(t, newMachine(t, profile.Profile{Generation: "legacy", Timeouts: patient()}, env))
	wantCode(t, r, "0x80072EFE")
}
