package observe_test

import (
	"testing"

	"github.com/wufault/wufault/client/observe"
	"github.com/wufault/wufault/client/profile"
	"github.com/wufault/wufault/codes"
)

// TestPredict pins the section-4 prediction of each kind of signature, on
// the scan path and the download path.
func TestPredict(t *testing.T) {
	cases := []struct {
		sig    observe.Signature
		class  profile.Class
		status int
		code   codes.Code // 0: no prediction
		conf   profile.Confidence
		row    string
		alt    codes.Code // the first alternative, 0: none
	}{
		{observe.SigDNSNXDomain, profile.ClassSelfUpdate, 0, 0x8024402C, profile.High, "section 4 #1", 0x80072EE7},
		{observe.SigDNSNXDomain, profile.ClassDownload, 0, 0x80072EE7, profile.Low, "section 4 #1", 0},
		{observe.SigDNSServFail, profile.ClassScan, 0, 0x8024402C, profile.Medium, "section 4 #2", 0x80072EE7},
		{observe.SigDNSRefused, profile.ClassDownload, 0, 0x80072EE7, profile.Low, "section 4 #2", 0},
		{observe.SigDNSNoAnswer, profile.ClassScan, 0, 0x8024402C, profile.MediumLow, "section 4 #3", 0x80072EE2},
		{observe.SigDNSNoData, profile.ClassDownload, 0, 0x80072EE7, profile.Low, "section 4 #3", 0},
		{observe.SigTCPRefused, profile.ClassScan, 0, 0x80072EFD, profile.High, "section 4 #4", 0},
		{observe.SigTCPReset, profile.ClassScan, 0, 0x80072EFE, profile.MediumHigh, "section 4 #6", 0},
		{observe.SigStall, profile.ClassDownload, 0, 0x80D02002, profile.MediumLow, "section 4 #8/#9", 0x80072EE2},
		{observe.SigHTTPStatus, profile.ClassScan, 503, 0x80244022, profile.High, "section 3.2 / 4 #21", 0},
		{observe.SigHTTPStatus, profile.ClassScan, 405, 0x8024401A, profile.Medium, "section 3.2 / 4 #21", 0},
		{observe.SigHTTPStatus, profile.ClassDownload, 404, 0x80190194, profile.Medium, "section 4 #21", 0x80244019},
		{observe.SigHTTPStatus, profile.ClassScan, 200, 0, "", "", 0},
		{observe.SigProxyDenied, profile.ClassScan, 403, 0x80244018, profile.Low, "section 4 #20", 0x80072EFD},
		{observe.SigProxyAuth, profile.ClassScan, 407, 0x8024401B, profile.High, "section 4 #18", 0x80072EEF},
		{observe.SigTCPClientReset, profile.ClassScan, 0, 0, "", "", 0},
	}
	for _, c := range cases {
		p := observe.Predict(c.sig, c.class, c.status, "body")
		if c.code == 0 {
			if p != nil {
				t.Errorf("%s %s %d: %v, want no prediction", c.sig, c.class, c.status, p)
			}
			continue
		}
		if p == nil {
			t.Errorf("%s %s %d: no prediction, want %s", c.sig, c.class, c.status, c.code)
			continue
		}
		var alt codes.Code
		if len(p.Alt) > 0 {
			alt = p.Alt[0].Code
		}
		if p.Code != c.code || p.Confidence != c.conf || p.Row != c.row || alt != c.alt || p.Source == "" {
			t.Errorf("%s %s %d: %v (alt %s), want %s %s %s alt %s", c.sig, c.class, c.status, p, alt, c.code, c.conf, c.row, c.alt)
		}
	}
}
