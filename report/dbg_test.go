package report

import (
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pcapq/pcapq/internal/browsertest"
)

func TestDbgShots(t *testing.T) {
	db := openDB(t, "", smallMix, hostileCapture(t))
	path, _ := writeReportFile(t, db, Options{Tool: "pcapq", Database: "testdata/mkcapture-small-mix.pcap"})
	b := browsertest.Start(t, 1280, 1000, 60*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate("file://"+path), chromedp.WaitVisible(chromedp.CSS("footer")), chromedp.Sleep(300*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"overview", "table-protocol_mix", "tcp", "table-worst_connections", "http", "table-http_hosts", "table-http_slowest"} {
		chromedp.Do(b.Ctx, chromedp.ScrollIntoView(chromedp.CSS("#"+id)), chromedp.Sleep(100*time.Millisecond))
		png, err := chromedp.Run(b.Ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile("/tmp/hrep-"+id+".png", png, 0o644)
	}
}
