//go:build duckdb_arrow

package query

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/schema"
)

func rssBytes(t *testing.T) int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skip("no /proc/self/statm on this platform")
	}
	f := strings.Fields(string(b))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// Many small inserts (a live capture commits every table every second) do
// not grow memory: DuckDB's Arrow scan never releases the schemas it asks
// a stream for, so each insert used to leak the export of the table's
// schema (~35 KB for flows), for the life of the process.
func TestManyInsertsDoNotLeak(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "x.duckdb"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	// DuckDB's own memory bounded, as pcapq sets it.
	if err := db.SetMemoryLimit(ctx, "64MB"); err != nil {
		t.Fatal(err)
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema.Flows.ArrowSchema())
	for i := 0; i < 10; i++ {
		for j, c := range schema.Flows.Columns {
			switch c.Name {
			case "capture_id":
				b.Field(j).(*array.Int32Builder).Append(1)
			case "flow_id":
				b.Field(j).(*array.Int64Builder).Append(int64(i))
			default:
				b.Field(j).AppendNull()
			}
		}
	}
	rec := b.NewRecordBatch()
	b.Release()
	defer rec.Release()
	// Five inserts a transaction, as a live capture's commits.
	insert := func(n int) {
		for i := 0; i < n; i += 5 {
			if err := db.Exec(ctx, "BEGIN TRANSACTION"); err != nil {
				t.Fatal(err)
			}
			for j := 0; j < 5; j++ {
				if err := db.Write(schema.Flows, []arrow.RecordBatch{rec}); err != nil {
					t.Fatal(err)
				}
			}
			if err := db.Exec(ctx, "COMMIT"); err != nil {
				t.Fatal(err)
			}
		}
	}
	insert(1000) // DuckDB's buffers fill up to their working size
	before := rssBytes(t)
	const n = 1000
	insert(n)
	grew := rssBytes(t) - before
	t.Logf("%d inserts of 10 flows rows: RSS grew %.1f MB", n, float64(grew)/1e6)
	if grew > 20e6 {
		t.Errorf("%d inserts grew RSS by %.0f MB (the leak was ~35 KB an insert: 35 MB)", n, float64(grew)/1e6)
	}
	v, err := db.Scalar(ctx, "SELECT count(*) FROM flows")
	if err != nil || v != int64(10*(1000+n)) {
		t.Errorf("flows rows: %v %v, want %d", v, err, 10*(1000+n))
	}
}
