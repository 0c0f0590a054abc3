package profile

import "testing"

// TestClassOf pins the one ClassOf both sides use. The rows marked
// "decided" are where faults.ClassOf (path only, everything else a
// download) and profile.ClassOf disagreed before they became this one:
//   - /selfupdate/x.cab is self-update: section 6.1 lists "/selfupdate/
//     wuident.cab (and /Selfupdate/…)", the agent's self-update tree, not
//     content (faults said download).
//   - /ClientWebService without the trailing slash is the client web
//     service all the same (IIS paths compare without case or slash;
//     faults said download).
//   - / serves nothing of section 6: not a class unless the host tells
//     (faults said download, so a class: download rule fired on it).
func TestClassOf(t *testing.T) {
	for _, c := range []struct {
		host, path string
		want       Class
	}{
		{"", "/ClientWebService/Client.asmx", ClassScan},
		{"", "/v6/ClientWebService/client.asmx", ClassScan},
		{"", "/SimpleAuthWebService/SimpleAuth.asmx", ClassScan},
		{"", "/ReportingWebService/ReportingWebService.asmx", ClassScan},
		{"", "/ClientWebService/wusserverversion.xml", ClassScan},
		{"", "/selfupdate/wuident.cab", ClassSelfUpdate},
		{"", "/v11/3/legacy/windowsupdate/selfupdate/wuident.cab", ClassSelfUpdate},
		{"", "/v6/windowsupdate/redir/wuredir.cab", ClassRedirector},
		{"", "/SLS/{9482F4B4-E343-43B6-B170-9A65BC822C77}/x64/10", ClassRedirector},
		{"", "/Content/B6/A2E8C22844A4E6926F9C841B0D5AEEC8400811B6.psf", ClassDownload},
		{"", "/msdownload/update/software/x.cab", ClassDownload},
		{"www.download.windowsupdate.com", "/msdownload/update/software/meta/0123456789ABCDEF0123456789ABCDEF01234567.cab", ClassScan},
		{"", "/msdownload/update/software/Meta/x.cab", ClassScan},
		{"", "/filestreamingservice/files/abc", ClassDownload},
		{"", "/somewhere/else.txt", ClassDownload},
		// decided (see above)
		{"", "/selfupdate/x.cab", ClassSelfUpdate},
		{"", "/Selfupdate/AU/x86/wuaueng.cab", ClassSelfUpdate},
		{"", "/ClientWebService", ClassScan},
		{"", "/", ""},
		{"wsus.lab:8530", "/", ""},
		// the host decides when the path says nothing
		{"fe3.delivery.mp.microsoft.com:443", "", ClassScan},
		{"FE3CR.delivery.mp.microsoft.com.", "/", ClassScan},
		{"sls.update.microsoft.com", "", ClassRedirector},
		{"slscr.update.microsoft.com:443", "/", ClassRedirector},
		{"7.tlu.dl.delivery.mp.microsoft.com", "", ClassDownload},
		{"www.download.windowsupdate.com:80", "/", ClassDownload},
		{"[::1]:80", "", ""},
	} {
		if got := ClassOf(c.host, c.path); got != c.want {
			t.Errorf("ClassOf(%q, %q) = %q, want %q", c.host, c.path, got, c.want)
		}
	}
}

func TestValidWords(t *testing.T) {
	for _, p := range Phases {
		if !p.Valid() {
			t.Errorf("phase %s invalid", p)
		}
	}
	if Phase("").Valid() || Phase("tcp").Valid() || Class("scanning").Valid() || Confidence("certain").Valid() {
		t.Error("an unknown word is valid")
	}
	if !Low.Weaker(High) || High.Weaker(Low) || Medium.Weaker(Medium) {
		t.Error("Weaker does not follow Confidences")
	}
}
