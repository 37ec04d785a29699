package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/schema"
)

// capinfosPackets is the packet count capinfos gives for a capture of
// testdata (testdata/CAPINFOS.tsv).
func capinfosPackets(t *testing.T, name string) int {
	t.Helper()
	f, err := os.Open("../../testdata/CAPINFOS.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs[1:] {
		if r[0] == name && recs[0][7] == "Number of packets" {
			n, err := strconv.Atoi(r[7])
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("%s not in CAPINFOS.tsv", name)
	return 0
}

// csvValue runs a one-value query on a database and returns the value.
func csvValue(t *testing.T, db, sql string) string {
	t.Helper()
	code, out, stderr := pcapqRun(t, "query", "-q", "-d", db, "-f", "csv", sql)
	if code != 0 {
		t.Fatalf("query -d %q %s: exit %d %s", db, sql, code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// dirNames lists a directory.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	return names
}

// TestOutputAnyFileName: -o names a file, whatever its bytes. Each name
// below was read as something else before (options after '?', a URL
// escape, DuckDB's in-memory names, an extension prefix, a flag): the
// capture lands in a file of exactly that name, holding every packet
// capinfos counts, and nothing else appears. An empty name is a usage
// error.
func TestOutputAnyFileName(t *testing.T) {
	capture, err := filepath.Abs("../../testdata/http-gzip.pcap")
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(capinfosPackets(t, "http-gzip.pcap"))
	dir := t.TempDir()
	t.Chdir(dir)
	for _, name := range []string{
		"x?threads=1", ":memory:", "md:foo", "memory", "a?b.duckdb", "p%zz.duckdb", "p%41.duckdb",
		"sp ace.duckdb", "qu'ote.duckdb", `dq"uote.duckdb`, "new\nline.duckdb", "lat\xe9.duckdb",
		"-lead.duckdb", `back\slash.duckdb`, "#frag", "~tilde", "a;DROP TABLE captures;--",
	} {
		if code, _, stderr := pcapqRun(t, "ingest", "-q", capture, "-o", name); code != 0 {
			t.Errorf("ingest -o %q: exit %d %s", name, code, stderr)
			continue
		}
		if got := dirNames(t, dir); len(got) != 1 || got[0] != name {
			t.Errorf("ingest -o %q: directory holds %q, want only that file", name, got)
		}
		if got := csvValue(t, name, "SELECT count(*) FROM packets"); got != want {
			t.Errorf("-o %q: %s packets, capinfos %s", name, got, want)
		}
		os.Remove(name)
	}
	code, _, stderr := pcapqRun(t, "ingest", "-q", capture, "-o", "")
	if code != 2 || !strings.Contains(stderr, "empty") {
		t.Errorf("ingest -o '': exit %d %q, want a usage error (2)", code, stderr)
	}
	if got := dirNames(t, dir); len(got) != 0 {
		t.Errorf("after -o '': %q", got)
	}
}

// TestCaptureIdentityFileNames: the byte 0xE9 and the text \xe9 in two
// file names read alike in captures.path, but they are two captures: both
// stay, with the packets capinfos counts in each file, and re-ingesting
// one replaces only it.
func TestCaptureIdentityFileNames(t *testing.T) {
	dir := t.TempDir()
	byteName := filepath.Join(dir, "caf\xe9.pcap")
	textName := filepath.Join(dir, `caf\xe9.pcap`)
	for src, dst := range map[string]string{"http-gzip.pcap": byteName, "http-chunked.pcap": textName} {
		raw, err := os.ReadFile("../../testdata/" + src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(dst, raw, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gz, chunked := capinfosPackets(t, "http-gzip.pcap"), capinfosPackets(t, "http-chunked.pcap")
	want := fmt.Sprintf("%d %d|1|%d", gz, chunked, gz+chunked)
	db := filepath.Join(dir, "t.duckdb")
	for _, args := range [][]string{{byteName, textName}, {byteName}, {textName}} {
		if code, _, stderr := pcapqRun(t, append([]string{"ingest", "-q", "-o", db}, args...)...); code != 0 {
			t.Fatalf("ingest %q: %s", args, stderr)
		}
		got := csvValue(t, db, "SELECT string_agg(c.packets || '', ' ' ORDER BY capture_id) || '|' || count(DISTINCT path) || '|' || (SELECT count(*) FROM packets) FROM captures c")
		if got != want {
			t.Errorf("after ingesting %q: packets per capture|distinct path texts|packets rows = %q, want %q", args, got, want)
		}
	}
}

// TestFailedFirstIngestLeavesNothing: when ingest created the database
// file and no capture went in, the file is removed; a file that existed
// before is kept as it was, and so is a new one that got a capture.
func TestFailedFirstIngestLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "page.html")
	if err := os.WriteFile(bad, []byte("<html>not a capture</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "new.duckdb")
	code, _, stderr := pcapqRun(t, "ingest", "-q", bad, filepath.Join(dir, "missing.pcap"), "-o", out)
	if code != 2 || !strings.Contains(stderr, "removed") {
		t.Errorf("failed first ingest: exit %d %q, want 2 and a word that the file was removed", code, stderr)
	}
	if got := dirNames(t, filepath.Dir(out)); len(got) != 0 {
		t.Errorf("failed first ingest left %q", got)
	}

	// Interrupted first ingest.
	ctx, cancel := context.WithCancel(context.Background())
	testProgressHook = func() { cancel() }
	var o, e bytes.Buffer
	code = run(ctx, []string{"ingest", "-q", smallPcap, "-o", out}, nil, &o, &e)
	testProgressHook = nil
	cancel()
	if code != 130 {
		t.Errorf("interrupted first ingest: exit %d %q", code, e.String())
	}
	if got := dirNames(t, filepath.Dir(out)); len(got) != 0 {
		t.Errorf("interrupted first ingest left %q", got)
	}

	// One good capture and one bad: the file stays with the good one.
	code, _, stderr = pcapqRun(t, "ingest", "-q", bad, "../../testdata/http-gzip.pcap", "-o", out)
	if code != 2 || strings.Contains(stderr, "removed") {
		t.Errorf("one of two captures failed: exit %d %q", code, stderr)
	}
	if got := csvValue(t, out, "SELECT sum(packets) FROM captures"); got != fmt.Sprint(capinfosPackets(t, "http-gzip.pcap")) {
		t.Errorf("database after one good capture holds %s packets", got)
	}
	// An existing database is never removed, whatever fails.
	code, _, stderr = pcapqRun(t, "ingest", "-q", bad, "-o", out)
	if code != 2 || strings.Contains(stderr, "removed") {
		t.Errorf("failed ingest into an existing database: exit %d %q", code, stderr)
	}
	if got := csvValue(t, out, "SELECT sum(packets) FROM captures"); got != fmt.Sprint(capinfosPackets(t, "http-gzip.pcap")) {
		t.Errorf("existing database after a failed ingest holds %s packets", got)
	}
	// Nor is a DuckDB file without pcapq's tables.
	other := filepath.Join(dir, "other.duckdb")
	odb, err := query.Open(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	if err := odb.Exec(context.Background(), "CREATE TABLE mine AS SELECT 42 AS answer"); err != nil {
		t.Fatal(err)
	}
	odb.Close()
	if code, _, _ := pcapqRun(t, "ingest", "-q", bad, "-o", other); code != 2 {
		t.Errorf("exit %d", code)
	}
	if got := csvValue(t, other, "SELECT answer FROM mine"); got != "42" {
		t.Errorf("a DuckDB file of someone else's after a failed ingest: %q", got)
	}
}

// TestColumnOrderAndMissingColumn: a database whose flows table has
// orig_pkts and resp_pkts in swapped places gets each count in its own
// column (checked against the packets table's directions); one whose
// flows lacks a column, or whose schema is newer, is refused with a
// message saying what to do, and not changed.
func TestColumnOrderAndMissingColumn(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	prepare := func(name string, stmts ...string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		db, err := query.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.EnsureSchema(ctx); err != nil {
			t.Fatal(err)
		}
		for _, q := range stmts {
			if err := db.Exec(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		return path
	}
	var cols []string // flows' columns, orig_pkts and resp_pkts swapped
	for _, c := range schema.Flows.Columns {
		switch c.Name {
		case "orig_pkts":
			cols = append(cols, "resp_pkts")
		case "resp_pkts":
			cols = append(cols, "orig_pkts")
		default:
			cols = append(cols, c.Name)
		}
	}
	db := prepare("swapped.duckdb", "CREATE TABLE f2 AS SELECT "+strings.Join(cols, ", ")+" FROM flows", "DROP TABLE flows", "ALTER TABLE f2 RENAME TO flows")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", smallPcap, "-o", db); code != 0 {
		t.Fatalf("ingest into swapped columns: %s", stderr)
	}
	check := `SELECT count(*) || ' ' || count(*) FILTER (WHERE orig_pkts <> resp_pkts) || ' ' ||
		count(*) FILTER (WHERE orig_pkts = (SELECT count(*) FROM packets p WHERE p.flow_id = f.flow_id AND p.direction = 'orig')
			AND resp_pkts = (SELECT count(*) FROM packets p WHERE p.flow_id = f.flow_id AND p.direction = 'resp')) FROM flows f`
	var n, differ, agree int
	if _, err := fmt.Sscan(csvValue(t, db, check), &n, &differ, &agree); err != nil {
		t.Fatal(err)
	}
	if n == 0 || differ == 0 || agree != n {
		t.Errorf("swapped columns: %d flows, %d with orig_pkts <> resp_pkts, %d agreeing with the packets' directions", n, differ, agree)
	}
	if got := csvValue(t, db, "SELECT column_name FROM duckdb_columns() WHERE table_name = 'flows' ORDER BY column_index LIMIT 1 OFFSET "+fmt.Sprint(schema.Flows.Index("orig_pkts"))); got != "resp_pkts" {
		t.Errorf("the test's file does not have the columns swapped: %q", got)
	}

	for _, c := range []struct {
		name, change string
		want         []string
	}{
		{"missing.duckdb", "ALTER TABLE flows DROP COLUMN orig_pkts", []string{"missing.duckdb", "flows has no column orig_pkts (BIGINT)", "new database file"}},
		{"newer.duckdb", "UPDATE pcapq_meta SET schema_version = 99, pcapq_version = '7.0'", []string{"newer.duckdb", "schema 99", "pcapq 7.0", fmt.Sprintf("schema %d and older", schema.Version)}},
	} {
		db := prepare(c.name, c.change)
		code, _, stderr := pcapqRun(t, "ingest", "-q", smallPcap, "-o", db)
		if code != 1 {
			t.Errorf("%s: exit %d, want 1", c.name, code)
		}
		for _, w := range c.want {
			if !strings.Contains(stderr, w) {
				t.Errorf("%s: message %q does not say %q", c.name, stderr, w)
			}
		}
		if _, err := os.Stat(db); err != nil {
			t.Errorf("%s: the refused file is gone: %v", c.name, err)
		}
		code, _, stderr = pcapqRun(t, "query", "-d", db, "SELECT 1")
		if code != 1 || !strings.Contains(stderr, c.want[1]) {
			t.Errorf("query -d %s: exit %d %q", c.name, code, stderr)
		}
	}
}

// TestPreviousReleaseDatabase: a file the previous release wrote (schema
// 1, query/testdata/mkschema1.sh) answers queries after pcapq says it
// migrated it, and takes a new capture.
func TestPreviousReleaseDatabase(t *testing.T) {
	f, err := os.Open("../../query/testdata/schema1-mkcapture-small.duckdb.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(t.TempDir(), "old.duckdb")
	if err := os.WriteFile(db, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := pcapqRun(t, "query", "-d", db, "-f", "csv", "SELECT sum(packets), (SELECT count(*) FROM packets) FROM captures")
	wantMsg := fmt.Sprintf("migrated from pcapq schema 1 to %d", schema.Version)
	a, b := capinfosPackets(t, "mkcapture-small.pcap"), capinfosPackets(t, "http-gzip.pcap")
	sum := fmt.Sprint(a + b)
	if code != 0 || !strings.Contains(stderr, wantMsg) || !strings.HasSuffix(strings.TrimSpace(out), sum+","+sum) {
		t.Errorf("query on a schema-1 file: exit %d, out %q, stderr %q; want %s packets and %q", code, out, stderr, sum, wantMsg)
	}
	code, _, stderr = pcapqRun(t, "ingest", "../../testdata/http-chunked.pcap", "-o", db)
	if code != 0 || strings.Contains(stderr, "migrated") {
		t.Errorf("ingest into the migrated file: exit %d %q", code, stderr)
	}
	if got := csvValue(t, db, "SELECT count(*) || ' ' || sum(packets) FROM captures"); got != fmt.Sprintf("3 %d", a+b+capinfosPackets(t, "http-chunked.pcap")) {
		t.Errorf("after a new capture: %q", got)
	}
}
