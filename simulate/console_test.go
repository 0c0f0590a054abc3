package simulate

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/wufault/wufault/internal/browsertest"
	"github.com/wufault/wufault/scenarios"
)

var updateScreenshot = flag.Bool("update", false, "rewrite docs/console.png from the console test")

// chromium returns the path of a Chromium to drive, or skips.
func chromium(t *testing.T) string {
	for _, p := range []string{"/usr/bin/chromium", "/usr/bin/chromium-browser"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	t.Skip("chromium not installed (Debian package chromium)")
	return ""
}

// proxiedFrom returns an HTTP client through w's proxy whose connections
// come from the loopback address ip.
func proxiedFrom(t *testing.T, w *World, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	tr := &http.Transport{Proxy: http.ProxyURL(&url.URL{Scheme: "http", Host: w.Addrs().Proxy}), DialContext: d.DialContext, DisableKeepAlives: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func scanStatus(t *testing.T, c *http.Client) int {
	t.Helper()
	resp, err := c.Post("http://wsus.lab/ClientWebService/client.asmx", "text/xml", strings.NewReader("<x/>"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestConsoleInChromium opens the console in a real headless Chromium: a
// fault fired by a request from 127.0.0.2 appears on the page without a
// reload, an agent's report shows beside the prediction, and switching
// 127.0.0.2's scenario from the page changes what it gets. With -update
// it writes docs/console.png, the screenshot the README shows.
func TestConsoleInChromium(t *testing.T) {
	exe := chromium(t)
	const token = "console-token"
	w := testWorld(t, Options{Proxy: "127.0.0.1:0", DNS: "127.0.0.1:0", UpstreamHTTP: "127.0.0.1:0", Control: "127.0.0.1:0", ControlToken: token})
	api := "http://" + w.Addrs().Control
	sc, err := scenarios.Find("http-status-503-scan")
	if err != nil {
		t.Fatal(err)
	}
	w.Assign(netip.MustParsePrefix("127.0.0.2/32"), sc.Name, sc.Seed, sc.Faults)
	if code, _ := call(t, "GET", api+"/console", "", ""); code != http.StatusUnauthorized {
		t.Errorf("the console without the token: %d", code)
	}

	profile := browsertest.Profile(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:0:0],
		chromedp.ExecPath(exe), chromedp.UserDataDir(profile),
		chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.WindowSize(1280, 900))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	defer func() { _ = chromedp.Cancel(ctx) }() // closes the browser and waits for it
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	defer cancelT()

	row := `#clients tbody tr[data-client="127.0.0.2/32"]`
	if err := chromedp.Run(ctx,
		chromedp.Navigate(api+"/console?access_token="+token),
		chromedp.WaitVisible(`body[data-live="1"]`),
		chromedp.WaitVisible(row+` select.scenario`),
		chromedp.Evaluate(`window.notReloaded = true`, nil),
	); err != nil {
		t.Fatalf("open the console: %v", err)
	}

	// A fault fired by 127.0.0.2's request shows up live.
	two := proxiedFrom(t, w, "127.0.0.2")
	if s := scanStatus(t, two); s != 503 {
		t.Fatalf("127.0.0.2 got %d before the switch, want 503", s)
	}
	var text string
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`#journal tbody tr.ev-fault`),
		chromedp.Text(`#journal tbody tr.ev-fault`, &text),
	); err != nil {
		t.Fatalf("no fault row: %v", err)
	}
	if !strings.Contains(text, "http.status") || !strings.Contains(text, "127.0.0.2") || !strings.Contains(text, "http-status-503-scan") {
		t.Errorf("fault row %q", text)
	}
	// An agent on 127.0.0.2 reports the code its scan ended with.
	report := `{"agent":"wufault-agent/1","host":"WIN10-LAB","kind":"scan","code":"0x80244022"}`
	req, _ := http.NewRequest(http.MethodPost, api+"/reports", strings.NewReader(report))
	req.Header.Set("Authorization", "Bearer "+token)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.2")}}
	resp, err := (&http.Client{Transport: &http.Transport{DialContext: d.DialContext}}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`#journal tbody tr.ev-report td.ok`),
		chromedp.Text(`#journal tbody tr.ev-report`, &text),
	); err != nil {
		t.Fatalf("no report row: %v", err)
	}
	if !strings.Contains(text, "0x80244022 (predicted 0x80244022)") {
		t.Errorf("report row %q", text)
	}

	// Switch 127.0.0.2 to another scenario from the page.
	if err := chromedp.Run(ctx,
		chromedp.SetValue(row+` select.scenario`, "http-status-502-scan"), // fires input and change, as a user's choice does
	); err != nil {
		t.Fatal(err)
	}
	if !eventually(10*time.Second, func() bool { return w.ActiveFor(netip.MustParseAddr("127.0.0.2")).Name == "http-status-502-scan" }) {
		t.Fatal("the page's switch did not reach the world")
	}
	if s := scanStatus(t, two); s != 502 {
		t.Errorf("127.0.0.2 got %d after the switch, want 502", s)
	}
	if s := scanStatus(t, proxiedFrom(t, w, "127.0.0.3")); s == 502 || s == 503 {
		t.Errorf("127.0.0.3 (default scenario) got %d", s)
	}
	var notReloaded bool
	var png []byte
	if err := chromedp.Run(ctx,
		chromedp.WaitVisible(`#journal tbody tr.ev-scenario`),
		chromedp.WaitVisible(row+` td.fired`),
		chromedp.Evaluate(`window.notReloaded === true`, &notReloaded),
		chromedp.Text(`#journal tbody`, &text),
		chromedp.FullScreenshot(&png, 100),
	); err != nil {
		t.Fatal(err)
	}
	if !notReloaded {
		t.Error("the page reloaded")
	}
	if !strings.Contains(text, "http-status-502-scan") || strings.Count(text, "http.status") < 2 {
		t.Errorf("journal after the switch:\n%s", text)
	}
	if len(png) < 8 || string(png[1:4]) != "PNG" {
		t.Fatalf("screenshot: %d bytes", len(png))
	}
	if *updateScreenshot {
		if err := os.WriteFile("../docs/console.png", png, 0o644); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(os.Stderr, "wrote docs/console.png (%d bytes)\n", len(png))
	}
}
