//go:build duckdb_arrow

package query

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/schema"
)

// CheckReadOnly lets through one statement that only reads, and nothing
// that writes, sets, attaches, copies or runs more than one statement.
func TestCheckReadOnly(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	for _, q := range []string{
		"SELECT 1",
		"SELECT count(*) FROM packets",
		"FROM captures",
		"WITH x AS (SELECT 1 AS a) SELECT a FROM x",
		"DESCRIBE packets",
		"SHOW TABLES",
		"SUMMARIZE flows",
		"SELECT 1;",
	} {
		if err := db.CheckReadOnly(ctx, q); err != nil {
			t.Errorf("%q refused: %v", q, err)
		}
	}
	for _, q := range []string{
		"DELETE FROM packets_data",
		"INSERT INTO warnings (capture_id, kind) VALUES (1, 'x')",
		"UPDATE captures SET packets = 0",
		"DROP TABLE flows",
		"CREATE TABLE x (a INT)",
		"SELECT 1; DELETE FROM packets_data",
		"COPY captures TO '/tmp/pcapq-should-not-exist.csv'",
		"ATTACH ':memory:' AS other",
		"SET threads = 1",
		"PRAGMA threads = 1",
		"CHECKPOINT",
		"EXPLAIN ANALYZE DELETE FROM flows",
		"BEGIN TRANSACTION",
		"INSTALL httpfs",
		"CALL pragma_version()",
	} {
		err := db.CheckReadOnly(ctx, q)
		if !errors.Is(err, ErrNotReadOnly) {
			t.Errorf("%q: %v, want ErrNotReadOnly", q, err)
		}
	}
	if err := db.CheckReadOnly(ctx, "SELEC 1"); err == nil || errors.Is(err, ErrNotReadOnly) {
		t.Errorf("a syntax error gives %v, want DuckDB's error", err)
	}
}

// A reader connection sees what a live capture committed, and only that;
// CommitLive replaces flows_open and rewrites the captures row; the final
// commit empties flows_open.
func TestLiveCommitsAndReader(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "live.duckdb")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	rd, err := db.NewReader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	scalar := func(q string) int64 {
		t.Helper()
		v, err := rd.Scalar(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		switch v := v.(type) {
		case int64:
			return v
		case nil:
			return -1
		}
		t.Fatalf("%s: %T", q, v)
		return 0
	}
	row := CaptureRow{Path: "live:test0", FileSize: -1, Format: "live", LinkTypes: []string{"EN10MB"}, Filter: "tcp"}
	id, err := db.BeginLive(ctx, row)
	if err != nil {
		t.Fatal(err)
	}
	if n := scalar("SELECT count(*) FROM captures WHERE NOT complete AND bpf_filter = 'tcp' AND ps_received IS NULL"); n != 1 {
		t.Fatalf("captures row of a live capture seen %d times at its start", n)
	}
	flows := func(n int) []arrow.RecordBatch {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema.FlowsOpen.ArrowSchema())
		defer b.Release()
		for i := 0; i < n; i++ {
			for j, c := range schema.FlowsOpen.Columns {
				switch c.Name {
				case "capture_id":
					b.Field(j).(*array.Int32Builder).Append(id)
				case "flow_id":
					b.Field(j).(*array.Int64Builder).Append(int64(i + 1))
				default:
					b.Field(j).AppendNull()
				}
			}
		}
		return []arrow.RecordBatch{b.NewRecordBatch()}
	}
	// Uncommitted rows are not seen.
	w := flows(1)
	if err := db.Write(schema.Flows, w); err != nil {
		t.Fatal(err)
	}
	w[0].Release()
	if n := scalar("SELECT count(*) FROM flows"); n != 0 {
		t.Errorf("reader sees %d uncommitted flows", n)
	}
	row.ID, row.Packets, row.Stats = id, 10, &CaptureStats{Received: 12, Dropped: 2}
	open := flows(3)
	if err := db.CommitLive(ctx, row, open, []Warning{{"capture_dropped", "2 packets"}}, false); err != nil {
		t.Fatal(err)
	}
	open[0].Release()
	for q, want := range map[string]int64{
		"SELECT count(*) FROM flows":       1,
		"SELECT count(*) FROM flows_open":  3,
		"SELECT packets FROM captures":     10,
		"SELECT ps_dropped FROM captures":  2,
		"SELECT ps_received FROM captures": 12,
		"SELECT count(*) FROM captures":    1,
		"SELECT count(*) FROM warnings WHERE kind = 'capture_dropped' AND frame IS NULL": 1,
	} {
		if n := scalar(q); n != want {
			t.Errorf("after a commit: %s = %d, want %d", q, n, want)
		}
	}
	open = flows(2)
	row.Packets = 20
	if err := db.CommitLive(ctx, row, open, nil, false); err != nil {
		t.Fatal(err)
	}
	open[0].Release()
	if n := scalar("SELECT count(*) FROM flows_open"); n != 2 {
		t.Errorf("flows_open after the second commit has %d rows, want the 2 of the snapshot", n)
	}
	row.Complete = true
	if err := db.CommitLive(ctx, row, nil, nil, true); err != nil {
		t.Fatal(err)
	}
	if n := scalar("SELECT count(*) FROM flows_open"); n != 0 {
		t.Errorf("flows_open after the end has %d rows", n)
	}
	if n := scalar("SELECT count(*) FROM captures WHERE complete AND packets = 20"); n != 1 {
		t.Errorf("final captures row: %d", n)
	}
	if err := db.CommitLive(ctx, row, nil, nil, false); err == nil {
		t.Error("CommitLive after the end succeeded")
	}
}
