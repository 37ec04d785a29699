package report

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pcapq/pcapq/internal/browsertest"
)

var screenshot = flag.String("screenshot", "", "write a screenshot of the report of testdata/mkcapture-small-mix.pcap to this PNG file (docs/report.png)")

// writeReportFile builds the report of db and writes it as HTML.
func writeReportFile(t *testing.T, db Querier, o Options) (string, *Report) {
	t.Helper()
	r, err := Build(context.Background(), db, o)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteHTML(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, r
}

// evalJS evaluates a JavaScript expression in the page.
func evalJS[T any](t *testing.T, b *browsertest.Browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

func countCharts(r *Report) int {
	n := 0
	for _, s := range r.Sections {
		n += len(s.Charts)
	}
	return n
}

// The report of a capture carrying <script>, onerror=, </style> and
// </script> in its URI, Host, User-Agent, reason phrase and path opens in
// Chromium without running any of it, without asking any host for
// anything, with its style and charts intact and the hostile text shown
// as text.
func TestHTMLHostileInChromium(t *testing.T) {
	db := openDB(t, "", hostileCapture(t))
	path, r := writeReportFile(t, db, Options{Tool: "pcapq test", Database: filepath.Join(t.TempDir(), hostileDir, "x.pcap")})
	b := browsertest.Start(t, 1280, 900, 60*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("footer")), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	drawn := evalJS[string](t, b, `document.documentElement.getAttribute("data-charts-drawn") || ""`)
	counts := evalJS[map[string]int](t, b, `({
			script: document.querySelectorAll("script").length,
			style: document.querySelectorAll("style").length,
			img: document.querySelectorAll("img").length,
			svg: document.querySelectorAll("svg").length,
			b: document.querySelectorAll("b[onmouseover]").length,
			on: [...document.querySelectorAll("*")].filter(e => [...e.attributes].some(a => a.name.startsWith("on"))).length,
			uplot: document.querySelectorAll(".uplot canvas").length,
		})`)
	text := evalJS[string](t, b, `document.body.innerText`)
	h1Size := evalJS[string](t, b, `getComputedStyle(document.querySelector("h1")).fontSize`)
	bodyFont := evalJS[string](t, b, `getComputedStyle(document.body).fontFamily`)
	b.CheckClean(t)
	for _, u := range b.Requests() {
		if u != "file://"+path {
			t.Errorf("the page requested %q (only the file itself may be loaded)", u)
		}
	}
	if bl := b.Blocked(); len(bl) > 0 {
		t.Errorf("the page tried to load %v (blocked by its CSP)", bl)
	}
	if want := countCharts(r); drawn != strconv.Itoa(want) || counts["uplot"] != want {
		t.Errorf("charts drawn: attribute %q, %d uPlot canvases; want %d (a broken script or CSP hash draws none)", drawn, counts["uplot"], want)
	}
	// The page's own elements only: the JSON data, uPlot, report.js; one style sheet.
	want := map[string]int{"script": 3, "style": 1, "img": 0, "svg": 0, "b": 0, "on": 0}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("%d %s elements in the page, want %d (captured text became markup)", counts[k], k, v)
		}
	}
	if h1Size != "22px" || !strings.Contains(bodyFont, "system-ui") {
		t.Errorf("style broken: h1 font-size %q, body font %q", h1Size, bodyFont)
	}
	for _, s := range []string{hostileHost, hostileUA, hostileReason, hostileDir, `/api/items/{id}/</script><script>alert("uri")</script>`} {
		if !strings.Contains(text, s) {
			t.Errorf("the page does not show %q as text", s)
		}
	}
}

// The report of the recorded mixed capture renders in Chromium with every
// chart drawn, nothing requested from any host, no console error; with
// -screenshot FILE it writes the README's picture.
func TestHTMLReportInChromium(t *testing.T) {
	db := openDB(t, "", smallMix)
	path, r := writeReportFile(t, db, Options{Tool: "pcapq", Database: "testdata/mkcapture-small-mix.pcap"})
	// Tall enough for the README's picture: the overview and the first
	// traffic chart.
	b := browsertest.Start(t, 1200, 1500, 60*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("footer")), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	drawn := evalJS[int](t, b, `document.querySelectorAll(".uplot canvas").length`)
	var png []byte
	if *screenshot != "" {
		var err error
		if png, err = chromedp.Run(b.Ctx, chromedp.CaptureScreenshot()); err != nil {
			t.Fatal(err)
		}
	}
	b.CheckClean(t)
	for _, u := range b.Requests() {
		if u != "file://"+path {
			t.Errorf("the page requested %q", u)
		}
	}
	if bl := b.Blocked(); len(bl) > 0 {
		t.Errorf("the page tried to load %v (blocked by its CSP)", bl)
	}
	if want := countCharts(r); drawn != want {
		t.Errorf("%d charts drawn, want %d", drawn, want)
	}
	if *screenshot != "" {
		if err := os.WriteFile(*screenshot, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s (%d bytes)", *screenshot, len(png))
	}
}

// Defence in depth: were escaping to fail, the page's Content-Security-
// Policy would still stop an injected inline script, event handler,
// remote script, image or style from running or loading.
func TestCSPBlocksInjected(t *testing.T) {
	db := openDB(t, "", hostileCapture(t))
	path, _ := writeReportFile(t, db, Options{Tool: "pcapq test"})
	page, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	injected := `<script>alert("inline")</script><img src="http://192.0.2.1/x.png" onerror="alert('handler')">` +
		`<script src="http://192.0.2.1/x.js"></script><link rel="stylesheet" href="http://192.0.2.1/x.css">` +
		`<iframe src="http://192.0.2.1/"></iframe><div id="injected-style-check" style="display:none">x</div>`
	page = []byte(strings.Replace(string(page), "<main id=\"report\">", "<main id=\"report\">"+injected, 1))
	if err := os.WriteFile(path, page, 0o644); err != nil {
		t.Fatal(err)
	}
	b := browsertest.Start(t, 1000, 800, 60*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("footer")), chromedp.Sleep(500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	if d := b.Dialogs(); len(d) > 0 {
		t.Errorf("injected script ran: %v", d)
	}
	for _, u := range b.Requests() {
		if strings.Contains(u, "192.0.2.1") {
			t.Errorf("the page requested %s", u)
		}
	}
	if n := len(b.Blocked()); n < 3 {
		t.Errorf("%d requests blocked by the CSP, want the image, script and style sheet: %v", n, b.Blocked())
	}
	// The inline style attribute is refused too (style-src has no 'unsafe-inline').
	if v := evalJS[string](t, b, `getComputedStyle(document.getElementById("injected-style-check")).display`); v == "none" {
		t.Errorf("an injected style attribute applied")
	}
	blocked := 0
	for _, c := range b.Console() {
		if strings.Contains(c, "Content Security Policy") {
			blocked++
		}
	}
	if blocked < 3 {
		t.Errorf("%d CSP refusals logged, want one for each injected item: %q", blocked, b.Console())
	}
}
