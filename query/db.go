package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/pcapq/pcapq/schema"
)

// DB is an open pcapq database: a DuckDB file (or memory) with pcapq's
// tables. One connection is pinned so that a capture's rows are written in
// one transaction.
//
// Every call into DuckDB made through DB's methods (except the rows of
// Query, read by the caller) runs on one OS thread. DuckDB allocates from
// jemalloc, which keeps freed memory per thread (its caches) and per arena
// (threads are spread over arenas), for reuse. Go makes a cgo call on
// whatever OS thread the goroutine is on, so over a long ingest DuckDB's
// allocations wandered over many threads, each keeping its own freed
// memory: peak RSS grew with capture size although DuckDB's live memory
// stayed under its limit (packets-only at 1x/2.5x/5x the benchmark
// capture with a 128MB limit: 220-253/271-320/312-341 MB before,
// 220/254/287 MB on one thread; benchmarks/RESULTS.md).
type DB struct {
	path   string
	sql    *sql.DB
	conn   *sql.Conn
	arrow  *duckdb.Arrow
	inTx   bool
	calls  chan func() // run on the DuckDB thread, see do
	closed bool
	reader bool // a connection of another DB's database (NewReader): Close leaves the database open
	// schemas are the tables' Arrow schemas exported for inserts (see
	// registerArrow).
	schemas scanSchemas
}

// Open opens (creating if needed) the database at path; "" is in memory.
func Open(ctx context.Context, path string) (*DB, error) {
	useHugePages()
	db := &DB{path: path, calls: make(chan func())}
	go db.thread()
	err := db.do(func() error {
		connector, err := duckdb.NewConnector(dsn(path), nil)
		if err != nil {
			return err
		}
		db.sql = sql.OpenDB(connector)
		if db.conn, err = db.sql.Conn(ctx); err != nil {
			return err
		}
		return db.conn.Raw(func(dc any) error {
			a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
			db.arrow = a
			return err
		})
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening database %s: %w", displayPath(path), err)
	}
	return db, nil
}

// storageVersion is the oldest DuckDB release that can read a database
// file pcapq creates. DuckDB's own default (v0.10.2) keeps files readable
// by old releases but leaves out the newer string compression: with
// v1.3.0 a full ingest of bench.pcap is 7% faster (1.05 -> 0.98 s,
// interleaved medians of 9) and the file 8% smaller. DuckDB 1.3 came out
// in May 2025; an existing file keeps the version it was created with.
const storageVersion = "v1.3.0"

// dsn is the duckdb-go data source for a database file. duckdb-go reads
// options after a '?' and parses the whole as a URL, so a path holding
// '?' or '%' (which it cannot open anyway) or '#' (which would put the
// option in a URL fragment, unread) gets no option.
func dsn(path string) string {
	if path == "" || strings.ContainsAny(path, "?#%") {
		return path
	}
	return path + "?storage_compatibility_version=" + storageVersion
}

// thread runs the calls sent by do on one locked OS thread until Close.
// It does not unlock: the thread ends with the goroutine, and with it the
// allocator's per-thread caches.
func (db *DB) thread() {
	runtime.LockOSThread()
	for f := range db.calls {
		f()
	}
}

// do runs f on the DuckDB thread and returns its error. f must not call do.
func (db *DB) do(f func() error) error {
	if db.closed {
		return errors.New("pcapq database " + db.Path() + " is closed")
	}
	errc := make(chan error, 1)
	db.calls <- func() { errc <- f() }
	return <-errc
}

func displayPath(p string) string {
	if p == "" {
		return "(in memory)"
	}
	return p
}

// SetMemoryLimit bounds DuckDB's memory (e.g. "256MB"); past it DuckDB
// spills to its temporary directory (beside the database file, or the
// system temporary directory for an in-memory database).
func (db *DB) SetMemoryLimit(ctx context.Context, limit string) error {
	if limit == "" {
		return nil
	}
	if db.path == "" {
		dir := filepath.Join(os.TempDir(), fmt.Sprintf("pcapq-duckdb-%d", os.Getpid()))
		if err := db.Exec(ctx, "SET temp_directory = '"+strings.ReplaceAll(dir, "'", "''")+"'"); err != nil {
			return err
		}
	}
	if err := db.Exec(ctx, "SET memory_limit = '"+strings.ReplaceAll(limit, "'", "''")+"'"); err != nil {
		return fmt.Errorf("DuckDB memory limit %q: %w", limit, err)
	}
	return nil
}

// SetThreads sets DuckDB's worker threads; 0 keeps DuckDB's default.
func (db *DB) SetThreads(ctx context.Context, n int) error {
	if n <= 0 {
		return nil
	}
	return db.Exec(ctx, fmt.Sprintf("SET threads = %d", n))
}

// Close closes the database, rolling back an open capture.
func (db *DB) Close() error {
	if db.closed {
		return nil
	}
	if db.inTx {
		db.Rollback()
	}
	var errs []error
	db.do(func() error {
		if db.conn != nil {
			errs = append(errs, db.conn.Close())
		}
		if db.sql != nil && !db.reader {
			errs = append(errs, db.sql.Close())
		}
		db.schemas.free()
		return nil
	})
	close(db.calls)
	db.closed = true
	return errors.Join(errs...)
}

// Exec runs a statement on the pinned connection.
func (db *DB) Exec(ctx context.Context, q string, args ...any) error {
	return db.do(func() error { return db.exec(ctx, q, args...) })
}

// exec is Exec on the DuckDB thread.
func (db *DB) exec(ctx context.Context, q string, args ...any) error {
	_, err := db.conn.ExecContext(ctx, q, args...)
	return err
}

// Query runs a query on the pinned connection. The rows are read on the
// caller's thread.
func (db *DB) Query(ctx context.Context, q string, args ...any) (rows *sql.Rows, err error) {
	err = db.do(func() error {
		rows, err = db.conn.QueryContext(ctx, q, args...)
		return err
	})
	return rows, err
}

// EnsureSchema creates every missing table and the views.
func (db *DB) EnsureSchema(ctx context.Context) error {
	return db.do(func() error { return db.ensureSchema(ctx) })
}

func (db *DB) ensureSchema(ctx context.Context) error {
	// A database from before packets (or http) became a view has a
	// table of that name.
	var views []any
	marks := ""
	for _, t := range schema.All {
		if t.View != "" {
			views = append(views, t.Name)
			marks += ",?"
		}
	}
	var old string
	err := db.conn.QueryRowContext(ctx, "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main' AND table_type = 'BASE TABLE' AND table_name IN ("+marks[1:]+") LIMIT 1", views...).Scan(&old)
	switch {
	case err == nil:
		return fmt.Errorf("%s was written by an older pcapq (%s is a table there, a view now): ingest into a new database file", db.Path(), old)
	case !errors.Is(err, sql.ErrNoRows):
		return err
	}
	// One transaction: one WAL sync instead of one per statement.
	if err := db.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	for _, views := range []bool{false, true} {
		for _, t := range schema.All {
			if (t.View != "") != views {
				continue
			}
			if err := db.exec(ctx, t.CreateSQL()); err != nil {
				db.exec(ctx, "ROLLBACK")
				return fmt.Errorf("creating %s: %w", t.Name, err)
			}
		}
	}
	return db.exec(ctx, "COMMIT")
}

// BeginCapture starts the transaction holding one capture's rows and
// returns its capture_id. A capture already ingested from the same path
// (not stdin) is deleted in the same transaction and its id reused, so a
// re-ingest replaces rows and a failed one leaves the old rows in place.
func (db *DB) BeginCapture(ctx context.Context, path string) (id int32, err error) {
	err = db.do(func() error {
		id, err = db.beginCapture(ctx, path)
		return err
	})
	return id, err
}

func (db *DB) beginCapture(ctx context.Context, path string) (int32, error) {
	if err := db.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, err
	}
	db.inTx = true
	var id int32
	found := false
	if path != "-" {
		row := db.conn.QueryRowContext(ctx, "SELECT capture_id FROM captures WHERE path = ? ORDER BY capture_id LIMIT 1", schema.ValidText(path))
		switch err := row.Scan(&id); {
		case err == nil:
			found = true
		case errors.Is(err, sql.ErrNoRows):
		default:
			db.rollback()
			return 0, err
		}
	}
	if found {
		for _, t := range schema.All {
			if t.View != "" {
				continue
			}
			if err := db.exec(ctx, fmt.Sprintf("DELETE FROM %s WHERE capture_id = ?", t.Name), id); err != nil {
				db.rollback()
				return 0, err
			}
		}
		return id, nil
	}
	row := db.conn.QueryRowContext(ctx, "SELECT coalesce(max(capture_id), 0) + 1 FROM captures")
	if err := row.Scan(&id); err != nil {
		db.rollback()
		return 0, err
	}
	return id, nil
}

// arrowView is the name the Arrow stream being inserted is registered
// under, for one INSERT at a time.
const arrowView = "pcapq_arrow_in"

// Write inserts Arrow record batches into t (ingest.Sink).
//
// duckdb-go registers the stream as a catalog view that outlives the
// stream (and, in a database file, is persisted with it): the view is
// dropped in the same transaction, right after the insert and before the
// stream is released, so no client ever sees a view of freed memory.
func (db *DB) Write(t *schema.Table, recs []arrow.RecordBatch) error {
	if len(recs) == 0 {
		return nil
	}
	return db.do(func() error { return db.write(t, recs) })
}

func (db *DB) write(t *schema.Table, recs []arrow.RecordBatch) error {
	rdr, err := array.NewRecordReader(recs[0].Schema(), recs)
	if err != nil {
		return err
	}
	defer rdr.Release()
	release, err := db.registerArrow(rdr, t.Name)
	if err != nil {
		return err
	}
	defer release()
	ctx := context.Background()
	err = db.exec(ctx, fmt.Sprintf("INSERT INTO %s SELECT * FROM %s", t.Name, arrowView))
	if dropErr := db.exec(ctx, "DROP VIEW IF EXISTS "+arrowView); err == nil {
		err = dropErr
	}
	return err
}

// CaptureRow is the captures table row written at the end of a capture.
type CaptureRow struct {
	ID        int32
	Path      string
	FileSize  int64 // -1 unknown
	Format    string
	LinkTypes []string
	Packets   int64
	Bytes     int64
	FirstTs   int64
	LastTs    int64
	Version   string
	Warnings  int64
	Complete  bool
	Filter    string        // BPF expression, "" for none
	Stats     *CaptureStats // libpcap's counters of a live capture, nil for files
}

// FinishCapture writes the captures row and commits.
func (db *DB) FinishCapture(ctx context.Context, c CaptureRow) error {
	return db.do(func() error { return db.finishCapture(ctx, c) })
}

func (db *DB) finishCapture(ctx context.Context, c CaptureRow) error {
	if err := db.insertCapture(ctx, c); err != nil {
		db.rollback()
		return fmt.Errorf("writing captures row: %w", err)
	}
	if err := db.exec(ctx, "COMMIT"); err != nil {
		db.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	db.inTx = false
	return nil
}

// Rollback abandons the open capture: the database keeps what was
// committed before it.
func (db *DB) Rollback() error {
	return db.do(db.rollback)
}

func (db *DB) rollback() error {
	db.inTx = false
	return db.exec(context.Background(), "ROLLBACK")
}

// Path is the database file ("(in memory)" for an in-memory database).
func (db *DB) Path() string { return displayPath(db.path) }
