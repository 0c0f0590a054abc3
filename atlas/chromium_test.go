package atlas

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/wufault/wufault/internal/browsertest"
)

// chromium is Debian's browser (installed by .ci/run).
const chromium = "/usr/bin/chromium"

// TestHTMLInChromium renders a real atlas (a slice run against worlds on
// loopback, one kind of every layer) in headless Chromium at 1400 px,
// asserts on the rendered DOM and layout, opens a cell's detail by
// clicking it, and with -update-screenshot writes the screenshot the
// README shows (docs/atlas.png).
func TestHTMLInChromium(t *testing.T) {
	if _, err := exec.LookPath(chromium); err != nil {
		t.Skipf("%s is not installed (apt-get install chromium; .ci/run installs it)", chromium)
	}
	f := Filters{Kinds: []string{"dns.nxdomain", "dns.servfail", "tcp.refuse", "tcp.reset", "tls.cert", "tls.alert", "http.status", "http.soap_fault", "http.range_ignored", "http.corrupt", "proxy.auth"}}
	a, err := Run(context.Background(), Options{Filters: f, StateDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var page bytes.Buffer
	if err := Render(&page, a, "html"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "atlas.html")
	if err := os.WriteFile(file, page.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromium), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.NoFirstRun, chromedp.UserDataDir(browsertest.Profile(t)),
		chromedp.WindowSize(1400, 1000),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first action starts the browser: its context has no timeout
	// (chromedp stops the browser with it); the test's own deadline bounds
	// the rest.

	if err := chromedp.Run(ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible("#atlas", chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	num := func(js string) int {
		t.Helper()
		var v int
		if err := chromedp.Run(ctx, chromedp.Evaluate(js, &v)); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	str := func(js string) string {
		t.Helper()
		var v string
		if err := chromedp.Run(ctx, chromedp.Evaluate(js, &v)); err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return v
	}
	cells := num(`document.querySelectorAll("td[data-id]").length`)
	legend := num(`document.querySelectorAll("#legend li").length`)
	badges := num(`[...document.querySelectorAll("td[data-status=failed] .conf")].filter(e => e.offsetWidth > 0 && e.innerText.trim() !== "").length`)
	badgeText := str(`document.querySelector("td[data-status=failed] .conf").innerText`)
	scrollWidth := num(`document.documentElement.scrollWidth`)
	tableWidth := num(`Math.round(document.querySelector("#atlas").getBoundingClientRect().right)`)
	groupTx := str(`[...document.querySelectorAll("tr.fam th")].map(e => e.innerText).join(",")`)
	firstFailed := str(`document.querySelector("td[data-status=failed]").dataset.id`)
	if cells != len(a.Cells) {
		t.Errorf("%d cells rendered, the atlas has %d", cells, len(a.Cells))
	}
	if legend != len(Families)+3 {
		t.Errorf("legend has %d entries, want %d", legend, len(Families)+3)
	}
	failed := a.Counts()[StatusFailed]
	if failed == 0 || badges != failed {
		t.Errorf("%d visible confidence badges for %d failed cells", badges, failed)
	}
	if !strings.ContainsAny(badgeText, "HML") {
		t.Errorf("badge text %q is not a confidence", badgeText)
	}
	if scrollWidth > 1400 || tableWidth > 1400 {
		t.Errorf("the page is %d px wide (table right edge %d): it must fit a 1400 px window", scrollWidth, tableWidth)
	}
	if groupTx != "dns,http,proxy,tcp,tls" {
		t.Errorf("family groups %q", groupTx)
	}
	if err := chromedp.Run(ctx, chromedp.Click(fmt.Sprintf(`td[data-id=%q] a`, firstFailed), chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	detailDisplay := str(`(() => { const d = document.querySelector(".detail:target"); return d ? getComputedStyle(d).display : "none" })()`)
	detailText := str(`(() => { const d = document.querySelector(".detail:target"); return d ? d.innerText : "" })()`)
	if detailDisplay != "block" || !strings.Contains(detailText, "rule") || !strings.Contains(detailText, "faults:") || !strings.Contains(detailText, "confidence") {
		t.Errorf("clicking %s: detail display %q, text:\n%s", firstFailed, detailDisplay, detailText)
	}
	// The screenshot for the README: the page as a reader first sees it.
	var png []byte
	if err := chromedp.Run(ctx, chromedp.Navigate("file://"+file), chromedp.WaitVisible("#atlas", chromedp.ByQuery),
		chromedp.CaptureScreenshot(&png)); err != nil {
		t.Fatal(err)
	}
	if len(png) < 10000 {
		t.Fatalf("screenshot of %d bytes", len(png))
	}
	if !*updateScreenshot {
		return // a test run leaves the tree as it was
	}
	if err := os.WriteFile("../docs/atlas.png", png, 0o644); err != nil {
		t.Fatal(err)
	}
}

var updateScreenshot = flag.Bool("update-screenshot", false, "write the README's docs/atlas.png from the rendered page")
