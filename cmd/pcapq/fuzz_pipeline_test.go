package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/pcapq/pcapq/analyzers/all"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/source"
)

// fuzzDB is one in-memory database per fuzz process: opening DuckDB for
// every input would be most of the work.
var fuzzDB = sync.OnceValues(func() (*query.DB, error) {
	ctx := context.Background()
	db, err := query.Open(ctx, "")
	if err != nil {
		return nil, err
	}
	return db, db.EnsureSchema(ctx)
})

// FuzzPipelineDuckDB runs capture bytes through pcapq ingest into DuckDB
// (ingest.FuzzPipeline checks the Arrow batches; this checks what DuckDB
// makes of them). Invariant: the ingest fails only when the bytes do not
// open as a capture, with an error naming the file; otherwise the
// captures row says complete exactly when the reader ends cleanly, its
// packets and warnings are the rows of its tables, the packets are the
// records the reader gives, and every table and view reads whole (every
// column of every row turned to text).
func FuzzPipelineDuckDB(f *testing.F) {
	for _, name := range []string{"http-chunked.pcap", "http-gzip.pcap", "http-pipelined.pcap", "http-websocket-upgrade.pcap"} {
		b, err := os.ReadFile(filepath.Join("../../testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if b, err := os.ReadFile(smallPcap); err == nil {
		f.Add(b[:8<<10])
	}
	f.Add(pcapHeader())
	f.Add([]byte("<html>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		db, err := fuzzDB()
		if err != nil {
			t.Fatal(err)
		}
		// The records, read on their own.
		rd, err := source.NewReader(bytes.NewReader(b), "x")
		var records int64
		var readErr error
		if err == nil {
			var r source.Record
			for readErr = rd.Next(&r); readErr == nil; readErr = rd.Next(&r) {
				records++
			}
		}

		path := filepath.Join(t.TempDir(), "fuzz.cap")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		g := &Globals{Quiet: true, Workers: 1 + len(b)%3, ctx: ctx, stdout: io.Discard, stderr: &bytes.Buffer{}}
		err = ingestOne(g, db, path, (&IngestCmd{}).options(g))
		if err != nil {
			var fe *source.FormatError
			if !errors.As(err, &fe) || fe.File != path {
				t.Fatalf("ingest failed: %v", err)
			}
			if rd != nil {
				t.Fatalf("ingest failed on a capture that opens: %v", err)
			}
			return
		}
		if rd == nil {
			t.Fatal("ingest took bytes that do not open as a capture")
		}
		id, err := db.Scalar(ctx, "SELECT capture_id FROM captures WHERE path = ?", path)
		if err != nil || id == nil {
			t.Fatalf("no captures row: %v", err)
		}
		defer func() {
			for _, tb := range all.Tables {
				if tb.View == "" && tb.PerCapture() {
					if _, err := db.Scalar(ctx, fmt.Sprintf("DELETE FROM %s WHERE capture_id = ?", tb.Name), id); err != nil {
						t.Fatal(err)
					}
				}
			}
		}()
		q := func(sql string) string {
			t.Helper()
			v, err := db.Scalar(ctx, sql, id)
			if err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			return fmt.Sprint(v)
		}
		want := fmt.Sprintf("%v %d", readErr == io.EOF, records)
		got := q("SELECT complete || ' ' || packets FROM captures WHERE capture_id = ?")
		if got != want {
			t.Errorf("captures: complete and packets %q, the reader says %q (%v)", got, want, readErr)
		}
		if got := q("SELECT (SELECT count(*) FROM packets WHERE capture_id = $1) = packets AND (SELECT count(*) FROM warnings WHERE capture_id = $1) = warnings FROM captures WHERE capture_id = $1"); got != "true" {
			t.Errorf("captures.packets and .warnings are not the rows of packets and warnings")
		}
		for _, tb := range all.Tables {
			if tb.View == "" && !tb.PerCapture() {
				continue // pcapq_meta: one row for the file
			}
			q(fmt.Sprintf("SELECT count(*) || ' ' || coalesce(sum(hash(t::VARCHAR)), 0) FROM %s t WHERE capture_id = ?", tb.Name))
		}
	})
}
