package simulate

import "testing"

func TestInLabZone(t *testing.T) {
	for name, want := range map[string]bool{
		"fe2.update.microsoft.com": true, "WWW.Update.Microsoft.com.": true, "update.microsoft.com:443": true,
		"download.windowsupdate.com": true, "fe3.delivery.mp.microsoft.com": true, "7.tlu.dl.delivery.mp.microsoft.com": true,
		"wsus.lab": true, "WSUS.lab.:8531": true, "sls.update.microsoft.com": true,
		"microsoft.com": false, "example.test": false, "update.microsoft.com.evil.test": false,
	} {
		if got := InLabZone(name); got != want {
			t.Errorf("InLabZone(%q) = %v, want %v", name, got, want)
		}
	}
}
