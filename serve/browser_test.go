package serve

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/internal/browsertest"
	"github.com/pcapq/pcapq/internal/reporttest"
	"github.com/pcapq/pcapq/report"
)

func evalJS[T any](t *testing.T, b *browsertest.Browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// checkSameHost fails the test for a request to anything but the server.
func checkSameHost(t *testing.T, b *browsertest.Browser, base string) {
	t.Helper()
	bu, _ := url.Parse(base)
	n := 0
	for _, r := range b.Requests() {
		u, err := url.Parse(r)
		if err != nil || u.Host != bu.Host || u.Scheme != "http" {
			if strings.HasPrefix(r, "blob:"+base) {
				continue // the CSV download, made in the page
			}
			t.Errorf("the page requested %q (only %s may be asked)", r, bu.Host)
		}
		n++
	}
	if n == 0 {
		t.Error("no request seen: the check saw nothing")
	}
}

// runQuery types q into the console, runs it and waits for the answer.
func runQuery(t *testing.T, b *browsertest.Browser, q string) (state, msg, errText string) {
	t.Helper()
	if err := chromedp.Do(b.Ctx,
		chromedp.SetValue(chromedp.CSS("#sql"), q),
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.Poll[chromedp.Void](`["done", "error"].includes(document.getElementById("console").getAttribute("data-state"))`, chromedp.WithPollingTimeout(20*time.Second)),
	); err != nil {
		t.Fatalf("running %q: %v", q, err)
	}
	return evalJS[string](t, b, `document.getElementById("console").getAttribute("data-state")`),
		evalJS[string](t, b, `document.getElementById("qmsg").textContent`),
		evalJS[string](t, b, `document.getElementById("qerr").textContent`)
}

// The served page in Chromium: the report with its charts drawn, nothing
// asked of any host but the server; the console answers a count equal to
// the table's, refuses a write (the table is unchanged), and its CSV
// download holds the result.
func TestServeInChromium(t *testing.T) {
	db := reporttest.OpenDB(t, "", smallMix, reporttest.HostileCapture(t))
	ts, s := newServer(t, db, Options{Report: report.Options{Tool: "pcapq test", Database: "db"}})
	s.o.Hosts = LoopbackHosts(strings.TrimPrefix(ts.URL, "http://"))
	b := browsertest.Start(t, 1280, 1000, 90*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("footer")),
		chromedp.Poll[chromedp.Void](`document.documentElement.getAttribute("data-charts-drawn")`)); err != nil {
		t.Fatal(err)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll(".uplot canvas").length`); n < 6 {
		t.Errorf("%d charts drawn", n)
	}

	want := scalar(t, db, "SELECT count(*) FROM http WHERE status_code = 200")
	state, msg, errText := runQuery(t, b, "SELECT count(*) AS n FROM http WHERE status_code = 200")
	cell := evalJS[string](t, b, `document.querySelector("#qres td").textContent`)
	if state != "done" || cell != strconv.FormatInt(want, 10) || !strings.HasPrefix(msg, "1 rows") {
		t.Errorf("count query: state %s, cell %q (want %d), message %q, error %q", state, cell, want, msg, errText)
	}

	before := scalar(t, db, "SELECT count(*) FROM http_data")
	state, _, errText = runQuery(t, b, "DELETE FROM http_data")
	if state != "error" || !strings.Contains(errText, "read-only") {
		t.Errorf("DELETE: state %s, error %q; want refused as read-only", state, errText)
	}
	if after := scalar(t, db, "SELECT count(*) FROM http_data"); after != before || before == 0 {
		t.Errorf("http_data: %d rows before the DELETE, %d after", before, after)
	}

	// Hostile text in a result is text in the table.
	state, _, _ = runQuery(t, b, "SELECT DISTINCT host FROM http WHERE host LIKE 'evil%'")
	if got := evalJS[string](t, b, `document.querySelector("#qres td").textContent`); state != "done" || got != reporttest.HostileHost {
		t.Errorf("hostile host shown as %q (state %s)", got, state)
	}

	// The CSV button: catch the download link the page makes and read it.
	runQuery(t, b, "SELECT method, count(*) AS n FROM http GROUP BY ALL ORDER BY n DESC")
	// (The page's CSP lets it fetch nothing but the server, so the blob is
	// read where the page makes its URL.)
	csv := evalJS[string](t, b, `new Promise((resolve, reject) => {
		const make = URL.createObjectURL, click = HTMLAnchorElement.prototype.click;
		let blob = null;
		URL.createObjectURL = function (b) { blob = b; return make.call(URL, b); };
		HTMLAnchorElement.prototype.click = function () {
			URL.createObjectURL = make;
			HTMLAnchorElement.prototype.click = click;
			if (!this.download || !this.href.startsWith("blob:") || !blob) { reject(new Error("no blob download link")); return; }
			blob.text().then(resolve, reject);
		};
		document.getElementById("csv").click();
		setTimeout(() => reject(new Error("no download in 10 s")), 10000);
	})`)
	var wantCSV strings.Builder
	wantCSV.WriteString("method,n\n")
	rows, err := db.Query(context.Background(), "SELECT method, count(*) AS n FROM http GROUP BY ALL ORDER BY n DESC")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var m string
		var n int64
		rows.Scan(&m, &n)
		wantCSV.WriteString(m + "," + strconv.FormatInt(n, 10) + "\n")
	}
	rows.Close()
	if csv != wantCSV.String() {
		t.Errorf("CSV download:\n%s\nwant\n%s", csv, wantCSV.String())
	}
	b.CheckClean(t, "the server responded with a status of 403") // the DELETE
	checkSameHost(t, b, ts.URL)
}

// While captures are written into the served database, the live counter
// of the page rises, and ends at the table's count. (pcapq capture --serve
// feeds the server the same way: the writer holds Options.Lock while it
// writes.)
func TestLiveInChromium(t *testing.T) {
	db := reporttest.OpenDB(t, "")
	var mu sync.Mutex
	ts, s := newServer(t, db, Options{Live: true, Tick: 200 * time.Millisecond, Refresh: time.Second, Lock: &mu})
	s.o.Hosts = LoopbackHosts(strings.TrimPrefix(ts.URL, "http://"))
	b := browsertest.Start(t, 1280, 1000, 120*time.Second)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(ts.URL+"/"), chromedp.WaitVisible(chromedp.CSS("#live")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live").getAttribute("data-packets") === "0" && document.getElementById("live-packets").textContent === "0"`)); err != nil {
		t.Fatal(err)
	}
	// Copies of the capture under other names: each is a new capture.
	dir := t.TempDir()
	data, err := os.ReadFile(smallMix)
	if err != nil {
		t.Fatal(err)
	}
	const captures = 4
	var seen []int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < captures; i++ {
			f := filepath.Join(dir, "c"+strconv.Itoa(i)+".pcap")
			os.WriteFile(f, data, 0o644)
			mu.Lock()
			reporttest.IngestFile(t, db, f, ingest.DefaultOptions())
			mu.Unlock()
			time.Sleep(700 * time.Millisecond)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		v, err := strconv.ParseInt(evalJS[string](t, b, `document.getElementById("live-packets").textContent`), 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		if len(seen) == 0 || v != seen[len(seen)-1] {
			seen = append(seen, v)
		}
		select {
		case <-done:
			if v == scalar(t, db, "SELECT count(*) FROM packets") {
				deadline = time.Time{}
			}
		default:
		}
		time.Sleep(100 * time.Millisecond)
	}
	<-done
	total := scalar(t, db, "SELECT count(*) FROM packets")
	if len(seen) < 3 || seen[len(seen)-1] != total {
		t.Fatalf("the counter showed %v; want it to rise in steps to %d", seen, total)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Errorf("the counter went from %d to %d", seen[i-1], seen[i])
		}
	}
	// The report below is recomputed once the counts change: it ends with
	// every capture.
	if err := chromedp.Do(b.Ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#stat-packets .v").textContent === "`+strconv.FormatInt(total, 10)+`"`,
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Errorf("the report's packet count did not reach %d: %v (shows %s)", total, err,
			evalJS[string](t, b, `document.querySelector("#stat-packets .v").textContent`))
	}
	if n := evalJS[int](t, b, `document.querySelectorAll("#chart-packets_per_s .uplot canvas").length`); n != 1 {
		t.Errorf("after the refresh, the traffic chart is drawn %d times", n)
	}
	if n := evalJS[int](t, b, `document.querySelectorAll("#recent-http tbody tr").length`); n != recentRows {
		t.Errorf("%d newest HTTP transactions shown, want %d", n, recentRows)
	}
	t.Logf("counter values seen: %v", seen)
	b.CheckClean(t)
	checkSameHost(t, b, ts.URL)
}
