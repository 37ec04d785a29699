package main

import (
	"bufio"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/metrics"
	"github.com/pcapq/pcapq/query"
)

const diffMixPcap = "../../testdata/mkcapture-small-mix.pcap"

// quantileCont is DuckDB's quantile_cont (linear interpolation between
// the closest ranks), written out here to check the SQL with.
func quantileCont(xs []float64, q float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	pos := q * float64(len(s)-1)
	lo := math.Floor(pos)
	hi := math.Ceil(pos)
	return s[int(lo)] + (s[int(hi)]-s[int(lo)])*(pos-lo)
}

func tsharkLines(t *testing.T, tshark string, args ...string) []string {
	t.Helper()
	out, err := exec.Command(tshark, args...).Output()
	if err != nil {
		t.Fatalf("tshark %v: %v", args, err)
	}
	s := strings.TrimSpace(string(out))
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestDiffMetricsAgainstPeers measures the metrics pcapq diff compares
// against independent tools on the recorded captures: retransmission and
// reset rates, TCP packets and handshake RTT percentiles against tshark,
// ttfb percentiles against tshark's http.time, requests and status mix per
// endpoint against nginx's access log, the duration against capinfos.
func TestDiffMetricsAgainstPeers(t *testing.T) {
	tshark := testenv.Tool(t, "tshark")
	capinfos := testenv.Tool(t, "capinfos")
	for _, name := range []string{"mkcapture-small", "mkcapture-small-mix"} {
		t.Run(name, func(t *testing.T) {
			pcap := "../../testdata/" + name + ".pcap"
			db := ingestMem(t, 0, pcap)
			s, err := metrics.Collect(context.Background(), db, nil)
			if err != nil {
				t.Fatal(err)
			}
			g := s.Global
			tcp := len(tsharkLines(t, tshark, "-n", "-r", pcap, "-Y", "tcp && !icmp && !icmpv6", "-T", "fields", "-e", "frame.number"))
			retr := len(tsharkLines(t, tshark, "-n", "-r", pcap, "-Y", "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission", "-T", "fields", "-e", "frame.number"))
			if v := g.Get("tcp.flagged_retransmit_rate"); v.N != int64(tcp) || math.Abs(v.V-100*float64(retr)/float64(tcp)) > 1e-9 {
				t.Errorf("tcp.flagged_retransmit_rate %v (N=%d), tshark: %d of %d TCP frames", v.V, v.N, retr, tcp)
			}
			// packets lost before the capture point: the IPv4 ID steps of each
			// direction of each connection, as tshark decodes them; and the
			// retransmission episodes: flagged frames and ID gaps, one per
			// direction per 10 ms
			type dirKey struct{ stream, src string }
			type idAt struct {
				id int
				at float64
			}
			ids := map[dirKey][]idAt{}
			var order []dirKey
			for _, l := range tsharkLines(t, tshark, "-n", "-r", pcap, "-Y", "ip && tcp && !icmp", "-T", "fields", "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.srcport", "-e", "ip.id", "-e", "frame.time_epoch") {
				f := strings.Split(l, "\t")
				id, err := strconv.ParseInt(strings.TrimPrefix(f[3], "0x"), 16, 32)
				if err != nil {
					t.Fatalf("ip.id %q: %v", f[3], err)
				}
				at, _ := strconv.ParseFloat(f[4], 64)
				k := dirKey{f[0], f[1] + ":" + f[2]}
				if _, ok := ids[k]; !ok {
					order = append(order, k)
					ids[k] = nil
				}
				if id != 0 {
					ids[k] = append(ids[k], idAt{int(id), at})
				}
			}
			lost := 0
			events := map[dirKey][]float64{}
			for _, k := range order {
				steps, small, l := 0, 0, 0
				var gaps []float64
				for i := 1; i < len(ids[k]); i++ {
					d := (ids[k][i].id - ids[k][i-1].id + 65536) % 65536
					steps++
					if d >= 1 && d <= 64 {
						small++
						l += d - 1
						if d >= 2 {
							gaps = append(gaps, ids[k][i].at)
						}
					}
				}
				if float64(small) >= 0.9*float64(steps) {
					lost += l
					events[k] = append(events[k], gaps...)
				}
			}
			for _, l := range tsharkLines(t, tshark, "-n", "-r", pcap, "-Y", "tcp.analysis.retransmission || tcp.analysis.fast_retransmission || tcp.analysis.spurious_retransmission",
				"-T", "fields", "-E", "occurrence=f", "-e", "tcp.stream", "-e", "ip.src", "-e", "ipv6.src", "-e", "tcp.srcport", "-e", "frame.time_epoch") {
				f := strings.Split(l, "\t")
				at, _ := strconv.ParseFloat(f[4], 64)
				k := dirKey{f[0], f[1] + f[2] + ":" + f[3]}
				events[k] = append(events[k], at)
			}
			episodes := 0
			for _, ev := range events {
				sort.Float64s(ev)
				for i, at := range ev {
					if i == 0 || at-ev[i-1] > 0.010 {
						episodes++
					}
				}
			}
			if v := g.Get("tcp.upstream_loss_rate"); v.N != int64(tcp+lost) || math.Abs(v.V-100*float64(lost)/float64(tcp+lost)) > 1e-9 {
				t.Errorf("tcp.upstream_loss_rate %v (N=%d), from tshark's ip.id: %d lost, %d TCP frames", v.V, v.N, lost, tcp)
			}
			if v := g.Get("tcp.retransmit_rate"); v.N != int64(tcp) || math.Abs(v.V-100*float64(episodes)/float64(tcp)) > 1e-9 {
				t.Errorf("tcp.retransmit_rate %v (N=%d), from tshark: %d episodes of %d TCP frames", v.V, v.N, episodes, tcp)
			}
			streams := map[string]bool{}
			for _, l := range tsharkLines(t, tshark, "-n", "-r", pcap, "-Y", "tcp", "-T", "fields", "-e", "tcp.stream") {
				streams[l] = true
			}
			rst := map[string]bool{}
			for _, l := range tsharkLines(t, tshark, "-n", "-r", pcap, "-Y", "tcp.flags.reset == 1", "-T", "fields", "-e", "tcp.stream") {
				rst[l] = true
			}
			if v := g.Get("tcp.reset_rate"); v.N != int64(len(streams)) || math.Abs(v.V-100*float64(len(rst))/float64(len(streams))) > 1e-9 {
				t.Errorf("tcp.reset_rate %v (N=%d), tshark: %d of %d streams with a RST", v.V, v.N, len(rst), len(streams))
			}
			rtt := map[string]float64{}
			for _, l := range tsharkLines(t, tshark, "-n", "-r", pcap, "-Y", "tcp.analysis.initial_rtt", "-T", "fields", "-e", "tcp.stream", "-e", "tcp.analysis.initial_rtt") {
				f := strings.Split(l, "\t")
				if _, ok := rtt[f[0]]; !ok {
					v, _ := strconv.ParseFloat(f[1], 64)
					rtt[f[0]] = v * 1000
				}
			}
			var rtts []float64
			for _, v := range rtt {
				rtts = append(rtts, v)
			}
			for _, p := range []struct {
				m string
				q float64
			}{{"tcp.p50_handshake_rtt_ms", 0.5}, {"tcp.p90_handshake_rtt_ms", 0.9}, {"tcp.p99_handshake_rtt_ms", 0.99}} {
				if v := g.Get(p.m); v.N != int64(len(rtts)) || math.Abs(v.V-quantileCont(rtts, p.q)) > 1e-6 {
					t.Errorf("%s %v (N=%d), tshark's initial_rtt of %d streams gives %v", p.m, v.V, v.N, len(rtts), quantileCont(rtts, p.q))
				}
			}
			// ttfb of every response as tshark times it (tsharkHTTP: request
			// complete -> first response segment, from tshark's own frames)
			var ttfb []float64
			for _, c := range tsharkHTTP(t, pcap) {
				for _, v := range c.ttfb {
					if !math.IsNaN(v) {
						ttfb = append(ttfb, v)
					}
				}
			}
			for _, p := range []struct {
				m string
				q float64
			}{{"http.p50_ttfb_ms", 0.5}, {"http.p90_ttfb_ms", 0.9}, {"http.p99_ttfb_ms", 0.99}} {
				// tshark's epoch times are printed to the microsecond
				if v := g.Get(p.m); v.N != int64(len(ttfb)) || math.Abs(v.V-quantileCont(ttfb, p.q)) > 2e-3 {
					t.Errorf("%s %v (N=%d), tshark's times of %d responses give %v", p.m, v.V, v.N, len(ttfb), quantileCont(ttfb, p.q))
				}
			}
			// requests and status codes per endpoint: nginx's access log
			logRE := regexp.MustCompile(`^\S+ \S+ "(\S+) (\S+) HTTP/[0-9.]+" (\d+) `)
			want := map[string]map[int]int64{}
			for _, l := range readLines(t, "../../testdata/"+name+".access.log") {
				m := logRE.FindStringSubmatch(l)
				if m == nil {
					t.Fatalf("access log line %q", l)
				}
				path, _, _ := strings.Cut(m[2], "?")
				key := m[1] + " " + metrics.PathTemplate(path)
				if want[key] == nil {
					want[key] = map[int]int64{}
				}
				code, _ := strconv.Atoi(m[3])
				want[key][code]++
			}
			got := map[string]map[int]int64{}
			for e, grp := range s.Endpoints {
				key := e.Method + " " + e.Path
				if got[key] == nil {
					got[key] = map[int]int64{}
				}
				for code, n := range grp.Status {
					got[key][code] += n
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("status mix per endpoint:\npcapq %v\nnginx %v", got, want)
			}
			out, err := exec.Command(capinfos, "-u", "-M", pcap).Output()
			if err != nil {
				t.Fatal(err)
			}
			m := regexp.MustCompile(`Capture duration:\s+([0-9.]+) seconds`).FindSubmatch(out)
			if m == nil {
				t.Fatalf("capinfos: %s", out)
			}
			d, _ := strconv.ParseFloat(string(m[1]), 64)
			if v := g.Get("capture.duration_s"); math.Abs(v.V-d) > 1e-6 {
				t.Errorf("capture.duration_s %v, capinfos %v", v.V, d)
			}
			t.Logf("%s: flagged retransmissions %.3f%% (%d/%d), %d packets lost upstream, %d retransmission episodes, reset rate %.1f%% (%d/%d), %d RTTs, %d ttfb, %d endpoints as nginx's log",
				name, g.Get("tcp.flagged_retransmit_rate").V, retr, tcp, lost, episodes, g.Get("tcp.reset_rate").V, len(rst), len(streams), len(rtts), len(ttfb), len(want))
		})
	}
}

func readLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

func TestDiffCLI(t *testing.T) {
	dir := t.TempDir()
	// a capture diffed with itself: exit 0, nothing found
	code, out, stderr := pcapqRun(t, "diff", smallPcap, smallPcap)
	if code != 0 || !strings.Contains(out, "No findings") || !strings.Contains(out, "PASS, 0 of 11 rules broken") {
		t.Errorf("self diff: exit %d\n%s%s", code, out, stderr)
	}
	// another server, port and endpoints: exit 1, JSON names them
	code, out, stderr = pcapqRun(t, "diff", "-f", "json", "../../testdata/http-chunked.pcap", "../../testdata/http-gzip.pcap")
	var j struct {
		Status              string
		Broken              int
		NewEndpoints        []struct{ Key string } `json:"new_endpoints"`
		NewHosts            []struct{ Key string } `json:"new_hosts"`
		NewPorts, GonePorts []struct{ Key string }
		Rules               []struct{ Rule, Status string }
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("exit %d, %v: %s %s", code, err, out, stderr)
	}
	if code != 1 || j.Status != "fail" || j.Broken != 3 || !strings.Contains(stderr, "3 of 11 rules broken") {
		t.Errorf("different servers: exit %d, %+v, %s", code, j, stderr)
	}
	var eps []string
	for _, e := range j.NewEndpoints {
		eps = append(eps, e.Key)
	}
	if got := strings.Join(eps, ","); got != "GET 10.98.0.1 /dyn/text.txt,GET 10.98.0.1 /static/text.txt" {
		t.Errorf("new endpoints %s", got)
	}
	if len(j.NewHosts) != 1 || j.NewHosts[0].Key != "http 10.98.0.1" {
		t.Errorf("new hosts %+v", j.NewHosts)
	}
	for _, r := range j.Rules {
		if (r.Status == "fail") != (r.Rule == "new_endpoints:0" || r.Rule == "new_hosts:0" || r.Rule == "new_ports:0") {
			t.Errorf("rule %s: %s", r.Rule, r.Status)
		}
	}
	// one database, two capture ids; the same database file on both sides
	db := filepath.Join(dir, "both.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", smallPcap, diffMixPcap, "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	if code, out, stderr := pcapqRun(t, "diff", "-d", db, "--base-capture", "1", "--capture", "1"); code != 0 || !strings.Contains(out, "No findings") {
		t.Errorf("--db same capture: exit %d %s %s", code, out, stderr)
	}
	if code, out, _ := pcapqRun(t, "diff", "-d", db, "--base-capture", "2", "--capture", "1"); code != 1 || !strings.Contains(out, "capture 1") {
		t.Errorf("--db capture 2 -> 1: exit %d %s", code, out)
	}
	if code, out, stderr := pcapqRun(t, "diff", db, db); code != 0 || !strings.Contains(out, "2 captures") {
		t.Errorf("database with itself (both captures): exit %d %s %s", code, out, stderr)
	}
	if code, out, _ := pcapqRun(t, "diff", db, db, "--base-capture", "2", "--capture", "2"); code != 0 || !strings.Contains(out, "No findings") {
		t.Errorf("database with itself, capture 2: exit %d", code)
	}
	// reports to files, format by extension; stdout gets one line
	xmlF, mdF, jsonF := filepath.Join(dir, "r.xml"), filepath.Join(dir, "r.md"), filepath.Join(dir, "r.json")
	code, _, stderr = pcapqRun(t, "diff", diffMixPcap, db, "--base-capture", "1", "-o", xmlF)
	if code != 2 || !strings.Contains(stderr, "is a capture file") {
		t.Errorf("--base-capture with a capture file: exit %d %s", code, stderr)
	}
	code, out, _ = pcapqRun(t, "diff", "../../testdata/http-chunked.pcap", "../../testdata/http-gzip.pcap", "-o", xmlF, "-o", mdF, "-o", jsonF)
	if code != 1 || strings.Count(out, "\n") != 1 || !strings.HasPrefix(out, "pcapq diff: FAIL") {
		t.Errorf("-o: exit %d, stdout %q", code, out)
	}
	var suites struct {
		XMLName xml.Name
		Suite   struct {
			Tests    int `xml:"tests,attr"`
			Failures int `xml:"failures,attr"`
		} `xml:"testsuite"`
	}
	b, _ := os.ReadFile(xmlF)
	if err := xml.Unmarshal(b, &suites); err != nil || suites.XMLName.Local != "testsuites" || suites.Suite.Tests != 11 || suites.Suite.Failures == 0 {
		t.Errorf("junit file: %v %+v", err, suites)
	}
	b, _ = os.ReadFile(mdF)
	if !strings.HasPrefix(string(b), "### :x: pcapq diff") {
		t.Errorf("md file: %.80q", b)
	}
	b, _ = os.ReadFile(jsonF)
	if !json.Valid(b) {
		t.Errorf("json file: %.80q", b)
	}
	if code, out, _ := pcapqRun(t, "diff", "--list-metrics"); code != 0 || !strings.Contains(out, "tcp.retransmit_rate") || !strings.Contains(out, "new_endpoints:0") {
		t.Errorf("--list-metrics: %d %.200s", code, out)
	}
	// rules from the command line and a file
	rules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rules, []byte("defaults: false\ndiff:\n  - http.requests_per_s:-10%\n"), 0o644)
	if code, out, _ := pcapqRun(t, "diff", diffMixPcap, smallPcap, "--rules", rules); code != 1 || !strings.Contains(out, "FAIL http.requests_per_s:-10%") || !strings.Contains(out, "1 of 1 rules") {
		t.Errorf("rules file: exit %d\n%s", code, out)
	}
	if code, out, _ := pcapqRun(t, "diff", diffMixPcap, smallPcap, "--no-defaults", "--fail-on", "http.requests:+1000%,min=1"); code != 0 || !strings.Contains(out, "PASS, 0 of 1 rules") {
		t.Errorf("--no-defaults --fail-on: exit %d\n%s", code, out)
	}
	// new endpoints allowlisted
	if code, out, _ := pcapqRun(t, "diff", "../../testdata/http-chunked.pcap", "../../testdata/http-gzip.pcap", "--no-defaults", "--fail-on", "new_endpoints:0", "--allow-endpoint", "GET /static/*", "--allow-endpoint", "GET /dyn/*"); code != 0 || strings.Count(out, "(allowed)") != 2 {
		t.Errorf("--allow-endpoint: exit %d\n%s", code, out)
	}
}

func TestDiffUsageErrors(t *testing.T) {
	dir := t.TempDir()
	html := filepath.Join(dir, "page.html")
	os.WriteFile(html, []byte("<html><body>not a capture</body></html>"), 0o644)
	notPcapq := filepath.Join(dir, "other.duckdb")
	db, err := query.Open(context.Background(), notPcapq)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec(context.Background(), "CREATE TABLE t (x INTEGER)")
	db.Close()
	rules := filepath.Join(dir, "bad.yaml")
	os.WriteFile(rules, []byte("diff:\n  - nope:+1%\n"), 0o644)
	pcapqDB := filepath.Join(dir, "p.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", smallPcap, "-o", pcapqDB); code != 0 {
		t.Fatal(stderr)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"diff", smallPcap, filepath.Join(dir, "missing.pcap")}, "missing.pcap"},
		{[]string{"diff", html, smallPcap}, "page.html"},
		{[]string{"diff", smallPcap}, "needs BASE and NEW"},
		{[]string{"diff", smallPcap, smallPcap, "--fail-on", "nope:+1%"}, "unknown metric"},
		{[]string{"diff", smallPcap, smallPcap, "--fail-on", "http.p99_ttfb_ms<1"}, "METRIC:CHANGE"},
		{[]string{"diff", smallPcap, smallPcap, "--rules", rules}, "bad.yaml"},
		{[]string{"diff", smallPcap, smallPcap, "--rules", filepath.Join(dir, "none.yaml")}, "none.yaml"},
		{[]string{"diff", smallPcap, smallPcap, "--no-defaults"}, "no rules"},
		{[]string{"diff", smallPcap, smallPcap, "--allow-port", "tcp/http"}, "not a port number"},
		{[]string{"diff", smallPcap, smallPcap, "-f", "yaml"}, "yaml"},
		{[]string{"diff", notPcapq, smallPcap}, "not a pcapq database"},
		{[]string{"diff", pcapqDB, pcapqDB, "--capture", "7"}, "no capture [7]"},
		{[]string{"diff", "-d", pcapqDB, "--capture", "1"}, "--base-capture"},
		{[]string{"diff", "-d", pcapqDB, smallPcap, "--base-capture", "1", "--capture", "1"}, "either --db"},
		{[]string{"diff", smallPcap, smallPcap, "-o", filepath.Join(dir, "no", "such", "r.xml")}, "no/such/r.xml"},
		{[]string{"check", smallPcap}, "nothing to check"},
		{[]string{"check", "--fail-on", "http.requests>0"}, "needs a database or a capture"},
		{[]string{"check", html, "--fail-on", "http.requests>0"}, "page.html"},
		{[]string{"check", smallPcap, "--fail-on", "new_hosts<=0"}, "use it with pcapq diff"},
		{[]string{"check", smallPcap, "--fail-on", "tcp.retransmit_rate<1ms"}, "unit"},
		{[]string{"check", smallPcap, "--allow-host", "GET /x"}, "host pattern"},
	} {
		code, out, stderr := pcapqRun(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d (want 2), stderr %q (want %q), stdout %.100q", c.args, code, stderr, c.want, out)
		}
	}
}

func TestCheckCLI(t *testing.T) {
	// mkcapture-small: 22 of 1845 TCP frames retransmitted (1.19%, tshark)
	code, out, stderr := pcapqRun(t, "check", smallPcap, "--fail-on", "tcp.flagged_retransmit_rate<1%", "--fail-on", "http.5xx_rate<=0")
	if code != 1 || !strings.Contains(out, "FAIL tcp.flagged_retransmit_rate<1%") || !strings.Contains(out, "tcp.flagged_retransmit_rate = 1.19% (N=1845), must be < 1.00%") || !strings.Contains(stderr, "1 of 2 rules broken") {
		t.Errorf("check: exit %d\n%s%s", code, out, stderr)
	}
	if code, out, _ := pcapqRun(t, "check", smallPcap, "--fail-on", "tcp.flagged_retransmit_rate<1.2%", "--fail-on", "http.requests>=64", "--fail-on", "http.p99_ttfb_ms[GET /small.txt]<0.5s"); code != 0 {
		t.Errorf("passing check: exit %d\n%s", code, out)
	}
	// The dns table lists the names asked for (example.test, api.example.test, nope.invalid): hosts too.
	if code, out, _ := pcapqRun(t, "check", smallPcap, "--allow-host", "10.97.0.0/24", "--allow-host", "fd00:97::/64", "--allow-host", "*.test", "--allow-host", "*.invalid", "--allow-port", "tcp/80", "--allow-port", "udp/53"); code != 0 {
		t.Errorf("allowlist of everything contacted: exit %d\n%s", code, out)
	}
	code, out, _ = pcapqRun(t, "check", smallPcap, "--allow-host", "10.97.0.0/24", "--allow-host", "*.test", "--allow-host", "*.invalid", "--allow-port", "tcp/80")
	if code != 1 || !strings.Contains(out, "2 not allowed (host of 7 seen): http [fd00:97::1], ip fd00:97::1") || !strings.Contains(out, "1 not allowed (port of 2 seen): udp/53") {
		t.Errorf("allowlist: exit %d\n%s", code, out)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "both.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", smallPcap, diffMixPcap, "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	// capture 2 (the small mix) has 2143 requests, capture 1 64, both 2207
	for _, c := range []struct {
		args []string
		code int
	}{
		{[]string{"-d", db, "--capture", "2"}, 0},
		{[]string{"-d", db, "--capture", "1"}, 1},
		{[]string{db, "--capture", "1", "--capture", "2"}, 0},
		{[]string{db}, 0},
	} {
		args := append([]string{"check", "--fail-on", "http.requests>=2143"}, c.args...)
		if code, out, stderr := pcapqRun(t, args...); code != c.code {
			t.Errorf("%v: exit %d, want %d\n%s%s", args, code, c.code, out, stderr)
		}
	}
	rules := filepath.Join(dir, "rules.yaml")
	os.WriteFile(rules, []byte("check:\n  - rule: tcp.retransmit_rate < 1%\n    name: few retransmissions\nallow:\n  ports: [tcp/80, udp/53]\n"), 0o644)
	code, out, _ = pcapqRun(t, "check", smallPcap, "--rules", rules, "-f", "junit")
	if code != 1 || !strings.Contains(out, `<testcase name="few retransmissions (tcp.retransmit_rate &lt; 1%)"`) || !strings.Contains(out, `tcp.retransmit_rate = 2.98% (N=1845)`) || !strings.Contains(out, `<testcase name="allowed ports: tcp/80, udp/53" classname="pcapq.check" time="0"></testcase>`) {
		t.Errorf("rules file: exit %d\n%s", code, out)
	}
}
