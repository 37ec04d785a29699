package main

// Live capture tests: two network namespaces joined by a veth pair, with
// addresses of their own (10.213.1.0/24, seen by nobody else: both ends
// live in namespaces this test creates), an HTTP server in one and curl
// in the other. pcapq capture and tcpdump capture on the same interface at
// the same time; the tables of the capture must equal what pcapq ingest
// makes of tcpdump's file. They need root (namespaces, capture) and ip,
// tcpdump, curl and python3.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/schema"
)

const (
	srvAddr = "10.213.1.1"
	cliAddr = "10.213.1.2"
	srvPort = "8080"
)

var netnsSeq atomic.Int32

// netpair is a server and a client namespace joined by a veth pair.
type netpair struct {
	srv, cli     string // namespace names
	srvIf, cliIf string // the veth ends
	www          string // directory the HTTP server serves
}

// needLive ends the test unless it can create namespaces and capture.
func needLive(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		testenv.Missing(t, "live capture tests need root (network namespaces, packet capture)")
	}
	for _, tool := range []string{"ip", "tcpdump", "curl", "python3"} {
		testenv.Tool(t, tool)
	}
}

func sh(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// newNetpair creates the namespaces (removed when the test ends) and
// starts the HTTP server.
func newNetpair(t *testing.T) *netpair {
	t.Helper()
	p := fmt.Sprintf("pq%d%d", os.Getpid()%100000, netnsSeq.Add(1))
	n := &netpair{srv: p + "s", cli: p + "c", srvIf: p + "a", cliIf: p + "b", www: t.TempDir()}
	t.Cleanup(func() {
		exec.Command("ip", "netns", "del", n.srv).Run()
		exec.Command("ip", "netns", "del", n.cli).Run()
	})
	sh(t, "ip", "netns", "add", n.srv)
	sh(t, "ip", "netns", "add", n.cli)
	sh(t, "ip", "link", "add", n.srvIf, "type", "veth", "peer", "name", n.cliIf)
	sh(t, "ip", "link", "set", n.srvIf, "netns", n.srv)
	sh(t, "ip", "link", "set", n.cliIf, "netns", n.cli)
	sh(t, "ip", "-n", n.srv, "addr", "add", srvAddr+"/24", "dev", n.srvIf)
	sh(t, "ip", "-n", n.cli, "addr", "add", cliAddr+"/24", "dev", n.cliIf)
	for _, ns := range []string{n.srv, n.cli} {
		sh(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	// No IPv6: its address configuration sends packets on its own when
	// the link comes up, which one capture would see and not the other.
	sh(t, "ip", "netns", "exec", n.srv, "sysctl", "-qw", "net.ipv6.conf."+n.srvIf+".disable_ipv6=1")
	sh(t, "ip", "netns", "exec", n.cli, "sysctl", "-qw", "net.ipv6.conf."+n.cliIf+".disable_ipv6=1")
	sh(t, "ip", "-n", n.srv, "link", "set", n.srvIf, "up")
	sh(t, "ip", "-n", n.cli, "link", "set", n.cliIf, "up")
	// Frames as on a wire: no segmentation offload (ethtool may be absent).
	exec.Command("ip", "netns", "exec", n.srv, "ethtool", "-K", n.srvIf, "tso", "off", "gso", "off", "gro", "off", "tx", "off").Run()
	exec.Command("ip", "netns", "exec", n.cli, "ethtool", "-K", n.cliIf, "tso", "off", "gso", "off", "gro", "off", "tx", "off").Run()

	os.WriteFile(filepath.Join(n.www, "index.html"), []byte("<html>hello</html>\n"), 0o644)
	big := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320 KB
	os.WriteFile(filepath.Join(n.www, "big.bin"), big, 0o644)
	srv := exec.Command("ip", "netns", "exec", n.srv, "taskset", "-c", "0", "python3", "-m", "http.server", srvPort, "--bind", srvAddr, "--directory", n.www)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	// Wait for it from the server namespace itself (no packet on the veth).
	deadline := time.Now().Add(15 * time.Second)
	for exec.Command("ip", "netns", "exec", n.srv, "curl", "-s", "-o", "/dev/null", "http://"+srvAddr+":"+srvPort+"/index.html").Run() != nil {
		if time.Now().After(deadline) {
			t.Fatal("the HTTP server did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return n
}

// traffic makes HTTP requests (and one ping) from the client namespace.
// The server and the clients run on CPU 0 (taskset): the kernel then hands
// every packet of the pair to the packet sockets from that CPU, one after
// the other, so that two captures see them in the same order. (Sent and
// received packets handed over on two CPUs at once, a microsecond apart,
// can reach two sockets in opposite orders.)
func (n *netpair) traffic(t *testing.T, rounds int) {
	t.Helper()
	for i := 0; i < rounds; i++ {
		for _, path := range []string{"/index.html", "/big.bin", "/missing"} {
			out, err := exec.Command("ip", "netns", "exec", n.cli, "taskset", "-c", "0", "curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "http://"+srvAddr+":"+srvPort+path).CombinedOutput()
			if err != nil {
				t.Fatalf("curl %s: %v %s", path, err, out)
			}
		}
	}
	exec.Command("ip", "netns", "exec", n.cli, "taskset", "-c", "0", "ping", "-c", "1", "-W", "1", srvAddr).Run()
}

// proc is a process started by a test, its output kept.
type proc struct {
	cmd      *exec.Cmd
	out, err bytes.Buffer
	done     chan struct{}
	waitErr  error
}

func (p *proc) wait(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(within):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("%s did not end within %v; stderr: %s", p.cmd.Args, within, p.err.String())
	}
	if p.waitErr != nil {
		if ee, ok := p.waitErr.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatalf("%s: %v", p.cmd.Args, p.waitErr)
	}
	return 0
}

func start(t *testing.T, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.out, &p.err
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitErr = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// pcapqCmd runs pcapq (this test binary as main) in namespace ns ("" for
// the test's own).
func nsPcapqCmd(t *testing.T, ns string, args ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var cmd *exec.Cmd
	if ns == "" {
		cmd = exec.Command(exe, args...)
	} else {
		cmd = exec.Command("ip", append([]string{"netns", "exec", ns, exe}, args...)...)
	}
	cmd.Env = append(os.Environ(), "PCAPQ_TEST_MAIN=1")
	return cmd
}

// startTcpdump captures on the client's interface, nanosecond
// timestamps, until stopped; it returns once tcpdump listens.
func (n *netpair) startTcpdump(t *testing.T, file string, filter ...string) *proc {
	t.Helper()
	// Immediate mode: without it tcpdump reads the kernel's buffer by
	// blocks and loses the block being filled when interrupted.
	args := append([]string{"netns", "exec", n.cli, "tcpdump", "-i", n.cliIf, "-U", "--immediate-mode", "--time-stamp-precision=nano", "-B", "32768", "-w", file}, filter...)
	p := start(t, exec.Command("ip", args...))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.err.String(), "listening on") {
		if time.Now().After(deadline) {
			t.Fatalf("tcpdump did not start: %s", p.err.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	return p
}

// startCapture runs pcapq capture on the client's interface and returns
// once it answers queries.
func (n *netpair) startCapture(t *testing.T, db string, args ...string) *proc {
	t.Helper()
	p := start(t, nsPcapqCmd(t, n.cli, append([]string{"capture", "-i", n.cliIf, "-o", db}, args...)...))
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out bytes.Buffer
		if err := queryLive(context.Background(), db, "SELECT count(*) FROM captures", "csv", "", &out); err == nil {
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("pcapq capture ended: %v: %s", p.waitErr, p.err.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("pcapq capture does not answer queries: %s", p.err.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// queryCSV runs pcapq query as its own process (in namespace ns) and
// returns the CSV result without its header.
func nsQueryCSV(t *testing.T, ns, db, sql string) string {
	t.Helper()
	cmd := nsPcapqCmd(t, ns, "query", "-d", db, "-f", "csv", sql)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("pcapq query %q: %v: %s", sql, err, errb.String())
	}
	s := strings.TrimSpace(out.String())
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return ""
}

func queryInt(t *testing.T, ns, db, sql string) int64 {
	t.Helper()
	s := nsQueryCSV(t, ns, db, sql)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("%s: %q", sql, s)
	}
	return n
}

// tsTolerance is how far apart two captures' timestamps of one packet
// may be: each packet socket reads the clock itself when the kernel has
// not stamped the packet (measured: a few microseconds apart).
const tsTolerance = time.Millisecond

// sameTables compares the tables of two databases holding one capture
// each, row by row (joined on their keys), every column but capture_id and
// those in skip; timestamps may differ by tsTolerance and the
// millisecond durations derived from them by as much. It returns the row
// counts of want.
func sameTables(t *testing.T, got, want string, skip map[string]bool) map[string]int64 {
	t.Helper()
	ctx := context.Background()
	db, err := query.Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for alias, f := range map[string]string{"g": got, "w": want} {
		if err := db.Exec(ctx, fmt.Sprintf("ATTACH '%s' AS %s (READ_ONLY)", strings.ReplaceAll(f, "'", "''"), alias)); err != nil {
			t.Fatal(err)
		}
	}
	counts := map[string]int64{}
	for _, tc := range []struct {
		table *schema.Table
		keys  []string
	}{
		{schema.Packets, []string{"frame"}},
		{schema.Flows, []string{"flow_id"}},
		{schema.TCPEvents, []string{"frame", "kind"}},
		{schema.HTTP, []string{"flow_id", "trans_depth"}},
		{schema.Warnings, []string{"frame", "kind", "detail"}},
	} {
		var on, conds, cols []string
		for _, k := range tc.keys {
			on = append(on, fmt.Sprintf("a.%s IS NOT DISTINCT FROM b.%s", k, k))
		}
		for _, c := range tc.table.Columns {
			if c.Name == "capture_id" || skip[c.Name] {
				continue
			}
			cols = append(cols, "a."+c.Name, "b."+c.Name)
			var cond string
			switch {
			case schema.SQLType(c.Type) == "TIMESTAMP_NS":
				cond = fmt.Sprintf("abs(epoch_ns(a.%s) - epoch_ns(b.%s)) <= %d", c.Name, c.Name, tsTolerance.Nanoseconds())
			case strings.HasSuffix(c.Name, "_ms"):
				cond = fmt.Sprintf("abs(a.%s - b.%s) <= %f", c.Name, c.Name, float64(tsTolerance)/1e6)
			default:
				conds = append(conds, fmt.Sprintf("a.%s IS NOT DISTINCT FROM b.%s", c.Name, c.Name))
				continue
			}
			conds = append(conds, fmt.Sprintf("coalesce((a.%s IS NULL AND b.%s IS NULL) OR %s, false)", c.Name, c.Name, cond))
		}
		from := fmt.Sprintf("g.%s a FULL OUTER JOIN w.%s b ON %s", tc.table.Name, tc.table.Name, strings.Join(on, " AND "))
		bad := fmt.Sprintf("NOT (%s)", strings.Join(conds, " AND "))
		n := scalarInt(t, db, fmt.Sprintf("SELECT count(*) FROM w.%s", tc.table.Name))
		counts[tc.table.Name] = n
		if g := scalarInt(t, db, fmt.Sprintf("SELECT count(*) FROM g.%s", tc.table.Name)); g != n {
			t.Errorf("%s: %d rows live, %d from tcpdump's file", tc.table.Name, g, n)
		}
		if tc.table == schema.Packets {
			d := scalarInt(t, db, fmt.Sprintf("SELECT coalesce(max(abs(epoch_ns(a.ts) - epoch_ns(b.ts))), 0) FROM %s", from))
			t.Logf("packets: largest timestamp difference %v", time.Duration(d))
		}
		if nbad := scalarInt(t, db, fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", from, bad)); nbad > 0 {
			t.Errorf("%s: %d of %d rows differ", tc.table.Name, nbad, n)
			var out bytes.Buffer
			db.Output(ctx, fmt.Sprintf("SELECT %s FROM %s WHERE %s LIMIT 3", strings.Join(cols, ", "), from, bad), "jsonl", &out, "")
			t.Logf("first differences (a: live, b: tcpdump's file):\n%s", out.String())
		}
	}
	return counts
}

// TestLiveCaptureMatchesTcpdump: pcapq capture and tcpdump on the same
// interface at once; queried mid-way from other processes (one in the
// other namespace), the capture shows recent packets, HTTP rows and open
// flows; stopped with SIGINT, its tables equal those pcapq ingest makes of
// tcpdump's file, and its pcapng copy holds the same packets.
func TestLiveCaptureMatchesTcpdump(t *testing.T) {
	needLive(t)
	testenv.Tool(t, "capinfos")
	n := newNetpair(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "live.duckdb")
	raw := filepath.Join(dir, "raw.pcapng")
	ref := filepath.Join(dir, "tcpdump.pcap")
	td := n.startTcpdump(t, ref)
	cp := n.startCapture(t, db, "-w", raw)

	n.traffic(t, 2)
	// A connection held open across the query, its request unfinished
	// until the file release appears: flows_open shows it.
	release := filepath.Join(dir, "release")
	hold := start(t, exec.Command("ip", "netns", "exec", n.cli, "taskset", "-c", "0", "python3", "-c", `
import os, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(b"GET /index.html HTTP/1.0\r\n")
while not os.path.exists(sys.argv[3]):
    time.sleep(0.05)
s.sendall(b"\r\n")
while s.recv(65536):
    pass
`, srvAddr, srvPort, release))
	n.traffic(t, 1)
	trafficEnd := time.Now()
	time.Sleep(2 * time.Second)
	// Mid-way, from another process in the root namespace and one in the
	// server namespace: packets no older than 2 s, the HTTP rows so far.
	if got := queryInt(t, "", db, "SELECT count(*) FROM http WHERE status_code IS NOT NULL"); got != 9 {
		t.Errorf("mid-way: %d HTTP transactions with a response, want the 9 made", got)
	}
	newest := queryInt(t, n.srv, db, "SELECT epoch_ns(max(ts)) FROM packets")
	if lag := trafficEnd.UnixNano() - newest; lag > int64(500*time.Millisecond) {
		t.Errorf("mid-way, 2 s after the last request the newest packet seen is %v older than its end", time.Duration(lag))
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM flows_open WHERE open AND proto = 'tcp' AND resp_p = 8080"); got != 1 {
		t.Errorf("mid-way: %d open HTTP connections in flows_open, want the 1 held open", got)
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM captures WHERE NOT complete AND packets = (SELECT count(*) FROM packets) AND first_ts = (SELECT min(ts) FROM packets) AND last_ts = (SELECT max(ts) FROM packets)"); got != 1 {
		t.Errorf("mid-way: captures row does not count the committed packets or their times")
	}
	// Writes are refused.
	cmd := nsPcapqCmd(t, "", "query", "-d", db, "DELETE FROM packets_data")
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "SELECT") {
		t.Errorf("a DELETE through the capture: %v %s", err, out)
	}
	os.WriteFile(release, nil, 0o644)
	if code := hold.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("held connection: exit %d: %s", code, hold.err.String())
	}
	n.traffic(t, 1)
	// Quiet before the end, so that both captures have read everything.
	time.Sleep(time.Second)

	cp.cmd.Process.Signal(os.Interrupt)
	td.cmd.Process.Signal(os.Interrupt)
	if code := cp.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("pcapq capture after SIGINT: exit %d: %s", code, cp.err.String())
	}
	td.wait(t, 30*time.Second)
	t.Logf("tcpdump: %s", td.err.String())
	t.Logf("pcapq: %s", cp.err.String())
	if os.Getenv("PCAPQ_KEEP") != "" {
		exec.Command("cp", "-r", dir, os.Getenv("PCAPQ_KEEP")).Run()
	}
	if _, err := os.Stat(liveSocket(db)); err == nil {
		t.Errorf("the query socket %s is left behind", liveSocket(db))
	}

	want := filepath.Join(dir, "tcpdump.duckdb")
	if out, err := nsPcapqCmd(t, "", "ingest", "-q", ref, "-o", want).CombinedOutput(); err != nil {
		t.Fatalf("ingest of tcpdump's file: %v %s", err, out)
	}
	// file_offset: live packets point into raw.pcapng, tcpdump's into its file.
	counts := sameTables(t, db, want, map[string]bool{"file_offset": true})
	t.Logf("live capture equals tcpdump's file: %v", counts)
	if counts["packets"] < 200 || counts["http"] != 13 {
		t.Errorf("compared %d packets and %d HTTP rows, want a few hundred and the 13 requests made", counts["packets"], counts["http"])
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM flows_open"); got != 0 {
		t.Errorf("flows_open keeps %d rows after the capture", got)
	}
	if got := nsQueryCSV(t, "", db, "SELECT complete, format, path, ps_dropped, packets = ps_received FROM captures"); got != "true,live,live:"+n.cliIf+",0,true" {
		t.Errorf("captures row: %q", got)
	}
	// The pcapng copy: every packet, read by capinfos and tshark, and its
	// block offsets are the live file_offset values.
	if out := sh(t, "capinfos", "-c", "-M", raw); !strings.Contains(out, fmt.Sprintf("Number of packets:   %d", counts["packets"])) {
		t.Errorf("capinfos of the pcapng copy: %s, want %d packets", out, counts["packets"])
	}
	tshark := testenv.Tool(t, "tshark")
	out, err := exec.Command(tshark, "-r", raw, "-T", "fields", "-e", "frame.len").Output()
	if err != nil {
		t.Errorf("tshark -r %s: %v", raw, err)
	} else if got := strings.Count(string(out), "\n"); int64(got) != counts["packets"] {
		t.Errorf("tshark reads %d packets from the pcapng copy, want %d", got, counts["packets"])
	}
	rawDB := filepath.Join(dir, "raw.duckdb")
	if out, err := nsPcapqCmd(t, "", "ingest", "-q", raw, "-o", rawDB).CombinedOutput(); err != nil {
		t.Fatalf("ingest of the pcapng copy: %v %s", err, out)
	}
	sameTables(t, db, rawDB, nil)
}

// pcapCount is how many packets capinfos counts in file.
func pcapCount(t *testing.T, file string) int64 {
	t.Helper()
	out := sh(t, testenv.Tool(t, "capinfos"), "-c", "-M", file)
	i := strings.Index(out, "Number of packets:")
	if i < 0 {
		t.Fatalf("capinfos %s: %s", file, out)
	}
	n, err := strconv.ParseInt(strings.Fields(out[i+len("Number of packets:"):])[0], 10, 64)
	if err != nil {
		t.Fatalf("capinfos %s: %s", file, out)
	}
	return n
}

// pinger sends pings from the client namespace every interval until the
// test ends or stop is called.
func (n *netpair) pinger(t *testing.T, interval string) (stop func()) {
	p := start(t, exec.Command("ip", "netns", "exec", n.cli, "taskset", "-c", "0", "ping", "-q", "-i", interval, srvAddr))
	return func() { p.cmd.Process.Signal(os.Interrupt); p.wait(t, 10*time.Second) }
}

// TestLiveEndings: --count, --duration and SIGTERM end a capture cleanly,
// with every packet in the tables and in the pcapng copy.
func TestLiveEndings(t *testing.T) {
	needLive(t)
	n := newNetpair(t)
	stop := n.pinger(t, "0.05")
	defer stop()
	dir := t.TempDir()
	for _, tc := range []struct {
		name string
		args []string
		end  func(p *proc)
		// within is how long the capture may take; least how long it must.
		within, least time.Duration
	}{
		{"count", []string{"--count", "25"}, nil, 20 * time.Second, 0},
		{"duration", []string{"--duration", "1500ms"}, nil, 10 * time.Second, 1500 * time.Millisecond},
		{"sigterm", nil, func(p *proc) { time.Sleep(time.Second); p.cmd.Process.Signal(syscall.SIGTERM) }, 10 * time.Second, time.Second},
		// libpcap's immediate mode (a TPACKET_V2 ring, no blocks to wait
		// for at the end) ends as cleanly.
		{"immediate", []string{"--immediate-mode"}, func(p *proc) { time.Sleep(time.Second); p.cmd.Process.Signal(os.Interrupt) }, 10 * time.Second, time.Second},
		{"count-immediate", []string{"--immediate-mode", "--count", "25"}, nil, 20 * time.Second, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db := filepath.Join(dir, tc.name+".duckdb")
			raw := filepath.Join(dir, tc.name+".pcapng")
			began := time.Now()
			p := n.startCapture(t, db, append([]string{"-w", raw}, tc.args...)...)
			if tc.end != nil {
				// The capture's ring: blocks (TPACKET_V3) unless
				// --immediate-mode (TPACKET_V2).
				want := unix.TPACKET_V3
				if slices.Contains(tc.args, "--immediate-mode") {
					want = unix.TPACKET_V2
				}
				if got, err := pcaptest.RingVersions(p.cmd.Process.Pid); err != nil || len(got) != 1 || got[0] != want {
					t.Errorf("ring versions %v (%v), want [%d]", got, err, want)
				}
				tc.end(p)
			}
			if code := p.wait(t, tc.within); code != 0 {
				t.Fatalf("exit %d: %s", code, p.err.String())
			}
			if el := time.Since(began); el < tc.least {
				t.Errorf("ended after %v, want at least %v", el, tc.least)
			}
			got := nsQueryCSV(t, "", db, "SELECT packets, complete, (SELECT count(*) FROM packets), (SELECT count(*) FROM flows_open), (SELECT count(*) FROM flows WHERE open) FROM captures")
			f := strings.Split(got, ",")
			if len(f) != 5 || f[0] != f[2] || f[1] != "true" || f[3] != "0" {
				t.Fatalf("captures.packets, complete, packets rows, flows_open rows, open flows = %q", got)
			}
			pk, _ := strconv.ParseInt(f[0], 10, 64)
			if strings.HasPrefix(tc.name, "count") && pk != 25 {
				t.Errorf("--count 25 captured %d packets", pk)
			}
			if pk == 0 {
				t.Errorf("no packets captured")
			}
			if f[4] != "1" {
				t.Errorf("%s open flows at the end, want the 1 ping flow", f[4])
			}
			if c := pcapCount(t, raw); c != pk {
				t.Errorf("pcapng copy holds %d packets, the tables %d", c, pk)
			}
		})
	}
}

// TestLiveStopKeepsLastPackets: a capture stopped right after a burst of
// packets keeps every one of them, in both delivery modes (buffered, the
// default, hands packets over in kernel blocks: the block being filled at
// the stop must be waited for, though no packet follows to push it out).
// The reference is tcpdump (immediate mode) on the same interface, read
// by tshark from pcapq's first packet on.
func TestLiveStopKeepsLastPackets(t *testing.T) {
	needLive(t)
	tshark := testenv.Tool(t, "tshark")
	n := newNetpair(t)
	dir := t.TempDir()
	for _, mode := range [][]string{nil, {"--immediate-mode"}} {
		name := "buffered"
		if mode != nil {
			name = "immediate"
		}
		t.Run(name, func(t *testing.T) {
			ref := filepath.Join(dir, name+".pcap")
			db := filepath.Join(dir, name+".duckdb")
			td := n.startTcpdump(t, ref)
			p := n.startCapture(t, db, mode...)
			stopPings := n.pinger(t, "0.005")
			time.Sleep(1500 * time.Millisecond)
			stopPings()
			p.cmd.Process.Signal(os.Interrupt)
			if code := p.wait(t, 20*time.Second); code != 0 {
				t.Fatalf("exit %d: %s", code, p.err.String())
			}
			td.cmd.Process.Signal(os.Interrupt)
			td.wait(t, 10*time.Second)
			// The first packet pcapq has: tcpdump started earlier.
			first := queryInt(t, "", db, "SELECT epoch_ns(min(ts)) FROM packets")
			span := fmt.Sprintf("frame.time_epoch >= %d.%09d", first/1e9, first%1e9)
			// (sh gives stderr too: tshark's warning about root is no frame.)
			var want int64
			for _, f := range strings.Fields(sh(t, tshark, "-r", ref, "-Y", span, "-T", "fields", "-e", "frame.number")) {
				if _, err := strconv.Atoi(f); err == nil {
					want++
				}
			}
			got := queryInt(t, "", db, "SELECT count(*) FROM packets")
			if want < 200 {
				t.Fatalf("tcpdump saw %d packets, want a few hundred pings' worth", want)
			}
			if got != want {
				t.Errorf("pcapq has %d packets, tcpdump %d from pcapq's first on", got, want)
			}
		})
	}
}

// TestLiveFilter: capture -f keeps what tcpdump with the same filter
// keeps, and ingest -f on tcpdump's unfiltered file gives the same rows.
func TestLiveFilter(t *testing.T) {
	needLive(t)
	n := newNetpair(t)
	dir := t.TempDir()
	const filter = "tcp port 8080 and greater 100"
	all := filepath.Join(dir, "all.pcap")
	some := filepath.Join(dir, "some.pcap")
	tdAll := n.startTcpdump(t, all)
	tdSome := n.startTcpdump(t, some, filter)
	db := filepath.Join(dir, "live.duckdb")
	cp := n.startCapture(t, db, "-f", filter)
	n.traffic(t, 2)
	time.Sleep(time.Second)
	for _, p := range []*proc{cp, tdAll, tdSome} {
		p.cmd.Process.Signal(os.Interrupt)
	}
	if code := cp.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("capture: exit %d: %s", code, cp.err.String())
	}
	tdAll.wait(t, 30*time.Second)
	tdSome.wait(t, 30*time.Second)
	want := pcapCount(t, some)
	if total := pcapCount(t, all); want == 0 || want >= total {
		t.Fatalf("tcpdump kept %d of %d packets: the filter should keep some and drop some", want, total)
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM packets WHERE ip_proto = 6 AND (src_port = 8080 OR dst_port = 8080) AND orig_len >= 100"); got != want {
		t.Errorf("capture -f kept %d matching packets, tcpdump %d", got, want)
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM packets"); got != want {
		t.Errorf("capture -f kept %d packets, tcpdump %d", got, want)
	}
	if got := nsQueryCSV(t, "", db, "SELECT bpf_filter FROM captures"); got != filter {
		t.Errorf("captures.bpf_filter = %q", got)
	}
	// ingest -f on the unfiltered file: the rows of tcpdump's filtered one
	// (but file_offset, which points into the unfiltered file).
	fdb := filepath.Join(dir, "filtered.duckdb")
	sdb := filepath.Join(dir, "some.duckdb")
	if out, err := nsPcapqCmd(t, "", "ingest", "-q", all, "-f", filter, "-o", fdb).CombinedOutput(); err != nil {
		t.Fatalf("ingest -f: %v %s", err, out)
	}
	if out, err := nsPcapqCmd(t, "", "ingest", "-q", some, "-o", sdb).CombinedOutput(); err != nil {
		t.Fatalf("ingest: %v %s", err, out)
	}
	counts := sameTables(t, fdb, sdb, map[string]bool{"file_offset": true})
	if counts["packets"] != want {
		t.Errorf("ingest -f compared %d packets, want %d", counts["packets"], want)
	}
	// A bad filter is refused before anything is read.
	out, err := nsPcapqCmd(t, "", "ingest", all, "-f", "tcp port", "-o", filepath.Join(dir, "bad.duckdb")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), `filter "tcp port"`) {
		t.Errorf("ingest with a bad filter: %v %s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.duckdb")); err == nil {
		t.Errorf("a bad filter still created the database")
	}
}

// TestLiveInterfaceDeleted: the capture ends with a clear error when its
// interface is deleted, and keeps every packet captured before.
func TestLiveInterfaceDeleted(t *testing.T) {
	needLive(t)
	n := newNetpair(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "live.duckdb")
	raw := filepath.Join(dir, "raw.pcapng")
	cp := n.startCapture(t, db, "-w", raw)
	stop := n.pinger(t, "0.05")
	time.Sleep(1500 * time.Millisecond)
	sh(t, "ip", "-n", n.cli, "link", "del", n.cliIf)
	stop()
	code := cp.wait(t, 20*time.Second)
	if code != 1 || !strings.Contains(cp.err.String(), "capture on "+n.cliIf+" ended") || !strings.Contains(cp.err.String(), "are in "+db) {
		t.Errorf("exit %d, stderr %q: want 1 and a message naming the interface and where the packets are", code, cp.err.String())
	}
	got := nsQueryCSV(t, "", db, "SELECT packets, complete, (SELECT count(*) FROM packets), (SELECT count(*) FROM warnings WHERE kind = 'capture_ended') FROM captures")
	f := strings.Split(got, ",")
	if len(f) != 4 || f[0] != f[2] || f[1] != "false" || f[3] != "1" {
		t.Fatalf("captures.packets, complete, packets rows, capture_ended warnings = %q", got)
	}
	if pk, _ := strconv.ParseInt(f[0], 10, 64); pk < 20 || pcapCount(t, raw) != pk {
		t.Errorf("%s packets kept, %d in the pcapng copy; want the ~30 pings' packets in both", f[0], pcapCount(t, raw))
	}
}

// TestLiveWrongInterface: a name that is no interface lists those there are.
func TestLiveWrongInterface(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := pcapqRun(t, "capture", "-i", "nosuch-if0", "-o", filepath.Join(dir, "x.duckdb"))
	if code != 2 || !strings.Contains(stderr, `"nosuch-if0"`) || !strings.Contains(stderr, "lo") || !strings.Contains(stderr, "pcapq devices") {
		t.Errorf("exit %d, %q: want 2 and the interfaces there are", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "x.duckdb")); err == nil {
		t.Error("the database was created for a capture that could not start")
	}
	code, out, _ := pcapqRun(t, "devices")
	if code != 0 || !strings.Contains(out, "LOOPBACK") || !strings.Contains(out, "127.0.0.1/8") {
		t.Errorf("devices: exit %d, %q", code, out)
	}
}

// TestLivePermissions: without CAP_NET_RAW and CAP_NET_ADMIN the capture
// says what to do; with them (setcap on the binary), an unprivileged user
// captures.
func TestLivePermissions(t *testing.T) {
	needLive(t)
	setpriv := testenv.Tool(t, "setpriv")
	setcap := testenv.Tool(t, "setcap")
	n := newNetpair(t)
	dir := t.TempDir()
	// An unprivileged user must reach the binary and write the database.
	for d := dir; d != filepath.Dir(d) && strings.HasPrefix(d, os.TempDir()+"/"); d = filepath.Dir(d) {
		os.Chmod(d, 0o777|os.ModeSticky)
	}
	exe, _ := os.Executable()
	bin := filepath.Join(dir, "pcapq")
	sh(t, "cp", exe, bin)
	os.Chmod(bin, 0o755)
	asNobody := func(args ...string) (int, string) {
		cmd := exec.Command("ip", append([]string{"netns", "exec", n.cli, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all", bin}, args...)...)
		cmd.Env = append(os.Environ(), "PCAPQ_TEST_MAIN=1")
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), string(out)
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	db := filepath.Join(dir, "nocaps.duckdb")
	code, out := asNobody("capture", "-i", n.cliIf, "-o", db, "--duration", "1s")
	if code != 2 || !strings.Contains(out, "setcap cap_net_raw,cap_net_admin+eip "+bin) || !strings.Contains(out, "root") {
		t.Errorf("without capabilities: exit %d, %q: want 2 and the setcap command", code, out)
	}
	if strings.Contains(out, "socket:") || strings.Contains(out, "Operation not permitted") {
		t.Errorf("without capabilities the message is libpcap's: %q", out)
	}
	sh(t, setcap, "cap_net_raw,cap_net_admin+eip", bin)
	db = filepath.Join(dir, "caps.duckdb")
	stop := n.pinger(t, "0.1")
	code, out = asNobody("capture", "-i", n.cliIf, "-o", db, "--count", "10")
	stop()
	if code != 0 {
		t.Fatalf("with CAP_NET_RAW and CAP_NET_ADMIN: exit %d: %s", code, out)
	}
	if got := queryInt(t, "", db, "SELECT count(*) FROM packets"); got != 10 {
		t.Errorf("with capabilities: %d packets, want 10", got)
	}
}

// TestLiveKill9: kill -9 loses at most the last 2 s, and the database opens.
func TestLiveKill9(t *testing.T) {
	needLive(t)
	n := newNetpair(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "tcpdump.pcap")
	td := n.startTcpdump(t, ref)
	db := filepath.Join(dir, "live.duckdb")
	cp := n.startCapture(t, db)
	stop := n.pinger(t, "0.02")
	n.traffic(t, 3)
	time.Sleep(3 * time.Second)
	killed := time.Now()
	cp.cmd.Process.Kill()
	cp.wait(t, 10*time.Second)
	stop()
	td.cmd.Process.Signal(os.Interrupt)
	td.wait(t, 10*time.Second)
	want := filepath.Join(dir, "tcpdump.duckdb")
	if out, err := nsPcapqCmd(t, "", "ingest", "-q", ref, "-o", want).CombinedOutput(); err != nil {
		t.Fatalf("ingest of tcpdump's file: %v %s", err, out)
	}
	cut := killed.Add(-2 * time.Second).UnixNano()
	q := fmt.Sprintf("SELECT count(*) FROM packets WHERE epoch_ns(ts) < %d", cut)
	wantN := queryInt(t, "", want, q)
	// The socket the killed capture left behind answers nothing: query
	// opens the file, replaying DuckDB's WAL.
	gotN := queryInt(t, "", db, q)
	if gotN != wantN || wantN < 100 {
		t.Errorf("after kill -9: %d packets older than 2 s before the kill, tcpdump has %d", gotN, wantN)
	}
	all := queryInt(t, "", db, "SELECT count(*) FROM packets")
	t.Logf("kill -9: %d packets kept, %d of them older than 2 s; tcpdump %d and %d", all, gotN, queryInt(t, "", want, "SELECT count(*) FROM packets"), wantN)
	if got := nsQueryCSV(t, "", db, "SELECT complete, packets = (SELECT count(*) FROM packets) FROM captures"); got != "false,true" {
		t.Errorf("captures row after kill -9: %q, want incomplete with the packets committed", got)
	}
}

// TestLiveRotate: --rotate starts a new database file, the old one renamed
// after its first packet; every packet is in exactly one file.
func TestLiveRotate(t *testing.T) {
	needLive(t)
	n := newNetpair(t)
	dir := t.TempDir()
	ref := filepath.Join(dir, "tcpdump.pcap")
	td := n.startTcpdump(t, ref)
	db := filepath.Join(dir, "live.duckdb")
	cp := n.startCapture(t, db, "--rotate", "2s")
	stop := n.pinger(t, "0.05")
	// A query that would run for minutes does not hold up the rotation:
	// it is cancelled, and says why.
	long := start(t, nsPcapqCmd(t, "", "query", "-d", db, "SELECT sum(x) FROM range(1000000000000) t(x)"))
	time.Sleep(5 * time.Second)
	if code := long.wait(t, 10*time.Second); code == 0 || !strings.Contains(long.err.String(), "--rotate") {
		t.Errorf("a query running across a rotation: exit %d, %q; want it cancelled, saying why", code, long.err.String())
	}
	stop()
	time.Sleep(500 * time.Millisecond)
	cp.cmd.Process.Signal(os.Interrupt)
	td.cmd.Process.Signal(os.Interrupt)
	if code := cp.wait(t, 20*time.Second); code != 0 {
		t.Fatalf("exit %d: %s", code, cp.err.String())
	}
	td.wait(t, 10*time.Second)
	files, _ := filepath.Glob(filepath.Join(dir, "live-*.duckdb"))
	if len(files) < 2 {
		t.Fatalf("rotated files: %v, want at least 2 in 5 s with --rotate 2s", files)
	}
	var total int64
	for _, f := range append(files, db) {
		got := nsQueryCSV(t, "", f, "SELECT count(*), min(frame), (SELECT bool_and(complete) FROM captures), (SELECT sum(packets) FROM captures) FROM packets")
		c := strings.Split(got, ",")
		if len(c) != 4 || c[2] != "true" || c[0] != c[3] || c[0] != "0" && c[1] != "1" {
			t.Errorf("%s: packets, first frame, complete, captures.packets = %q", f, got)
		}
		k, _ := strconv.ParseInt(c[0], 10, 64)
		total += k
	}
	if want := pcapCount(t, ref); total != want {
		t.Errorf("%d packets in %d files, tcpdump captured %d", total, len(files)+1, want)
	}
}

// pcapRecords splits a little-endian microsecond pcap file into its header
// and its records.
func pcapRecords(t *testing.T, file string) (head []byte, recs [][]byte) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 24 || string(b[:4]) != "\xd4\xc3\xb2\xa1" {
		t.Fatalf("%s is not a little-endian pcap", file)
	}
	head, b = b[:24], b[24:]
	for len(b) >= 16 {
		n := 16 + int(uint32(b[8])|uint32(b[9])<<8|uint32(b[10])<<16|uint32(b[11])<<24)
		recs, b = append(recs, b[:n]), b[n:]
	}
	return head, recs
}

// TestPipeIsLive: ingest - reading a pipe commits as packets arrive (a
// query sees them within 2 s though the writer goes on), and Ctrl-C ends
// it cleanly, with every packet written before, though the writer keeps
// the pipe open.
func TestPipeIsLive(t *testing.T) {
	head, recs := pcapRecords(t, smallPcap)
	db := filepath.Join(t.TempDir(), "pipe.duckdb")
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pw.Close()
	defer pr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"ingest", "-", "-o", db}, pr, &bytes.Buffer{}, &stderr)
	}()
	const first = 100
	pw.Write(head)
	for _, r := range recs[:first] {
		pw.Write(r)
	}
	wrote := time.Now()
	for {
		var out bytes.Buffer
		err := queryLive(context.Background(), db, "SELECT count(*) FROM packets", "csv", "", &out)
		if err == nil && strings.TrimSpace(out.String()) == fmt.Sprintf("count_star()\n%d", first) {
			break
		}
		if time.Since(wrote) > 2*time.Second {
			t.Fatalf("2 s after %d packets went into the pipe a query sees %q (%v)", first, out.String(), err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the first %d packets were visible %v after they went into the pipe", first, time.Since(wrote).Round(time.Millisecond))
	for _, r := range recs[first:] {
		pw.Write(r)
	}
	time.Sleep(300 * time.Millisecond)
	cancel() // Ctrl-C; the writer keeps the pipe open
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("ingest - did not end after Ctrl-C while its writer kept the pipe open")
	}
	_, out, errs := pcapqRun(t, "query", "-d", db, "-f", "csv", "--csv-formulas", "SELECT packets, complete, path, (SELECT count(*) FROM packets), (SELECT count(*) FROM flows_open) FROM captures")
	if want := fmt.Sprintf("%d,true,-,%d,0", len(recs), len(recs)); !strings.Contains(out, want) {
		t.Errorf("after Ctrl-C: %q %s, want %s", out, errs, want)
	}
}

// TestLiveDrops: packets the kernel drops (the capture is stopped while
// a flood fills its small buffer) are counted in captures and warned
// about, and the live line's counters agree with the tables.
func TestLiveDrops(t *testing.T) {
	needLive(t)
	n := newNetpair(t)
	db := filepath.Join(t.TempDir(), "live.duckdb")
	cp := n.startCapture(t, db, "--buffer-size", "1MiB")
	cp.cmd.Process.Signal(syscall.SIGSTOP)
	flood := exec.Command("ip", "netns", "exec", n.cli, "ping", "-q", "-f", "-c", "20000", "-s", "1000", srvAddr)
	out, err := flood.CombinedOutput()
	cp.cmd.Process.Signal(syscall.SIGCONT)
	if err != nil {
		t.Fatalf("ping -f: %v %s", err, out)
	}
	time.Sleep(2500 * time.Millisecond)
	cp.cmd.Process.Signal(os.Interrupt)
	if code := cp.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d: %s", code, cp.err.String())
	}
	got := nsQueryCSV(t, "", db, "SELECT packets, ps_received, ps_dropped, ps_ifdropped, warnings, (SELECT count(*) FROM packets), (SELECT count(*) FROM warnings WHERE kind = 'capture_dropped') FROM captures")
	f := strings.Split(got, ",")
	v := make([]int64, len(f))
	for i := range f {
		v[i], _ = strconv.ParseInt(f[i], 10, 64)
	}
	if len(v) != 7 || v[2] == 0 || v[0] != v[5] || v[6] < 1 || v[4] < v[6] {
		t.Fatalf("packets, ps_received, ps_dropped, ps_ifdropped, warnings, packets rows, capture_dropped warnings = %q: want drops counted and warned", got)
	}
	// libpcap on Linux counts every packet that passed the filter in
	// ps_recv, the dropped ones included.
	if v[1] != v[0]+v[2] {
		t.Errorf("ps_received %d != packets %d + ps_dropped %d", v[1], v[0], v[2])
	}
	if !strings.Contains(cp.err.String(), fmt.Sprintf("%d dropped by the kernel", v[2])) {
		t.Errorf("the summary line does not give the drops: %s", cp.err.String())
	}
}

func TestParseRotate(t *testing.T) {
	for _, tc := range []struct {
		in    string
		want  rotation
		error bool
	}{
		{"", rotation{}, false},
		{"1h", rotation{every: time.Hour}, false},
		{"90s", rotation{every: 90 * time.Second}, false},
		{"1GB", rotation{size: 1e9}, false},
		{"512MiB", rotation{size: 512 << 20}, false},
		{"500ms", rotation{}, true},
		{"1000", rotation{}, true}, // 1000 bytes: under 1 MiB
		{"often", rotation{}, true},
	} {
		got, err := parseRotate(tc.in)
		if got != tc.want || (err != nil) != tc.error {
			t.Errorf("parseRotate(%q) = %+v, %v", tc.in, got, err)
		}
	}
}

// The query socket sits beside the database, or in the temporary
// directory when that name would be too long for a unix socket; both
// sides of a query find the same one.
func TestLiveSocketPath(t *testing.T) {
	if got := liveSocket("/data/live.duckdb"); got != "/data/live.duckdb.pcapq.sock" {
		t.Errorf("socket %q", got)
	}
	long := "/data/" + strings.Repeat("x", 120) + "/live.duckdb"
	got := liveSocket(long)
	if len(got) >= 100 || filepath.Dir(got) != os.TempDir() || got != liveSocket(long) || got == liveSocket(long+"2") {
		t.Errorf("socket for a long path: %q", got)
	}
	// Relative and absolute names of one file give one socket.
	wd, _ := os.Getwd()
	if liveSocket("x.duckdb") != liveSocket(filepath.Join(wd, "x.duckdb")) {
		t.Error("relative and absolute paths give different sockets")
	}
	// A long path works end to end: a pipe ingest answers queries there.
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 100))
	os.MkdirAll(dir, 0o755)
	db := filepath.Join(dir, "t.duckdb")
	pr, pw, _ := os.Pipe()
	defer pr.Close()
	head, recs := pcapRecords(t, smallPcap)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"ingest", "-q", "-", "-o", db}, pr, &bytes.Buffer{}, &bytes.Buffer{})
	}()
	pw.Write(head)
	pw.Write(recs[0])
	deadline := time.Now().Add(5 * time.Second)
	for {
		var out bytes.Buffer
		if err := queryLive(ctx, db, "SELECT count(*) FROM packets", "csv", "", &out); err == nil && strings.Contains(out.String(), "\n1") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no answer on the socket of a long database path")
		}
		time.Sleep(50 * time.Millisecond)
	}
	pw.Close()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
}
