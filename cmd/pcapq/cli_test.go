package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/analyzers/all"
)

const smallPcap = "../../testdata/mkcapture-small.pcap"

func TestNotACaptureExit2(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "page.html")
	os.WriteFile(bad, []byte("<html><body>hello</body></html>"), 0o644)
	code, _, stderr := pcapqRun(t, "ingest", bad, "-o", filepath.Join(dir, "x.duckdb"))
	if code != 2 {
		t.Errorf("exit %d, want 2", code)
	}
	if !strings.Contains(stderr, bad) || !strings.Contains(stderr, "3c 68 74 6d") {
		t.Errorf("message should name the file and the magic bytes found: %q", stderr)
	}
	code, _, stderr = pcapqRun(t, "ingest", filepath.Join(dir, "missing.pcap"), "-o", filepath.Join(dir, "x.duckdb"))
	if code != 2 || !strings.Contains(stderr, "missing.pcap") {
		t.Errorf("missing file: exit %d, %q", code, stderr)
	}
}

func TestReingestReplacesAndFormats(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	for i := 0; i < 2; i++ {
		if code, _, stderr := pcapqRun(t, "ingest", "-q", smallPcap, "-o", db); code != 0 {
			t.Fatalf("ingest: %d %s", code, stderr)
		}
	}
	code, out, stderr := pcapqRun(t, "query", "-d", db, "-f", "json", "SELECT count(*) AS captures, count(DISTINCT capture_id) AS ids FROM captures")
	if code != 0 {
		t.Fatalf("query: %s", stderr)
	}
	var res []map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("json output %q: %v", out, err)
	}
	if len(res) != 1 || res[0]["captures"] != float64(1) {
		t.Errorf("re-ingest duplicated the capture: %v", res)
	}
	_, pk1, _ := pcapqRun(t, "query", "-d", db, "-f", "csv", "SELECT count(*) FROM packets")
	_, pk2, _ := pcapqRun(t, "query", "-f", "csv", smallPcap, "SELECT count(*) FROM packets")
	if pk1 != pk2 || !strings.HasPrefix(pk1, "count_star()\n") {
		t.Errorf("db query %q != one-shot query %q", pk1, pk2)
	}
	// Every format runs.
	for _, f := range []string{"table", "csv", "jsonl", "markdown"} {
		code, out, stderr := pcapqRun(t, "query", "-d", db, "-f", f, "SELECT frame, src_ip, tcp_flags FROM packets ORDER BY frame LIMIT 3")
		if code != 0 || !strings.Contains(out, "src_ip") && f != "jsonl" || strings.Count(out, "\n") < 3 {
			t.Errorf("format %s: exit %d out %q err %q", f, code, out, stderr)
		}
	}
	pq := filepath.Join(dir, "out.parquet")
	if code, _, stderr := pcapqRun(t, "query", "-d", db, "-f", "parquet", "-o", pq, "SELECT * FROM packets"); code != 0 {
		t.Fatalf("parquet: %s", stderr)
	}
	code, out, _ = pcapqRun(t, "query", "-d", db, "-f", "csv", "SELECT count(*) = (SELECT count(*) FROM packets) FROM '"+pq+"'")
	if code != 0 || !strings.Contains(out, "true") {
		t.Errorf("parquet file does not hold every packet: %q", out)
	}
}

func TestCompressedAndStdin(t *testing.T) {
	raw, err := os.ReadFile(smallPcap)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw)
	zw.Close()
	dir := t.TempDir()
	gzPath := filepath.Join(dir, "capture.bin") // no .gz suffix: detection is by magic
	os.WriteFile(gzPath, gz.Bytes(), 0o644)
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"ingest", "-q", gzPath, "-", "-o", filepath.Join(dir, "t.duckdb")}, bytes.NewReader(raw), &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	_, res, _ := pcapqRun(t, "query", "-d", filepath.Join(dir, "t.duckdb"), "-f", "csv",
		"SELECT format, packets FROM captures ORDER BY capture_id")
	lines := strings.Split(strings.TrimSpace(res), "\n")
	if len(lines) != 3 || !strings.Contains(lines[1], "gzip") || strings.Split(lines[1], ",")[1] != strings.Split(lines[2], ",")[1] {
		t.Errorf("gzip file and stdin should give the same packets: %q", res)
	}
}

// TestInterruptKeepsCommitted: a cancelled ingest leaves the database with
// what was committed before, and nothing of the interrupted capture.
func TestInterruptKeepsCommitted(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/http-pipelined.pcap", "-o", db); code != 0 {
		t.Fatalf("first ingest: %s", stderr)
	}
	// Cancel once the second ingest has read its first packets.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	testProgressHook = func() { cancel() }
	defer func() { testProgressHook = nil }()
	var out, errb bytes.Buffer
	code := run(ctx, []string{"ingest", "-q", smallPcap, "-o", db}, nil, &out, &errb)
	if code != 130 || !strings.Contains(errb.String(), "interrupted") {
		t.Errorf("exit %d, %q", code, errb.String())
	}
	_, res, _ := pcapqRun(t, "query", "-d", db, "-f", "csv", "SELECT count(*) FROM captures")
	if strings.TrimSpace(res) != "count_star()\n1" {
		t.Errorf("after interrupt: %q, want only the first capture", res)
	}
}

func TestSchemaCommand(t *testing.T) {
	code, out, _ := pcapqRun(t, "schema")
	if code != 0 || !strings.Contains(out, "tcp_flags") || !strings.Contains(out, "TIMESTAMP_NS") {
		t.Errorf("schema: %d %q", code, out)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"0": 0, "1048576": 1 << 20, "256MiB": 256 << 20, "1GiB": 1 << 30, "500MB": 500e6, "64 KiB": 64 << 10} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "lots", "-1MiB", "99999999999GiB"} {
		if _, err := parseSize(bad); err == nil {
			t.Errorf("parseSize(%q) accepted", bad)
		}
	}
	if code, _, stderr := pcapqRun(t, "--go-memory", "lots", "schema"); code != 2 || !strings.Contains(stderr, "go-memory") {
		t.Errorf("bad --go-memory: exit %d %q", code, stderr)
	}
}

// The Arrow views the loader registers must not outlive an insert: they
// point at released memory, and a view persisted in the file would show in
// every DuckDB client (and crash pcapq when queried).
func TestNoLeftoverArrowViews(t *testing.T) {
	db := filepath.Join(t.TempDir(), "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/http-gzip.pcap", "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	_, out, _ := pcapqRun(t, "query", "-d", db, "-f", "csv", "SELECT string_agg(view_name, ' ' ORDER BY view_name) AS views FROM duckdb_views() WHERE NOT internal")
	var views []string
	for _, tb := range all.Tables {
		if tb.View != "" {
			views = append(views, tb.Name)
		}
	}
	sort.Strings(views)
	if want := "views\n" + strings.Join(views, " "); strings.TrimSpace(out) != want {
		t.Errorf("views in the database: %q, want only pcapq's (%s)", out, strings.Join(views, ", "))
	}
}

// TestFlowTrackingFlags: the idle timeouts reach the trackers (a short TCP
// timeout splits idle connections into evicted flows) and bad values are
// usage errors.
func TestFlowTrackingFlags(t *testing.T) {
	dir := t.TempDir()
	count := func(db string) string {
		t.Helper()
		code, out, stderr := pcapqRun(t, "query", "-d", db, "-f", "csv",
			"SELECT count(*) FILTER (WHERE proto = 'tcp') || ' ' || count(*) FILTER (WHERE proto = 'tcp' AND evicted) || ' ' || count(*) FILTER (WHERE proto = 'udp' AND evicted) FROM flows")
		if code != 0 {
			t.Fatalf("query: %s", stderr)
		}
		return strings.TrimSpace(strings.Split(out, "\n")[1])
	}
	var def, short [3]int
	for _, c := range []struct {
		args []string
		into *[3]int
	}{
		{nil, &def},
		{[]string{"--tcp-idle-timeout", "1ms", "--udp-idle-timeout", "1ns", "--max-flows", "5000", "--max-buffered", "1MiB"}, &short},
	} {
		db := filepath.Join(dir, strings.Join(c.args, "")+"x.duckdb")
		args := append([]string{"ingest", "-q", smallPcap, "-o", db}, c.args...)
		if code, _, stderr := pcapqRun(t, args...); code != 0 {
			t.Fatalf("%v: exit %d %s", args, code, stderr)
		}
		if _, err := fmt.Sscan(count(db), &c.into[0], &c.into[1], &c.into[2]); err != nil {
			t.Fatal(err)
		}
	}
	if def[1] != 0 || def[2] != 0 {
		t.Errorf("default timeouts evicted flows: %v", def)
	}
	if short[0] <= def[0] || short[1] == 0 || short[2] == 0 {
		t.Errorf("1ms TCP / 1ns UDP idle timeouts: tcp flows, evicted tcp, evicted udp = %v, default %v: want more TCP flows, some evicted", short, def)
	}
	for _, bad := range [][]string{{"--max-buffered", "lots"}, {"--tcp-idle-timeout", "soon"}, {"--udp-idle-timeout=-1s"}} {
		args := append([]string{"ingest", "-q", smallPcap, "-o", filepath.Join(dir, "bad.duckdb")}, bad...)
		if code, _, stderr := pcapqRun(t, args...); code != 2 || !strings.Contains(stderr, strings.TrimLeft(strings.SplitN(bad[0], "=", 2)[0], "-")) {
			t.Errorf("%v: exit %d %q, want 2 naming the flag", bad, code, stderr)
		}
	}
}
