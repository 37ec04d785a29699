package query

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/pcapq/pcapq/analyzers/all"
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
	path     string      // as given to Open; "" in memory
	abs      string      // absolute path of the file; "" in memory
	key      string      // in openFiles
	created  fs.FileInfo // the file, when Open created it (see Discard)
	sql      *sql.DB
	conn     *sql.Conn
	arrow    *duckdb.Arrow
	inTx     bool
	readOnly bool        // attached READ_ONLY (OpenReadOnly)
	calls    chan func() // run on the DuckDB thread, see do
	closed   bool

	version  string                   // pcapq release, for pcapq_meta (SetVersion)
	migrated int                      // schema version the file was migrated from, 0 if none
	inserts  map[*schema.Table]string // INSERT statement per table, see write
	reader   bool                     // a connection of another DB's database (NewReader): Close leaves the database open
	// schemas are the tables' Arrow schemas exported for inserts (see
	// registerArrow).
	schemas scanSchemas
}

// catalog is the name the database file is attached under, and made the
// default catalog with USE: queries name tables without it.
const catalog = "pcapq"

// openFiles holds the database files open in this process. Each DB is its
// own DuckDB instance, and DuckDB's file lock is per process: a second
// instance writing the same file would not be stopped by it, so Open
// refuses it.
var openFiles = struct {
	sync.Mutex
	m map[string]bool
}{m: map[string]bool{}}

// fileKey is the name openFiles knows a file by: its absolute path with
// symbolic links resolved (those of the directory when the file does not
// exist yet).
func fileKey(abs string) string {
	if p, err := filepath.EvalSymlinks(abs); err == nil {
		return p
	}
	dir, base := filepath.Split(abs)
	if d, err := filepath.EvalSymlinks(dir); err == nil {
		return filepath.Join(d, base)
	}
	return abs
}

// Open opens the database file at path, creating it if it is missing; ""
// is a database in memory.
//
// Any file name works, taken as a file name and nothing else: the file is
// attached to an in-memory DuckDB by its absolute path, written as an SQL
// string literal (ATTACH '/dir/name' AS pcapq). duckdb-go's connection
// string would read the name as a URL with options: it cut the name at a
// '?' and took the rest as settings ("x?threads=1" wrote to x), refused
// '%' not followed by two hex digits and control characters (a newline),
// and DuckDB took "" and ":memory:" for a database in memory and "md:foo"
// for an extension to load. In a literal, after the quote is doubled,
// every byte but NUL stands for itself, UTF-8 or not; an absolute path
// starts with '/', so no prefix is read as an extension name.
func Open(ctx context.Context, path string) (*DB, error) {
	return open(ctx, path, false)
}

// OpenReadOnly opens an existing database file so that nothing done
// through the DB can change it: the file is attached READ_ONLY (another
// process may read it at the same time; none may write it). Like Open, it
// takes any file name.
func OpenReadOnly(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("opening a database read-only: no file name")
	}
	return open(ctx, path, true)
}

func open(ctx context.Context, path string, readOnly bool) (*DB, error) {
	db := &DB{path: path, readOnly: readOnly, calls: make(chan func()), inserts: map[*schema.Table]string{}}
	if path != "" {
		if strings.IndexByte(path, 0) >= 0 {
			return nil, fmt.Errorf("opening database %s: a file name cannot hold a NUL byte", db.Path())
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return nil, fmt.Errorf("opening database %s: %w", db.Path(), err)
		}
		db.abs = abs
		db.key = fileKey(abs)
		openFiles.Lock()
		busy := openFiles.m[db.key]
		openFiles.m[db.key] = true
		openFiles.Unlock()
		if busy {
			return nil, fmt.Errorf("opening database %s: it is already open in this process", db.Path())
		}
	}
	go db.thread()
	err := db.do(func() error {
		connector, err := duckdb.NewConnector("", nil)
		if err != nil {
			return err
		}
		db.sql = sql.OpenDB(connector)
		if db.conn, err = db.sql.Conn(ctx); err != nil {
			return err
		}
		err = db.conn.Raw(func(dc any) error {
			a, err := duckdb.NewArrowFromConn(dc.(driver.Conn))
			db.arrow = a
			return err
		})
		if err != nil || db.abs == "" {
			return err
		}
		return db.attach(ctx)
	})
	if err != nil {
		db.Discard()
		return nil, fmt.Errorf("opening database %s: %w", db.Path(), err)
	}
	return db, nil
}

// storageVersion is the oldest DuckDB release that can read a database
// file pcapq creates. DuckDB's own default (v0.10.2) keeps files readable
// by old releases but leaves out the newer string compression: with
// v1.3.0 a full ingest of bench.pcap is 7% faster (1.05 -> 0.98 s,
// interleaved medians of 9) and the file 8% smaller. DuckDB 1.3 came out
// in May 2025. An existing file keeps the version it was created with:
// the option is given only when Open creates the file.
const storageVersion = "v1.3.0"

// attach attaches the database file and makes it the default catalog.
//
// It notes whether it created the file (Created): the file was missing
// before, holds no table after, and is then recorded by identity, so that
// Discard never removes a file another process made in between.
func (db *DB) attach(ctx context.Context) error {
	_, err := os.Lstat(db.abs)
	missing := errors.Is(err, fs.ErrNotExist)
	opt := ""
	switch {
	case db.readOnly:
		opt, missing = " (READ_ONLY)", false
	case missing:
		opt = " (STORAGE_VERSION '" + storageVersion + "')"
	}
	if err := db.exec(ctx, "ATTACH "+sqlString(db.abs)+" AS "+catalog+opt); err != nil {
		return err
	}
	if missing {
		var tables int
		err := db.conn.QueryRowContext(ctx, "SELECT count(*) FROM duckdb_tables() WHERE database_name = '"+catalog+"'").Scan(&tables)
		if err != nil {
			return err
		}
		if st, err := os.Lstat(db.abs); err == nil && tables == 0 {
			db.created = st
		}
	}
	if err := db.exec(ctx, "USE "+catalog); err != nil {
		return err
	}
	return db.exec(ctx, "SET temp_directory = "+sqlString(tempDir(db.abs)))
}

// tempDir is where DuckDB spills for the database file abs: beside it,
// as DuckDB does for a file it opens itself (the in-memory main database
// would spill to ./.tmp). A setting must be UTF-8, unlike the ATTACH
// path: a file name that is not is written as ValidText writes it, and a
// directory that is not is replaced by the system's temporary directory.
func tempDir(abs string) string {
	dir, base := filepath.Split(abs)
	if !utf8.ValidString(dir) {
		dir = os.TempDir()
		base = fmt.Sprintf("pcapq-duckdb-%d-%s", os.Getpid(), base)
	}
	return filepath.Join(dir, schema.ValidText(base)+".tmp")
}

// sqlString is s as an SQL string literal.
func sqlString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
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

// SetVersion names the pcapq release writing to the database, recorded
// in pcapq_meta when EnsureSchema creates or migrates the file.
func (db *DB) SetVersion(v string) { db.version = v }

// Created reports whether Open created the database file.
func (db *DB) Created() bool { return db.created != nil }

// Discard closes the database and, when Open created its file, removes
// the file and DuckDB's write-ahead log beside it, so that a first ingest
// that failed leaves nothing behind. A file that existed before Open, or
// is no longer the file Open created, is only closed.
func (db *DB) Discard() error {
	err := db.Close()
	if db.created == nil {
		return err
	}
	if st, e := os.Lstat(db.abs); e != nil || !os.SameFile(st, db.created) {
		return err
	}
	for _, p := range []string{db.abs, db.abs + ".wal"} {
		if e := os.Remove(p); e != nil && !errors.Is(e, fs.ErrNotExist) && err == nil {
			err = e
		}
	}
	return err
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
		if err := db.Exec(ctx, "SET temp_directory = "+sqlString(dir)); err != nil {
			return err
		}
	}
	if err := db.Exec(ctx, "SET memory_limit = "+sqlString(limit)); err != nil {
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
	if db.key != "" {
		openFiles.Lock()
		delete(openFiles.m, db.key)
		openFiles.Unlock()
	}
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

// EnsureSchema readies the database for ingest: it creates pcapq's
// tables and views in a database without them, migrates a file written
// by an older pcapq schema to schema.Version, and refuses a file of a
// newer schema, or one whose tables lack a column pcapq writes or have it
// in another type (the message names what to do). Extra columns and
// tables are left alone; columns are written by name, so their order does
// not matter. It runs in one transaction: on error the file is unchanged.
func (db *DB) EnsureSchema(ctx context.Context) error {
	return db.do(func() error { return db.ensureSchema(ctx, true) })
}

// CheckSchema readies a database for queries: a file of an older pcapq
// schema is migrated and one of a newer schema refused, as EnsureSchema
// does, but nothing is created in a database without pcapq's tables (any
// DuckDB file can be queried).
func (db *DB) CheckSchema(ctx context.Context) error {
	return db.do(func() error { return db.ensureSchema(ctx, false) })
}

// MigratedFrom is the schema version EnsureSchema or CheckSchema migrated
// the file from, or 0.
func (db *DB) MigratedFrom() int { return db.migrated }

// migrations[v] turns a file of schema version v into version v+1. It
// runs inside ensureSchema's transaction; ensureSchema then checks every
// table against package schema, so a migration that leaves a difference
// rolls back.
var migrations = map[int]func(db *DB, ctx context.Context) error{
	1: (*DB).migrate1to2,
	2: (*DB).migrate2to3,
}

// migrate2to3: schema 3 added the protocol analyzers' tables (dns, tls,
// websocket). Analyzers' tables are additive (schema.Table.Analyzer):
// upgrade creates them in any file that lacks them, so the step itself
// has nothing to do.
func (db *DB) migrate2to3(context.Context) error { return nil }

// migrate1to2 adds pcapq_meta (ensureSchema fills it),
// captures.path_bytes, the live-capture columns (captures.bpf_filter and
// ps_*, flows.open) and the flows_open table. Schema 1 kept only the path as text, in which a byte that
// is not UTF-8 reads \xNN: a path without a backslash is its own bytes, so
// a re-ingest still replaces it; one with a backslash may have been either
// the byte or the four characters, and keeps path_bytes NULL (matched by
// path, as schema 1 matched it).
func (db *DB) migrate1to2(ctx context.Context) error {
	if err := db.exec(ctx, "CREATE TABLE pcapq_meta (schema_version INTEGER, pcapq_version VARCHAR)"); err != nil {
		return err
	}
	for _, q := range []string{
		"ALTER TABLE captures ADD COLUMN path_bytes BLOB",
		// Live capture: the BPF filter and libpcap's counters (NULL for
		// the files schema 1 held), flows still open when a capture ended
		// (none in a file ingest), and the flows of a capture running.
		"ALTER TABLE captures ADD COLUMN bpf_filter VARCHAR",
		"ALTER TABLE captures ADD COLUMN ps_received BIGINT",
		"ALTER TABLE captures ADD COLUMN ps_dropped BIGINT",
		"ALTER TABLE captures ADD COLUMN ps_ifdropped BIGINT",
		"ALTER TABLE flows ADD COLUMN open BOOLEAN DEFAULT false",
		schema.FlowsOpen.CreateSQL(),
	} {
		if err := db.exec(ctx, q); err != nil {
			return err
		}
	}
	return db.exec(ctx, `UPDATE captures SET path_bytes = encode(path) WHERE path <> '-' AND strpos(path, '\') = 0`)
}

// ensureSchema is EnsureSchema (create) or CheckSchema on the DuckDB
// thread.
func (db *DB) ensureSchema(ctx context.Context, create bool) error {
	kinds, err := db.tableKinds(ctx)
	if err != nil {
		return err
	}
	// A file is pcapq's when it has one of package schema's own tables
	// (an analyzer's table name, such as dns, may well be a user's).
	known := false
	for _, t := range schema.Core {
		if _, ok := kinds[t.Name]; ok {
			known = true
		}
	}
	if !known && !create {
		return nil
	}
	version := schema.Version
	if known {
		// A table where a view belongs: a file from before packets (or
		// http) became a view, older than schema 1.
		for _, t := range all.Tables {
			if t.View != "" && kinds[t.Name] == "BASE TABLE" {
				return fmt.Errorf("%s was written by an older pcapq (%s is a table there, a view now): ingest into a new database file", db.Path(), t.Name)
			}
		}
		if version, err = db.fileVersion(ctx, kinds); err != nil {
			return err
		}
	}
	if version > schema.Version {
		by, _ := db.fileWriter(ctx)
		return fmt.Errorf("%s holds pcapq schema %d (written by pcapq %s); this pcapq knows schema %d and older: open it with that pcapq release or a later one, or ingest into a new database file", db.Path(), version, by, schema.Version)
	}
	if version < 1 {
		return fmt.Errorf("%s holds pcapq schema %d, which no pcapq release wrote: ingest into a new database file", db.Path(), version)
	}
	if known && version == schema.Version && !create {
		return db.verify(ctx, version, true)
	}
	// One transaction: the file changes wholly or not at all, with one
	// WAL sync instead of one per statement.
	if err := db.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		return err
	}
	if err := db.upgrade(ctx, known, version); err != nil {
		db.exec(ctx, "ROLLBACK")
		return err
	}
	if err := db.exec(ctx, "COMMIT"); err != nil {
		return err
	}
	if known && version < schema.Version {
		db.migrated = version
	}
	return nil
}

// upgrade creates pcapq's tables in a database without them (known
// false), or migrates a file of schema version to schema.Version; then it
// checks the tables, replaces the views and records the version. A file
// with pcapq's tables gets no table created: one missing is refused by
// verify, not made again empty beside captures rows that count its rows.
func (db *DB) upgrade(ctx context.Context, known bool, version int) error {
	for v := version; known && v < schema.Version; v++ {
		m := migrations[v]
		if m == nil {
			return fmt.Errorf("%s holds pcapq schema %d, which this pcapq cannot migrate: ingest into a new database file", db.Path(), v)
		}
		if err := m(db, ctx); err != nil {
			return fmt.Errorf("%s: migrating from pcapq schema %d to %d: %w. The file is unchanged; ingest into a new database file", db.Path(), v, v+1, err)
		}
	}
	if known {
		if err := db.addAnalyzerTables(ctx); err != nil {
			return err
		}
	}
	for _, views := range []bool{false, true} {
		if views {
			if err := db.verify(ctx, version, false); err != nil {
				return err
			}
		}
		for _, t := range all.Tables {
			if (t.View != "") != views || !views && known {
				continue
			}
			if err := db.exec(ctx, t.CreateSQL()); err != nil {
				return fmt.Errorf("creating %s: %w", t.Name, err)
			}
		}
	}
	if known && version == schema.Version {
		return nil
	}
	if err := db.exec(ctx, "DELETE FROM "+schema.Meta.Name); err != nil {
		return err
	}
	return db.exec(ctx, "INSERT INTO "+schema.Meta.Name+" (schema_version, pcapq_version) VALUES (?, ?)", schema.Version, db.version)
}

// addAnalyzerTables creates each analyzer's table a file lacks and adds
// each column one lacks (NULL in the rows already there): a protocol
// analyzer added after the file was written, or a column added to its
// table, needs no schema version and no migration of its own.
func (db *DB) addAnalyzerTables(ctx context.Context) error {
	have, err := db.columns(ctx)
	if err != nil {
		return err
	}
	for _, t := range all.Tables {
		if t.Analyzer == "" || t.View != "" {
			continue
		}
		cols, ok := have[t.Name]
		if !ok {
			if err := db.exec(ctx, t.CreateSQL()); err != nil {
				return fmt.Errorf("creating %s: %w", t.Name, err)
			}
			continue
		}
		for _, c := range t.Columns {
			if _, ok := cols[c.Name]; ok {
				continue
			}
			if err := db.exec(ctx, fmt.Sprintf("ALTER TABLE %s ADD COLUMN %s %s", t.Name, c.Name, schema.SQLType(c.Type))); err != nil {
				return fmt.Errorf("adding %s.%s: %w", t.Name, c.Name, err)
			}
		}
	}
	return nil
}

// columns returns the columns of the main schema's tables and views:
// table -> column -> DuckDB type.
func (db *DB) columns(ctx context.Context) (map[string]map[string]string, error) {
	rows, err := db.conn.QueryContext(ctx, "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = 'main'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]map[string]string{}
	for rows.Next() {
		var t, c, ty string
		if err := rows.Scan(&t, &c, &ty); err != nil {
			return nil, err
		}
		if have[t] == nil {
			have[t] = map[string]string{}
		}
		have[t][c] = ty
	}
	return have, rows.Err()
}

// tableKinds returns the tables and views of the default catalog's main
// schema: name -> "BASE TABLE" or "VIEW".
func (db *DB) tableKinds(ctx context.Context) (map[string]string, error) {
	rows, err := db.conn.QueryContext(ctx, "SELECT table_name, table_type FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	kinds := map[string]string{}
	for rows.Next() {
		var name, kind string
		if err := rows.Scan(&name, &kind); err != nil {
			return nil, err
		}
		kinds[name] = kind
	}
	return kinds, rows.Err()
}

// fileVersion is the schema version of a file holding pcapq's tables: 1
// without pcapq_meta (pcapq before it existed), else pcapq_meta's.
func (db *DB) fileVersion(ctx context.Context, kinds map[string]string) (int, error) {
	if _, ok := kinds[schema.Meta.Name]; !ok {
		return 1, nil
	}
	rows, err := db.conn.QueryContext(ctx, "SELECT schema_version FROM "+schema.Meta.Name)
	if err != nil {
		return 0, fmt.Errorf("%s: reading its pcapq schema version: %w", db.Path(), err)
	}
	defer rows.Close()
	var vs []sql.NullInt64
	for rows.Next() {
		var v sql.NullInt64
		if err := rows.Scan(&v); err != nil {
			return 0, fmt.Errorf("%s: reading its pcapq schema version: %w", db.Path(), err)
		}
		vs = append(vs, v)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(vs) != 1 || !vs[0].Valid {
		return 0, fmt.Errorf("%s: %s should hold one row with the schema version, holds %d rows: the file was changed by something other than pcapq; ingest into a new database file", db.Path(), schema.Meta.Name, len(vs))
	}
	return int(vs[0].Int64), nil
}

// fileWriter is the pcapq release pcapq_meta names, for messages.
func (db *DB) fileWriter(ctx context.Context) (string, error) {
	var v sql.NullString
	err := db.conn.QueryRowContext(ctx, "SELECT pcapq_version FROM "+schema.Meta.Name+" LIMIT 1").Scan(&v)
	if err != nil || !v.Valid || v.String == "" {
		return "of unknown release", err
	}
	return Escape(v.String), nil
}

// verify checks that every pcapq table of the file has each column of
// package schema, by name, with its type. version is the file's version
// before any migration, for the message. With lenient (a file only read),
// an analyzer's table or column the file lacks is no problem: it was
// written before the analyzer or the column existed (a writer adds them,
// see addAnalyzerTables); queries naming them fail in DuckDB.
func (db *DB) verify(ctx context.Context, version int, lenient bool) error {
	have, err := db.columns(ctx)
	if err != nil {
		return err
	}
	var problems []string
	for _, t := range all.Tables {
		if t.View != "" {
			continue
		}
		additive := lenient && t.Analyzer != ""
		cols, ok := have[t.Name]
		if !ok {
			if !additive {
				problems = append(problems, "no table "+t.Name)
			}
			continue
		}
		for _, c := range t.Columns {
			want := schema.SQLType(c.Type)
			switch got, ok := cols[c.Name]; {
			case !ok && additive:
			case !ok:
				problems = append(problems, fmt.Sprintf("%s has no column %s (%s)", t.Name, c.Name, want))
			case got != want:
				problems = append(problems, fmt.Sprintf("%s.%s is %s, not %s", t.Name, c.Name, got, want))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	what := fmt.Sprintf("pcapq schema %d", version)
	if version != schema.Version {
		what += fmt.Sprintf(" (migrated to %d)", schema.Version)
	}
	return fmt.Errorf("%s does not hold the tables of %s: %s. It was changed by something other than pcapq: ingest into a new database file", db.Path(), what, strings.Join(problems, "; "))
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
		// By the name's bytes; a capture migrated from schema 1 without
		// them (see migrate1to2) by its text, as schema 1 did.
		row := db.conn.QueryRowContext(ctx, "SELECT capture_id FROM captures WHERE path_bytes = ? OR (path_bytes IS NULL AND path = ?) ORDER BY path_bytes IS NULL, capture_id LIMIT 1", []byte(path), schema.ValidText(path))
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
		for _, t := range all.Tables {
			if !t.PerCapture() {
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
	err = db.exec(ctx, db.insertSQL(t))
	if dropErr := db.exec(ctx, "DROP VIEW IF EXISTS "+arrowView); err == nil {
		err = dropErr
	}
	return err
}

// insertSQL is the statement that inserts the registered Arrow stream
// into t, naming every column on both sides: a file whose table has the
// columns in another order still gets each value in its column, and one
// that lacks a column fails (EnsureSchema refuses it first).
func (db *DB) insertSQL(t *schema.Table) string {
	if q, ok := db.inserts[t]; ok {
		return q
	}
	var cols strings.Builder
	for i, c := range t.Columns {
		if i > 0 {
			cols.WriteString(", ")
		}
		cols.WriteString(ident(c.Name))
	}
	q := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", ident(t.Name), cols.String(), cols.String(), arrowView)
	db.inserts[t] = q
	return q
}

// ident is name as a quoted SQL identifier.
func ident(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
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
	// FirstTs and LastTs are the earliest and latest packet times of the
	// Timed packets (those with a time); first_ts and last_ts are NULL
	// when no packet has one.
	FirstTs  int64
	LastTs   int64
	Timed    int64
	Version  string
	Warnings int64
	Complete bool
	Filter   string        // BPF expression, "" for none
	Stats    *CaptureStats // libpcap's counters of a live capture, nil for files
}

// FinishCapture writes the captures row and commits.
func (db *DB) FinishCapture(ctx context.Context, c CaptureRow) error {
	return db.do(func() error { return db.finishCapture(ctx, c) })
}

func (db *DB) finishCapture(ctx context.Context, c CaptureRow) error {
	rec, err := captureRecord(c, time.Now())
	if err == nil {
		err = db.write(schema.Captures, []arrow.RecordBatch{rec})
		rec.Release()
	}
	if err != nil {
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

// captureRecord builds c as a one-row batch of schema.Captures, column by
// column of the schema, as every other table is written: a column the
// schema gains without a value here is an error on the first ingest (and
// in every test), not a shifted row.
func captureRecord(c CaptureRow, now time.Time) (arrow.RecordBatch, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema.Captures.ArrowSchema())
	defer b.Release()
	ts := func(f array.Builder, ns int64, ok bool) {
		if ok {
			f.(*array.TimestampBuilder).Append(arrow.Timestamp(ns))
		} else {
			f.AppendNull()
		}
	}
	for i, col := range schema.Captures.Columns {
		f := b.Field(i)
		switch col.Name {
		case "capture_id":
			f.(*array.Int32Builder).Append(c.ID)
		case "path":
			f.(*array.StringBuilder).Append(schema.ValidText(c.Path))
		case "path_bytes":
			if c.Path == "-" {
				f.AppendNull()
			} else {
				f.(*array.BinaryBuilder).Append([]byte(c.Path))
			}
		case "file_size":
			if c.FileSize >= 0 {
				f.(*array.Int64Builder).Append(c.FileSize)
			} else {
				f.AppendNull()
			}
		case "format":
			f.(*array.StringBuilder).Append(c.Format)
		case "link_types":
			l := f.(*array.ListBuilder)
			l.Append(true)
			for _, lt := range c.LinkTypes {
				l.ValueBuilder().(*array.StringBuilder).Append(lt)
			}
		case "packets":
			f.(*array.Int64Builder).Append(c.Packets)
		case "bytes":
			f.(*array.Int64Builder).Append(c.Bytes)
		case "first_ts":
			ts(f, c.FirstTs, c.Timed > 0)
		case "last_ts":
			ts(f, c.LastTs, c.Timed > 0)
		case "ingested_at":
			ts(f, now.UnixNano(), true)
		case "pcapq_version":
			f.(*array.StringBuilder).Append(c.Version)
		case "warnings":
			f.(*array.Int64Builder).Append(c.Warnings)
		case "complete":
			f.(*array.BooleanBuilder).Append(c.Complete)
		case "bpf_filter":
			if c.Filter != "" {
				f.(*array.StringBuilder).Append(schema.ValidText(c.Filter))
			} else {
				f.AppendNull()
			}
		case "ps_received", "ps_dropped", "ps_ifdropped":
			if c.Stats == nil {
				f.AppendNull()
				break
			}
			v := map[string]int64{"ps_received": c.Stats.Received, "ps_dropped": c.Stats.Dropped, "ps_ifdropped": c.Stats.IfDropped}[col.Name]
			f.(*array.Int64Builder).Append(v)
		default:
			return nil, fmt.Errorf("query: no value for captures.%s in CaptureRow", col.Name)
		}
	}
	return b.NewRecordBatch(), nil
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

// Path is the database file as given, escaped for printing ("(in
// memory)" for an in-memory database).
func (db *DB) Path() string {
	if db.path == "" {
		return "(in memory)"
	}
	return Escape(db.path)
}
