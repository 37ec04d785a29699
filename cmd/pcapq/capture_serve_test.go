package main

// pcapq capture --serve tests. The captured traffic runs between two
// network namespaces of the test's own (names sv-*, addresses
// 10.232.N.1 and .2, seen by nobody else), each joined by a veth pair to a
// bridge in the root namespace that has no address: pcapq captures on the
// root end of the server's veth, so that it runs, and serves its page on
// loopback, in the root namespace, where the browser is.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pcapq/pcapq/internal/browsertest"
)

var svSeq atomic.Int32

// svNet is a server and a client namespace bridged in the root namespace.
type svNet struct {
	srv, cli         string // namespaces
	srvIf, cliIf     string // their veth ends
	srvRoot, cliRoot string // the root ends, on the bridge
	bridge           string
	srvIP, cliIP     string
}

func newSvNet(t *testing.T) *svNet {
	t.Helper()
	seq := svSeq.Add(1)
	id := fmt.Sprintf("sv-%d%d", os.Getpid()%10000, seq)
	n := &svNet{srv: id + "s", cli: id + "c", srvIf: id + "s", cliIf: id + "c", srvRoot: id + "a", cliRoot: id + "b", bridge: id + "r",
		srvIP: fmt.Sprintf("10.232.%d.1", seq%250), cliIP: fmt.Sprintf("10.232.%d.2", seq%250)}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", n.srv).Run()
		exec.Command("ip", "netns", "del", n.cli).Run()
		exec.Command("ip", "link", "del", n.bridge).Run()
	})
	sh(t, "ip", "netns", "add", n.srv)
	sh(t, "ip", "netns", "add", n.cli)
	sh(t, "ip", "link", "add", n.bridge, "type", "bridge", "nf_call_iptables", "0", "nf_call_ip6tables", "0", "nf_call_arptables", "0")
	sh(t, "ip", "link", "add", n.srvIf, "type", "veth", "peer", "name", n.srvRoot)
	sh(t, "ip", "link", "add", n.cliIf, "type", "veth", "peer", "name", n.cliRoot)
	sh(t, "ip", "link", "set", n.srvIf, "netns", n.srv)
	sh(t, "ip", "link", "set", n.cliIf, "netns", n.cli)
	// The root ends: no address, no IPv6 (nothing of the root namespace
	// goes on them).
	for _, ifc := range []string{n.bridge, n.srvRoot, n.cliRoot} {
		sh(t, "sysctl", "-qw", "net.ipv6.conf."+ifc+".disable_ipv6=1")
	}
	sh(t, "ip", "link", "set", n.srvRoot, "master", n.bridge)
	sh(t, "ip", "link", "set", n.cliRoot, "master", n.bridge)
	for _, ifc := range []string{n.bridge, n.srvRoot, n.cliRoot} {
		sh(t, "ip", "link", "set", ifc, "up")
	}
	for _, x := range [][3]string{{n.srv, n.srvIf, n.srvIP}, {n.cli, n.cliIf, n.cliIP}} {
		sh(t, "ip", "netns", "exec", x[0], "sysctl", "-qw", "net.ipv6.conf."+x[1]+".disable_ipv6=1")
		sh(t, "ip", "-n", x[0], "addr", "add", x[2]+"/24", "dev", x[1])
		sh(t, "ip", "-n", x[0], "link", "set", "lo", "up")
		sh(t, "ip", "-n", x[0], "link", "set", x[1], "up")
		// Frames as on a wire: no segmentation offload (ethtool may be
		// absent; the checks below hold either way).
		exec.Command("ip", "netns", "exec", x[0], "ethtool", "-K", x[1], "tso", "off", "gso", "off", "gro", "off").Run()
	}
	return n
}

// httpServer serves a small page and a 320 KB file from the server
// namespace on port 8080.
func (n *svNet) httpServer(t *testing.T) {
	t.Helper()
	www := t.TempDir()
	os.WriteFile(filepath.Join(www, "index.html"), []byte("<html>hello</html>\n"), 0o644)
	os.WriteFile(filepath.Join(www, "big.bin"), bytes.Repeat([]byte("0123456789abcdef"), 20000), 0o644)
	srv := exec.Command("ip", "netns", "exec", n.srv, "python3", "-m", "http.server", "8080", "--bind", n.srvIP, "--directory", www)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	deadline := time.Now().Add(15 * time.Second)
	for exec.Command("ip", "netns", "exec", n.srv, "curl", "-s", "-o", "/dev/null", "http://"+n.srvIP+":8080/index.html").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the HTTP server did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// get fetches paths from the server, from the client namespace.
func (n *svNet) get(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if out, err := exec.Command("ip", "netns", "exec", n.cli, "curl", "-sS", "-o", "/dev/null", "http://"+n.srvIP+":8080"+p).CombinedOutput(); err != nil {
			t.Errorf("curl %s: %v %s", p, err, out)
		}
	}
}

// syncLog is a process's output, read while the process writes it.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// servingCapture is a pcapq capture --serve running.
type servingCapture struct {
	cmd    *exec.Cmd
	stderr *syncLog
	done   chan struct{}
	err    error
	base   string // http://ADDR
}

var servingRE = regexp.MustCompile(`at (http://[^/ ]+)/ while capturing`)

// startServing starts pcapq capture with args in namespace ns ("": the
// test's) and waits for the address it serves on.
func startServing(t *testing.T, ns string, args ...string) *servingCapture {
	t.Helper()
	c := &servingCapture{cmd: nsPcapqCmd(t, ns, append([]string{"capture"}, args...)...), stderr: &syncLog{}, done: make(chan struct{})}
	c.cmd.Stdout, c.cmd.Stderr = io.Discard, c.stderr
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { c.err = c.cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		select {
		case <-c.done:
		default:
			c.cmd.Process.Kill()
			<-c.done
		}
	})
	deadline := time.After(30 * time.Second)
	for c.base == "" {
		if m := servingRE.FindStringSubmatch(c.stderr.String()); m != nil {
			c.base = m[1]
			break
		}
		select {
		case <-c.done:
			t.Fatalf("pcapq capture %v ended: %v: %s", args, c.err, c.stderr.String())
		case <-deadline:
			t.Fatalf("pcapq capture %v did not say where it serves: %s", args, c.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return c
}

// wait waits for the capture to end and returns its exit status.
func (c *servingCapture) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(within):
		c.cmd.Process.Kill()
		<-c.done
		t.Fatalf("pcapq capture did not end within %v: %s", within, c.stderr.String())
	}
	if ee, ok := c.err.(*exec.ExitError); ok {
		return ee.ExitCode()
	} else if c.err != nil {
		t.Fatal(c.err)
	}
	return 0
}

// webResult is the console's answer.
type webResult struct {
	Rows      [][]any
	Truncated bool
	Notice    string
	Error     string
}

// webQuery runs sql in the console of the page at base (from the test's
// namespace) and returns the status and the JSON answer.
func webQuery(t *testing.T, base, sql string) (int, webResult) {
	t.Helper()
	var res webResult
	b, _ := json.Marshal(map[string]string{"sql": sql})
	resp, err := http.Post(base+"/api/query", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatalf("POST %s/api/query: %v", base, err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		t.Fatalf("POST %s/api/query %q: status %d, %v", base, sql, resp.StatusCode, err)
	}
	return resp.StatusCode, res
}

// stableCount waits until `pcapq query -d` (answered by the capture)
// gives the same count of sql twice, 1.5 s apart (three commits), and
// returns it.
func stableCount(t *testing.T, db, sql string) int64 {
	t.Helper()
	last := int64(-1)
	for i := 0; i < 20; i++ {
		n := queryInt(t, "", db, sql)
		if n == last {
			return n
		}
		last = n
		time.Sleep(1500 * time.Millisecond)
	}
	t.Fatalf("%s: the count did not settle (last %d)", sql, last)
	return 0
}

// The page of pcapq capture --serve in Chromium, while HTTP goes between
// the namespaces: it asks nothing of any host but the capture's server,
// its packet counter rises while the traffic runs, the report and the
// newest HTTP transactions follow, the console's count equals the one
// pcapq query -d gets from the running capture, writes are refused and
// change nothing, and SIGINT ends the capture (status 0, web server shut
// down) with a database that pcapq query reads whole.
func TestCaptureServeInChromium(t *testing.T) {
	needLive(t)
	n := newSvNet(t)
	n.httpServer(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "live.duckdb")
	cp := startServing(t, "", "-i", n.srvRoot, "-o", db, "-f", "tcp port 8080", "--commit-interval", "300ms", "--serve", "127.0.0.1:0")
	if strings.Contains(cp.stderr.String(), "WARNING") {
		t.Errorf("a warning for a loopback address: %s", cp.stderr.String())
	}
	b := browsertest.Start(t, 1280, 1000, 3*time.Minute)
	if err := chromedp.Do(b.Ctx, chromedp.Navigate(cp.base+"/"), chromedp.WaitVisible(chromedp.CSS("#live")),
		chromedp.Poll[chromedp.Void](`document.getElementById("live").getAttribute("data-packets") !== null`)); err != nil {
		t.Fatal(err)
	}
	livePackets := func() int64 {
		v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[string](`document.getElementById("live-packets").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		k, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			t.Fatalf("the page's packet counter reads %q", v)
		}
		return k
	}

	// Traffic in rounds 1.2 s apart; the counter is read every 200 ms.
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 6; i++ {
			n.get(t, "/index.html", "/big.bin", "/missing")
			time.Sleep(1200 * time.Millisecond)
		}
	}()
	var seen []int64
	var end time.Time
	for ; end.IsZero() || time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		v := livePackets()
		if len(seen) == 0 || v != seen[len(seen)-1] {
			seen = append(seen, v)
		}
		select {
		case <-done:
			if end.IsZero() {
				end = time.Now().Add(3 * time.Second)
			}
		default:
		}
	}
	t.Logf("packet counter values seen: %v", seen)
	if len(seen) < 4 {
		t.Errorf("the packet counter showed %v while 6 rounds of requests ran; want it to rise in at least 3 steps", seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Errorf("the packet counter went from %d to %d", seen[i-1], seen[i])
		}
	}

	// The console against the running capture's own answer.
	packets := stableCount(t, db, "SELECT count(*) FROM packets")
	// 18 HTTP transactions on connections of their own: at least a
	// handshake, a request, a response, two FINs and their ACKs each.
	if packets < 18*8 || seen[len(seen)-1] != packets {
		t.Errorf("%d packets in the database (want at least %d for 18 transactions), the page's counter ended at %d", packets, 18*8, seen[len(seen)-1])
	}
	state, msg, errText := consoleQuery(t, b, "SELECT count(*) AS n FROM packets")
	cell := evalIn[string](t, b, `document.querySelector("#qres td").textContent`)
	if state != "done" || cell != strconv.FormatInt(packets, 10) || !strings.HasPrefix(msg, "1 rows") {
		t.Errorf("console count: state %s, cell %q (pcapq query -d: %d), message %q, error %q", state, cell, packets, msg, errText)
	}
	httpRows := queryInt(t, "", db, "SELECT count(*) FROM http")
	state, _, errText = consoleQuery(t, b, "SELECT count(*) AS n FROM http WHERE status_code = 200")
	if cell := evalIn[string](t, b, `document.querySelector("#qres td").textContent`); state != "done" || cell != "12" || httpRows != 18 {
		t.Errorf("console: %s HTTP 200s (state %s, %q), want 12; pcapq query -d: %d transactions, want 18", cell, state, errText, httpRows)
	}
	for _, q := range []string{"DELETE FROM packets", "CREATE TABLE x(a int)", "DROP TABLE flows_open", "SELECT 1; DELETE FROM packets"} {
		state, _, errText := consoleQuery(t, b, q)
		if state != "error" || !strings.Contains(errText, "read-only") {
			t.Errorf("%s: state %s, error %q; want refused as read-only", q, state, errText)
		}
	}
	// Other files are out of reach (the capture runs as root).
	state, _, errText = consoleQuery(t, b, "SELECT content FROM read_text('/etc/hostname')")
	if state != "error" || !strings.Contains(errText, "disabled by configuration") {
		t.Errorf("read_text: state %s, error %q; want refused", state, errText)
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM packets"); got != packets {
		t.Errorf("packets: %d after the refused statements, %d before", got, packets)
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'x'"); got != 0 {
		t.Error("a refused statement created table x")
	}

	// The live parts of the page: the newest transactions, the other
	// counters, and the report, recomputed (every 10 s) since it changed.
	if err := chromedp.Do(b.Ctx, chromedp.Poll[chromedp.Void](`Number(document.getElementById("live").getAttribute("data-refreshed") || 0) >= 1 && (document.querySelector("#stat-packets .v") || {}).textContent === "`+strconv.FormatInt(packets, 10)+`"`,
		chromedp.WithPollingTimeout(40*time.Second))); err != nil {
		t.Errorf("the report was not recomputed to %d packets: %v (shows %s)", packets, err, evalIn[string](t, b, `String((document.querySelector("#stat-packets .v") || {}).textContent)`))
	}
	if n := evalIn[int](t, b, `document.querySelectorAll("#report .uplot canvas").length`); n < 3 {
		t.Errorf("%d charts drawn in the report", n)
	}
	if n := evalIn[int](t, b, `document.querySelectorAll("#recent-http tbody tr").length`); n != 10 {
		t.Errorf("%d newest HTTP transactions shown, want 10", n)
	}
	if v := evalIn[string](t, b, `document.getElementById("live-http").textContent`); v != "18" {
		t.Errorf("HTTP counter %q, want 18", v)
	}
	// The TCP events counter shows the table's count (curl over a quiet
	// veth may well make none: the count, not a minimum, is checked).
	events := strconv.FormatInt(queryInt(t, "", db, "SELECT count(*) FROM tcp_events"), 10)
	if err := chromedp.Do(b.Ctx, chromedp.Poll[chromedp.Void](`document.getElementById("live-tcp_events").textContent === "`+events+`"`,
		chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Errorf("the TCP events counter shows %q, the table holds %s: %v", evalIn[string](t, b, `document.getElementById("live-tcp_events").textContent`), events, err)
	}
	b.CheckClean(t, "the server responded with a status of 403", "the server responded with a status of 400")
	checkRequests(t, b, cp.base)

	cp.cmd.Process.Signal(os.Interrupt)
	if code := cp.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT: %s", code, cp.stderr.String())
	}
	if _, err := http.Get(cp.base + "/"); err == nil {
		t.Error("the page is still served after the capture ended")
	}
	got := nsQueryCSV(t, "", db, "SELECT (SELECT count(*) FROM packets), (SELECT count(*) FROM http), (SELECT bool_and(complete) FROM captures), (SELECT sum(packets) FROM captures), (SELECT count(*) FROM flows_open)")
	if want := fmt.Sprintf("%d,18,true,%d,0", packets, packets); got != want {
		t.Errorf("the database after SIGINT: packets, http, complete, captures.packets, flows_open = %s, want %s", got, want)
	}
}

func evalIn[T any](t *testing.T, b *browsertest.Browser, expr string) T {
	t.Helper()
	v, err := chromedp.Run(b.Ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// consoleQuery types q into the page's console, runs it and waits for the
// answer.
func consoleQuery(t *testing.T, b *browsertest.Browser, q string) (state, msg, errText string) {
	t.Helper()
	if err := chromedp.Do(b.Ctx,
		chromedp.SetValue(chromedp.CSS("#sql"), q),
		chromedp.Click(chromedp.CSS("#run")),
		chromedp.Poll[chromedp.Void](`["done", "error"].includes(document.getElementById("console").getAttribute("data-state"))`, chromedp.WithPollingTimeout(30*time.Second)),
	); err != nil {
		t.Fatalf("running %q: %v", q, err)
	}
	return evalIn[string](t, b, `document.getElementById("console").getAttribute("data-state")`),
		evalIn[string](t, b, `document.getElementById("qmsg").textContent`),
		evalIn[string](t, b, `document.getElementById("qerr").textContent`)
}

// checkRequests fails the test for a request of the page to anything but
// base.
func checkRequests(t *testing.T, b *browsertest.Browser, base string) {
	t.Helper()
	bu, _ := url.Parse(base)
	reqs := b.Requests()
	for _, r := range reqs {
		if u, err := url.Parse(r); err != nil || u.Scheme != "http" || u.Host != bu.Host {
			t.Errorf("the page requested %q (only %s may be asked)", r, bu.Host)
		}
	}
	if blocked := b.Blocked(); len(blocked) > 0 {
		t.Errorf("the page tried to load %v (blocked by its CSP)", blocked)
	}
	var events bool
	for _, r := range reqs {
		events = events || strings.HasSuffix(r, "/api/events")
	}
	if len(reqs) < 3 || !events {
		t.Errorf("requests seen: %v; want the page, its event stream and the console's", reqs)
	}
}

// --serve on an address other than loopback: refused (status 2) without
// --allow-remote; with it, a warning, and the page answers from the other
// namespace.
func TestCaptureServeRemote(t *testing.T) {
	needLive(t)
	n := newSvNet(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "live.duckdb")
	var errb bytes.Buffer
	cmd := nsPcapqCmd(t, n.cli, "capture", "-i", n.cliIf, "-o", db, "--duration", "5s", "--serve", n.cliIP+":8081")
	cmd.Stderr = &errb
	err := cmd.Run()
	ee, _ := err.(*exec.ExitError)
	if ee == nil || ee.ExitCode() != 2 || !strings.Contains(errb.String(), "--serve "+n.cliIP+":8081 is not a loopback address") || !strings.Contains(errb.String(), "--allow-remote") {
		t.Errorf("--serve %s:8081 without --allow-remote: %v: %s; want status 2 naming --allow-remote", n.cliIP, err, errb.String())
	}
	if _, err := os.Stat(db); err == nil {
		t.Error("the refused capture created its database")
	}

	cp := startServing(t, n.cli, "-i", n.cliIf, "-o", db, "--duration", "6s", "--serve", n.cliIP+":0", "--allow-remote")
	if !strings.Contains(cp.stderr.String(), "WARNING: serving on "+n.cliIP) {
		t.Errorf("no warning for a page served on %s: %s", n.cliIP, cp.stderr.String())
	}
	out, err := exec.Command("ip", "netns", "exec", n.srv, "curl", "-sS", "-H", "Content-Type: application/json",
		"--data", `{"sql":"SELECT count(*) AS n FROM captures"}`, cp.base+"/api/query").CombinedOutput()
	var res struct{ Rows [][]any }
	if err != nil || json.Unmarshal(out, &res) != nil || len(res.Rows) != 1 || fmt.Sprint(res.Rows[0][0]) != "1" {
		t.Errorf("the console asked from %s: %v: %s", n.srv, err, out)
	}
	if code := cp.wait(t, 30*time.Second); code != 0 {
		t.Errorf("--duration: exit %d: %s", code, cp.stderr.String())
	}
}

// Across --rotate the page reads the current file: its count falls when a
// new file starts, and once the traffic stops and the file changes again
// the console sees the empty new file as pcapq query -d does. The
// console's row and time limits hold on the capture's connection.
func TestCaptureServeRotate(t *testing.T) {
	needLive(t)
	n := newSvNet(t)
	n.httpServer(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "live.duckdb")
	cp := startServing(t, "", "-i", n.srvRoot, "-o", db, "-f", "tcp port 8080", "--commit-interval", "200ms", "--rotate", "2s",
		"--serve", "127.0.0.1:0", "--max-rows", "50", "--query-timeout", "1s")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for end := time.Now().Add(6 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			n.get(t, "/index.html")
		}
	}()
	var seen []int64
	falls := 0
	for running := true; running; {
		select {
		case <-done:
			running = false
		case <-time.After(250 * time.Millisecond):
		}
		code, res := webQuery(t, cp.base, "SELECT count(*) FROM packets")
		if code != http.StatusOK {
			if !strings.Contains(res.Error, "between two database files") && !strings.Contains(res.Error, "moved on to a new database file (--rotate)") {
				t.Errorf("during the capture: status %d, %q", code, res.Error)
			}
			continue
		}
		v, _ := strconv.ParseInt(fmt.Sprint(res.Rows[0][0]), 10, 64)
		if len(seen) > 0 && v < seen[len(seen)-1] {
			falls++
		}
		seen = append(seen, v)
	}
	t.Logf("console counts: %v", seen)
	rotations := func() int { return strings.Count(cp.stderr.String(), "pcapq: "+db+" -> ") }
	if falls < 1 || rotations() < 2 {
		t.Errorf("counts %v over %d rotations: want the count to fall at a new file", seen, rotations())
	}
	// One more rotation with no traffic: the current file is empty. (The
	// last packets reach pcapq up to 0.1 s after they pass, in the
	// kernel's block: a rotation right after the traffic can come first.)
	time.Sleep(500 * time.Millisecond)
	after := rotations()
	for deadline := time.Now().Add(10 * time.Second); rotations() == after; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no rotation in 10 s: %s", cp.stderr.String())
		}
	}
	var web int64 = -1
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if code, res := webQuery(t, cp.base, "SELECT count(*) FROM packets"); code == http.StatusOK {
			web, _ = strconv.ParseInt(fmt.Sprint(res.Rows[0][0]), 10, 64)
			break
		}
	}
	if cli := queryInt(t, "", db, "SELECT count(*) FROM packets"); web != 0 || cli != 0 {
		t.Errorf("after the traffic, in the new file: console %d packets, pcapq query -d %d; want 0", web, cli)
	}
	// The console's limits, on the capture's connection: a result cut at
	// --max-rows with a notice, a query cancelled at --query-timeout, and
	// the connection answering after it.
	if code, res := webQuery(t, cp.base, "SELECT range AS i FROM range(1000)"); code != http.StatusOK || len(res.Rows) != 50 || !res.Truncated || !strings.Contains(res.Notice, "first 50 rows") {
		t.Errorf("--max-rows 50: status %d, %d rows, truncated %v, notice %q", code, len(res.Rows), res.Truncated, res.Notice)
	}
	start := time.Now()
	code, res := webQuery(t, cp.base, "SELECT count(*) FROM range(1000000000) a, range(1000) b")
	if took := time.Since(start); code != http.StatusRequestTimeout || !strings.Contains(res.Error, "time limit") || took > 10*time.Second {
		t.Errorf("--query-timeout 1s: status %d, %q after %v", code, res.Error, took)
	}
	// (--rotate 2s: a query may meet the gap between two files, which
	// says to try again.)
	code, res = webQuery(t, cp.base, "SELECT 42")
	for deadline := time.Now().Add(5 * time.Second); strings.Contains(res.Error, "try again") && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
		code, res = webQuery(t, cp.base, "SELECT 42")
	}
	if code != http.StatusOK || len(res.Rows) != 1 || fmt.Sprint(res.Rows[0][0]) != "42" {
		t.Errorf("after the cancelled query: status %d, %v, %q", code, res.Rows, res.Error)
	}
	cp.cmd.Process.Signal(os.Interrupt)
	if code := cp.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGINT: %s", code, cp.stderr.String())
	}
	files, _ := filepath.Glob(filepath.Join(dir, "live-*.duckdb"))
	var total int64
	for _, f := range files {
		total += queryInt(t, "", f, "SELECT count(*) FROM packets")
	}
	if len(files) < 3 || total < 100 {
		t.Errorf("%d rotated files holding %d packets", len(files), total)
	}
}
