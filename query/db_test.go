//go:build duckdb_arrow

package query

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapq/pcapq/schema"
)

// With CheckpointEachCommit a committed capture is in the database file
// itself: no write-ahead log is left for Close to replay.
func TestCheckpointEachCommit(t *testing.T) {
	for _, each := range []bool{false, true} {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "c.duckdb")
		db, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		if each {
			if err := db.CheckpointEachCommit(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.EnsureSchema(ctx); err != nil {
			t.Fatal(err)
		}
		id, err := db.BeginCapture(ctx, "x")
		if err != nil {
			t.Fatal(err)
		}
		rec := packetsBatch(50000, 0)
		err = db.Write(schema.PacketsData, []arrow.RecordBatch{rec})
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.FinishCapture(ctx, CaptureRow{ID: id, Path: "x"}); err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(path + ".wal")
		wal := int64(0)
		if err == nil {
			wal = st.Size()
		}
		if each && wal > 0 {
			t.Errorf("a %d-byte WAL after the commit", wal)
		}
		if !each && wal == 0 {
			t.Errorf("no WAL without CheckpointEachCommit: the test shows nothing")
		}
		db.Close()
	}
}
