//go:build duckdb_arrow

package query

import (
	"compress/gzip"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/schema"
)

// schema1File is a database written by pcapq at commit 3778535, the last
// release without pcapq_meta (schema 1); testdata/mkschema1.sh rebuilds it
// from that commit. It holds mkcapture-small.pcap and http-gzip.pcap under
// the Latin-1 name caf<0xE9>.pcap, both ingested from /tmp/pcapq-schema1.
const schema1File = "testdata/schema1-mkcapture-small.duckdb.gz"

// gunzipTo writes the gzip file src, decompressed, to dst.
func gunzipTo(t *testing.T, src, dst string) {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, zr); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// capinfos returns the packet count and data size (sum of captured
// lengths) capinfos reports for a capture of ../testdata.
func capinfos(t *testing.T, name string) (packets, bytes int64) {
	t.Helper()
	f, err := os.Open("../testdata/CAPINFOS.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, r := range recs[1:] {
		if r[col["File name"]] == name {
			p, err1 := strconv.ParseInt(r[col["Number of packets"]], 10, 64)
			b, err2 := strconv.ParseInt(r[col["Data size (bytes)"]], 10, 64)
			if err1 != nil || err2 != nil {
				t.Fatalf("CAPINFOS.tsv %s: %v %v", name, err1, err2)
			}
			return p, b
		}
	}
	t.Fatalf("%s not in CAPINFOS.tsv", name)
	return 0, 0
}

// tsharkRequests counts the frames tshark marks as HTTP requests in
// ../testdata/NAME.tshark.tsv.
func tsharkRequests(t *testing.T, name string) int64 {
	t.Helper()
	raw, err := os.ReadFile("../testdata/" + strings.TrimSuffix(name, ".pcap") + ".tshark.tsv")
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for i, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if f := strings.Split(line, "\t"); i > 0 && len(f) > 2 && f[2] != "" {
			n++
		}
	}
	return n
}

// checkCaptures compares every capture of db with capinfos and tshark:
// captures' counts and the rows the other tables hold for it.
func checkCaptures(t *testing.T, db *DB, want map[string]string) {
	t.Helper()
	ctx := context.Background()
	rows, err := db.Query(ctx, `SELECT path, packets, bytes,
		(SELECT count(*) FROM packets p WHERE p.capture_id = c.capture_id),
		(SELECT coalesce(sum(cap_len), 0) FROM packets p WHERE p.capture_id = c.capture_id),
		(SELECT count(*) FROM http h WHERE h.capture_id = c.capture_id AND h.method IS NOT NULL)
		FROM captures c ORDER BY capture_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	seen := 0
	for rows.Next() {
		var path string
		var packets, byts, rowsN, sumLen, reqs int64
		if err := rows.Scan(&path, &packets, &byts, &rowsN, &sumLen, &reqs); err != nil {
			t.Fatal(err)
		}
		name, ok := want[path]
		if !ok {
			t.Errorf("unexpected capture %q", path)
			continue
		}
		seen++
		wp, wb := capinfos(t, name)
		wr := tsharkRequests(t, name)
		if packets != wp || rowsN != wp || byts != wb || sumLen != wb || reqs != wr {
			t.Errorf("%s: captures.packets %d, packets rows %d (capinfos %d); captures.bytes %d, sum(cap_len) %d (capinfos %d); HTTP requests %d (tshark %d)",
				name, packets, rowsN, wp, byts, sumLen, wb, reqs, wr)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if seen != len(want) {
		t.Errorf("%d captures, want %d", seen, len(want))
	}
}

// A file written by the previous release (schema 1) is migrated when
// opened, in place: its rows still answer queries with the numbers
// capinfos and tshark give, its captures keep their identity, and it opens
// afterwards without another migration.
func TestSchema1FileMigrates(t *testing.T) {
	ctx := context.Background()
	want := map[string]string{
		"/tmp/pcapq-schema1/mkcapture-small.pcap": "mkcapture-small.pcap",
		`/tmp/pcapq-schema1/caf\xe9.pcap`:         "http-gzip.pcap",
	}
	for _, create := range []bool{true, false} { // ingest's EnsureSchema, query's CheckSchema
		path := filepath.Join(t.TempDir(), "schema1.duckdb")
		gunzipTo(t, schema1File, path)
		for round := 0; round < 2; round++ {
			db, err := Open(ctx, path)
			if err != nil {
				t.Fatal(err)
			}
			db.SetVersion("test-version")
			if create {
				err = db.EnsureSchema(ctx)
			} else {
				err = db.CheckSchema(ctx)
			}
			if err != nil {
				t.Fatalf("create %v round %d: %v", create, round, err)
			}
			if wantFrom := []int{1, 0}[round]; db.MigratedFrom() != wantFrom {
				t.Errorf("create %v round %d: migrated from %d, want %d", create, round, db.MigratedFrom(), wantFrom)
			}
			v, _ := db.Scalar(ctx, "SELECT schema_version || ' ' || pcapq_version FROM pcapq_meta")
			if v != fmt.Sprintf("%d test-version", schema.Version) {
				t.Errorf("pcapq_meta: %v", v)
			}
			checkCaptures(t, db, want)
			// The name without a backslash keeps its bytes; the Latin-1
			// one cannot be recovered from schema 1's text.
			pb, _ := db.Scalar(ctx, "SELECT string_agg(coalesce(decode(path_bytes), 'NULL'), ' ' ORDER BY capture_id) FROM captures")
			if pb != "/tmp/pcapq-schema1/mkcapture-small.pcap NULL" {
				t.Errorf("path_bytes after migration: %q", pb)
			}
			// Re-ingests: the same name replaces (its id comes back), a new
			// one gets the next id.
			for p, id := range map[string]int32{
				"/tmp/pcapq-schema1/mkcapture-small.pcap": 1,
				"/tmp/pcapq-schema1/caf\xe9.pcap":         2, // by text, as schema 1
				"/tmp/pcapq-schema1/other.pcap":           3,
			} {
				got, err := db.BeginCapture(ctx, p)
				if err != nil {
					t.Fatal(err)
				}
				db.Rollback()
				if got != id {
					t.Errorf("BeginCapture(%q) = %d, want %d", p, got, id)
				}
			}
			if err := db.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// reopen closes db and opens path again.
func reopen(t *testing.T, db *DB, path string) *DB {
	t.Helper()
	if db != nil {
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// A schema-1 file whose tables do not hold schema 1 is refused, naming
// the difference, and left unchanged (the migration rolls back).
func TestSchema1FileChangedRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "schema1.duckdb")
	gunzipTo(t, schema1File, path)
	db := reopen(t, nil, path)
	if err := db.Exec(ctx, "ALTER TABLE flows DROP COLUMN retransmits"); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	err := db.EnsureSchema(ctx)
	if err == nil || !strings.Contains(err.Error(), "flows has no column retransmits (BIGINT)") || !strings.Contains(err.Error(), "schema 1") || !strings.Contains(err.Error(), "new database file") {
		t.Fatalf("EnsureSchema of a changed schema-1 file: %v", err)
	}
	db = reopen(t, db, path)
	n, _ := db.Scalar(ctx, "SELECT count(*) FROM duckdb_columns() WHERE table_name = 'captures' AND column_name = 'path_bytes'")
	m, _ := db.Scalar(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'pcapq_meta'")
	if n != int64(0) || m != int64(0) {
		t.Errorf("refused migration left path_bytes (%v) or pcapq_meta (%v)", n, m)
	}
}

// Files of a newer schema, of a version no release wrote, or with a
// damaged pcapq_meta are refused by both EnsureSchema and CheckSchema with
// a message naming the versions.
func TestSchemaVersionRefused(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		change string
		want   []string
	}{
		{fmt.Sprintf("UPDATE pcapq_meta SET schema_version = %d, pcapq_version = '9.9.9'", schema.Version+1),
			[]string{fmt.Sprintf("pcapq schema %d", schema.Version+1), "pcapq 9.9.9", fmt.Sprintf("knows schema %d", schema.Version)}},
		{"UPDATE pcapq_meta SET schema_version = 0", []string{"schema 0", "no pcapq release wrote"}},
		{"INSERT INTO pcapq_meta VALUES (2, 'x')", []string{"holds 2 rows"}},
		{"DELETE FROM pcapq_meta", []string{"holds 0 rows"}},
	} {
		path := filepath.Join(t.TempDir(), "v.duckdb")
		db := reopen(t, nil, path)
		if err := db.EnsureSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(ctx, c.change); err != nil {
			t.Fatal(err)
		}
		for _, create := range []bool{true, false} {
			db = reopen(t, db, path)
			var err error
			if create {
				err = db.EnsureSchema(ctx)
			} else {
				err = db.CheckSchema(ctx)
			}
			for _, w := range c.want {
				if err == nil || !strings.Contains(err.Error(), w) || !strings.Contains(err.Error(), "v.duckdb") {
					t.Errorf("%s (create %v): error %v, want it to say %q", c.change, create, err, w)
				}
			}
		}
	}
}

// flowsBatch is one flows row with the given packet counts, every other
// column NULL.
func flowsBatch(id int64, orig, resp int64) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema.Flows.ArrowSchema())
	defer b.Release()
	for i, c := range schema.Flows.Columns {
		switch c.Name {
		case "capture_id":
			b.Field(i).(*array.Int32Builder).Append(1)
		case "flow_id":
			b.Field(i).(*array.Int64Builder).Append(id)
		case "orig_pkts":
			b.Field(i).(*array.Int64Builder).Append(orig)
		case "resp_pkts":
			b.Field(i).(*array.Int64Builder).Append(resp)
		default:
			b.Field(i).AppendNull()
		}
	}
	return b.NewRecordBatch()
}

// Rows are written by column name: a file whose flows table has two
// columns of one type in another order gets each value in its own
// column; one that lacks a column, or has it in another type, is refused
// before anything is written.
func TestColumnsByName(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "swapped.duckdb")
	db := reopen(t, nil, path)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	// flows again, with resp_pkts before orig_pkts.
	var cols []string
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
	for _, q := range []string{
		"CREATE TABLE flows2 AS SELECT " + strings.Join(cols, ", ") + " FROM flows",
		"DROP TABLE flows", "ALTER TABLE flows2 RENAME TO flows",
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	db = reopen(t, db, path)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatalf("columns in another order: %v", err)
	}
	if pos, _ := db.Scalar(ctx, "SELECT column_index FROM duckdb_columns() WHERE table_name = 'flows' AND column_name = 'orig_pkts'"); pos == int64(schema.Flows.Index("orig_pkts")) {
		t.Fatalf("orig_pkts at its usual position %v: the test did not swap it", pos)
	}
	if _, err := db.BeginCapture(ctx, "/x.pcap"); err != nil {
		t.Fatal(err)
	}
	rec := flowsBatch(7, 5, 9)
	if err := db.Write(schema.Flows, []arrow.RecordBatch{rec}); err != nil {
		t.Fatal(err)
	}
	rec.Release()
	if err := db.FinishCapture(ctx, CaptureRow{ID: 1, Path: "/x.pcap"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Scalar(ctx, "SELECT orig_pkts || '/' || resp_pkts FROM flows WHERE flow_id = 7"); got != "5/9" {
		t.Errorf("orig_pkts/resp_pkts in a file with them swapped: %v, want 5/9", got)
	}

	for _, c := range []struct{ change, want string }{
		{"ALTER TABLE flows DROP COLUMN retransmits", "flows has no column retransmits (BIGINT)"},
		{"ALTER TABLE http_data ALTER status_code TYPE VARCHAR", "http_data.status_code is VARCHAR, not INTEGER"},
		{"DROP TABLE warnings", "no table warnings"},
	} {
		path := filepath.Join(dir, "changed.duckdb")
		os.Remove(path)
		db := reopen(t, nil, path)
		if err := db.EnsureSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec(ctx, c.change); err != nil {
			t.Fatal(err)
		}
		for _, create := range []bool{true, false} {
			db = reopen(t, db, path)
			var err error
			if create {
				err = db.EnsureSchema(ctx)
			} else {
				err = db.CheckSchema(ctx)
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "changed.duckdb") {
				t.Errorf("%s (create %v): %v, want a refusal saying %q", c.change, create, err, c.want)
			}
		}
		db.Close()
	}
}

// The captures row is built from schema.Captures like every other table:
// each column gets its value, under its name.
func TestCaptureRow(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	path := "/data/caf\xe9 \\x.pcap"
	for i, c := range []CaptureRow{
		{ID: 1, Path: path, FileSize: 1234, Format: "pcapng+gzip", LinkTypes: []string{"EN10MB", "RAW"}, Packets: 3, Bytes: 300,
			FirstTs: 1_700_000_000_123_456_789, LastTs: 1_700_000_001_000_000_001, Timed: 2, Version: "1.2.3", Warnings: 2, Complete: true},
		{ID: 2, Path: "-", FileSize: -1, Format: "pcap", LinkTypes: []string{}, Version: "1.2.3"},
		// Packets, none with a time: no first_ts or last_ts.
		{ID: 3, Path: "-", FileSize: -1, Format: "pcap", LinkTypes: []string{}, Packets: 2, Bytes: 120, Version: "1.2.3"},
	} {
		id, err := db.BeginCapture(ctx, c.Path)
		if err != nil || id != c.ID {
			t.Fatalf("BeginCapture: %d %v", id, err)
		}
		if err := db.FinishCapture(ctx, c); err != nil {
			t.Fatal(err)
		}
		got, err := db.Scalar(ctx, `SELECT concat_ws('|', capture_id, path, coalesce(hex(path_bytes), 'NULL'), coalesce(file_size::VARCHAR, 'NULL'), format,
			link_types::VARCHAR, packets, bytes, coalesce(epoch_ns(first_ts)::VARCHAR, 'NULL'), coalesce(epoch_ns(last_ts)::VARCHAR, 'NULL'),
			abs(epoch(ingested_at) - epoch(now())) < 60, pcapq_version, warnings, complete) FROM captures WHERE capture_id = ?`, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{
			`1|/data/caf\xe9 \x.pcap|2F646174612F636166E9205C782E70636170|1234|pcapng+gzip|[EN10MB, RAW]|3|300|1700000000123456789|1700000001000000001|true|1.2.3|2|true`,
			`2|-|NULL|NULL|pcap|[]|0|0|NULL|NULL|true|1.2.3|0|false`,
			`3|-|NULL|NULL|pcap|[]|2|120|NULL|NULL|true|1.2.3|0|false`,
		}[i]
		if got != want {
			t.Errorf("captures row %d:\n got  %v\n want %s", c.ID, got, want)
		}
	}
	rec, err := captureRecord(CaptureRow{Path: "x"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer rec.Release()
	if int(rec.NumCols()) != len(schema.Captures.Columns) || rec.NumRows() != 1 {
		t.Errorf("captures record: %d columns %d rows", rec.NumCols(), rec.NumRows())
	}
}

// Two different file names never replace each other's capture, even when
// their text reads alike (the byte 0xE9 and the four characters \xe9); the
// same name does.
func TestCaptureIdentity(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	for _, c := range []struct {
		path string
		id   int32
	}{
		{"/d/caf\xe9.pcap", 1},
		{`/d/caf\xe9.pcap`, 2},
		{"/d/caf\xe9.pcap", 1},
		{`/d/caf\xe9.pcap`, 2},
		{"-", 3},
		{"-", 4}, // standard input never replaces
	} {
		id, err := db.BeginCapture(ctx, c.path)
		if err != nil {
			t.Fatal(err)
		}
		if id != c.id {
			t.Errorf("BeginCapture(%q) = %d, want %d", c.path, id, c.id)
		}
		if err := db.FinishCapture(ctx, CaptureRow{ID: id, Path: c.path}); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := db.Scalar(ctx, "SELECT count(DISTINCT path) || ' ' || count(*) FROM captures"); n != "2 4" {
		t.Errorf("captures: distinct paths, rows = %v, want 2 4 (two names that read alike, two stdin)", n)
	}
}

// fileNames are names duckdb-go's connection string or DuckDB would read
// as something else than a file name.
var fileNames = []string{
	"x?threads=1", ":memory:", "md:foo", "memory", "pcapq", "p%zz.duckdb", "p%41.duckdb", "#frag",
	"sp ace.duckdb", "qu'ote.duckdb", `dq"uote.duckdb`, "new\nline.duckdb", "lat\xe9.duckdb",
	"-lead.duckdb", `back\slash.duckdb`, "~tilde", "http:x", "file:x.duckdb", "a;DROP TABLE captures;--",
}

// Open takes any name for a file of that name, and the database is there
// (and nothing else) after Close.
func TestOpenAnyFileName(t *testing.T) {
	ctx := context.Background()
	for _, name := range fileNames {
		dir := t.TempDir()
		path := filepath.Join(dir, name)
		db := reopen(t, nil, path)
		if !db.Created() {
			t.Errorf("%q: Created false for a new file", name)
		}
		if err := db.EnsureSchema(ctx); err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		db = reopen(t, db, path)
		if db.Created() {
			t.Errorf("%q: Created true for an existing file", name)
		}
		if v, err := db.Scalar(ctx, "SELECT schema_version FROM pcapq_meta"); err != nil || v != int32(schema.Version) {
			t.Errorf("%q: reopened: %v %v", name, v, err)
		}
		db.Close()
		ents, _ := os.ReadDir(dir)
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		if len(names) != 1 || names[0] != name {
			t.Errorf("%q: directory holds %q, want only the file", name, names)
		}
	}
	if _, err := Open(ctx, filepath.Join(t.TempDir(), "a\x00b")); err == nil || !strings.Contains(err.Error(), "NUL") {
		t.Errorf("a name with NUL: %v", err)
	}
	// A directory that is not UTF-8: DuckDB spills elsewhere, and the file
	// is still written where named.
	dir := filepath.Join(t.TempDir(), "d\xff")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	db := reopen(t, nil, filepath.Join(dir, "x\xfe.duckdb"))
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := os.Stat(filepath.Join(dir, "x\xfe.duckdb")); err != nil {
		t.Error(err)
	}
}

// Discard removes the file Open created, and nothing else.
func TestDiscard(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "new.duckdb")
	db := reopen(t, nil, path)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Discard(); err != nil {
		t.Fatal(err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("Discard of a created file left %v", ents)
	}
	// An existing file stays.
	db = reopen(t, nil, path)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	if err := db.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("Discard removed a file it did not create: %v", err)
	}
	// A file put in the created one's place stays.
	db = reopen(t, nil, filepath.Join(dir, "created.duckdb"))
	if err := os.Rename(path, filepath.Join(dir, "created.duckdb")); err != nil {
		t.Fatal(err)
	}
	if err := db.Discard(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "created.duckdb")); err != nil {
		t.Errorf("Discard removed a file that replaced the one it created: %v", err)
	}
}

// Every older schema version has its migration.
func TestMigrationsComplete(t *testing.T) {
	for v := 1; v < schema.Version; v++ {
		if migrations[v] == nil {
			t.Errorf("no migration from schema %d to %d", v, v+1)
		}
	}
}

// Each DB is a DuckDB instance of its own, and DuckDB's file lock does not
// stop a second instance in the same process: Open refuses a file already
// open here, under any name, until it is closed.
func TestOpenTwiceRefused(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "x.duckdb")
	if err := os.Symlink(dir, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	db := reopen(t, nil, path)
	for _, other := range []string{path, filepath.Join(dir, "link", "x.duckdb"), filepath.Join(dir, ".", "x.duckdb")} {
		if db2, err := Open(ctx, other); err == nil || !strings.Contains(err.Error(), "already open") {
			t.Errorf("second Open(%q): %v", other, err)
			if db2 != nil {
				db2.Close()
			}
		}
	}
	db = reopen(t, db, filepath.Join(dir, "link", "x.duckdb"))
	db.Close()
}

// An analyzer's table is additive: a file written before the table (or
// one of its columns) existed is read as it is, and gets the table or
// column, empty or NULL, when it is next opened for writing, with its rows
// kept and no change of schema version.
func TestAnalyzerTablesAdditive(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.duckdb")
	db := reopen(t, nil, path)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"INSERT INTO tls (capture_id, flow_id, server_name) VALUES (1, 7, 'kept.test')",
		"DROP TABLE dns",
		"ALTER TABLE tls DROP COLUMN ja4",
		"ALTER TABLE tls DROP COLUMN cert_san",
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// Read only: no problem, nothing added.
	db.Close()
	ro, err := OpenReadOnly(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := ro.CheckSchema(ctx); err != nil {
		t.Errorf("CheckSchema of a file without the dns table and two tls columns: %v", err)
	}
	if n, _ := ro.Scalar(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name = 'dns'"); n != int64(0) {
		t.Errorf("a read-only open created the dns table")
	}
	ro.Close()
	// A core table's column is not additive: refused as before.
	db = reopen(t, nil, path)
	if err := db.Exec(ctx, "ALTER TABLE flows DROP COLUMN retransmits"); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	if err := db.EnsureSchema(ctx); err == nil || !strings.Contains(err.Error(), "flows has no column retransmits") {
		t.Errorf("EnsureSchema without flows.retransmits: %v", err)
	}
	if err := db.Exec(ctx, "ALTER TABLE flows ADD COLUMN retransmits BIGINT"); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatalf("EnsureSchema of a file without the dns table and two tls columns: %v", err)
	}
	db = reopen(t, db, path)
	for q, want := range map[string]any{
		"SELECT count(*) FROM dns": int64(0),
		"SELECT count(*) FROM duckdb_columns() WHERE table_name = 'tls' AND column_name = 'ja4' AND data_type = 'VARCHAR'":        int64(1),
		"SELECT count(*) FROM duckdb_columns() WHERE table_name = 'tls' AND column_name = 'cert_san' AND data_type = 'VARCHAR[]'": int64(1),
		"SELECT server_name || ':' || coalesce(ja4, 'null') FROM tls":                                                             "kept.test:null",
		"SELECT schema_version FROM pcapq_meta":                                                                                   int32(schema.Version),
	} {
		got, err := db.Scalar(ctx, q)
		if err != nil || got != want {
			t.Errorf("%s = %v (%v), want %v", q, got, err, want)
		}
	}
	if db.MigratedFrom() != 0 {
		t.Errorf("MigratedFrom = %d, want 0 (no schema change)", db.MigratedFrom())
	}
}

// A DuckDB file of the user's own with a table named like an analyzer's
// (dns) is no pcapq file: CheckSchema leaves it alone.
func TestAnalyzerTableNameNotPcapq(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "mine.duckdb")
	db := reopen(t, nil, path)
	if err := db.Exec(ctx, "CREATE TABLE dns (name VARCHAR)"); err != nil {
		t.Fatal(err)
	}
	db = reopen(t, db, path)
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatalf("CheckSchema of a file with a table dns of its own: %v", err)
	}
	if n, _ := db.Scalar(ctx, "SELECT count(*) FROM duckdb_tables() WHERE table_name IN ('captures', 'pcapq_meta')"); n != int64(0) {
		t.Errorf("CheckSchema wrote pcapq's tables into a file of the user's (%v)", n)
	}
}
