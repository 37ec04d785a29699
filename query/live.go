package query

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/pcapq/pcapq/schema"
)

// CaptureStats are a live capture's libpcap counters (captures.ps_*).
type CaptureStats struct {
	Received, Dropped, IfDropped int64
}

// insertCapture writes the captures row c (built from schema.Captures by
// captureRecord, written by column name like every table).
func (db *DB) insertCapture(ctx context.Context, c CaptureRow) error {
	rec, err := captureRecord(c, time.Now())
	if err != nil {
		return err
	}
	defer rec.Release()
	return db.write(schema.Captures, []arrow.RecordBatch{rec})
}

// BeginLive starts a capture whose rows become visible while it runs (a
// live capture, an ingest from a pipe): it takes a new capture_id (a
// live capture never replaces another), commits the captures row c
// (complete false) at once so that other connections see the capture, and
// opens the transaction the rows go into until CommitLive.
func (db *DB) BeginLive(ctx context.Context, c CaptureRow) (id int32, err error) {
	err = db.do(func() error {
		if err := db.exec(ctx, "BEGIN TRANSACTION"); err != nil {
			return err
		}
		db.inTx = true
		if err := db.conn.QueryRowContext(ctx, "SELECT coalesce(max(capture_id), 0) + 1 FROM captures").Scan(&id); err != nil {
			db.rollback()
			return err
		}
		c.ID, c.Complete = id, false
		if err := db.insertCapture(ctx, c); err != nil {
			db.rollback()
			return fmt.Errorf("writing captures row: %w", err)
		}
		return db.commitAndBegin(ctx)
	})
	return id, err
}

func (db *DB) commitAndBegin(ctx context.Context) error {
	if err := db.exec(ctx, "COMMIT"); err != nil {
		db.rollback()
		return fmt.Errorf("commit: %w", err)
	}
	if err := db.exec(ctx, "BEGIN TRANSACTION"); err != nil {
		db.inTx = false
		return err
	}
	return nil
}

// Warning is a warnings row written outside the pipeline (a live
// capture's drops).
type Warning struct {
	Kind, Detail string
}

// CommitLive makes a live capture's rows so far visible: the flows not
// ended yet (open) replace the capture's rows of flows_open, the
// warnings are added, the captures row is rewritten from c, and the
// transaction is committed and a new one begun. With final set the
// capture ends instead: flows_open is emptied (the pipeline has written
// every flow to flows) and no transaction is begun.
func (db *DB) CommitLive(ctx context.Context, c CaptureRow, open []arrow.RecordBatch, warns []Warning, final bool) error {
	return db.do(func() error {
		if !db.inTx {
			return errors.New("pcapq database " + db.Path() + ": no live capture in progress")
		}
		if err := db.exec(ctx, "DELETE FROM flows_open WHERE capture_id = ?", c.ID); err != nil {
			db.rollback()
			return err
		}
		if len(open) > 0 && !final {
			if err := db.write(schema.FlowsOpen, open); err != nil {
				db.rollback()
				return fmt.Errorf("writing flows_open: %w", err)
			}
		}
		for _, w := range warns {
			if err := db.exec(ctx, "INSERT INTO warnings (capture_id, frame, file_offset, kind, detail) VALUES (?, NULL, NULL, ?, ?)",
				c.ID, w.Kind, schema.ValidText(w.Detail)); err != nil {
				db.rollback()
				return err
			}
		}
		if err := db.exec(ctx, "DELETE FROM captures WHERE capture_id = ?", c.ID); err != nil {
			db.rollback()
			return err
		}
		if err := db.insertCapture(ctx, c); err != nil {
			db.rollback()
			return fmt.Errorf("writing captures row: %w", err)
		}
		if final {
			if err := db.exec(ctx, "COMMIT"); err != nil {
				db.rollback()
				return fmt.Errorf("commit: %w", err)
			}
			db.inTx = false
			return nil
		}
		return db.commitAndBegin(ctx)
	})
}

// NewReader opens another connection to db's database, for reading while
// db writes (a live capture answering queries): it sees what db has
// committed. It has its own DuckDB thread; Close closes the connection
// only. Close every reader before db.
func (db *DB) NewReader(ctx context.Context) (*DB, error) {
	r := &DB{path: db.path, sql: db.sql, calls: make(chan func()), reader: true}
	go r.thread()
	err := r.do(func() error {
		var err error
		if r.conn, err = db.sql.Conn(ctx); err != nil || db.abs == "" {
			return err
		}
		// A new connection starts in the in-memory catalog: the file is
		// attached as catalog (see Open).
		_, err = r.conn.ExecContext(ctx, "USE "+catalog)
		return err
	})
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// ErrNotReadOnly is returned by CheckReadOnly.
var ErrNotReadOnly = errors.New("only one SELECT statement (or FROM, DESCRIBE, SHOW, SUMMARIZE, PIVOT, WITH ... SELECT) may run while the capture writes the database")

// CheckReadOnly fails unless q is exactly one statement that only reads
// (DuckDB's statement type SELECT), so that a query served during a
// capture cannot change the tables, settings or files.
func (db *DB) CheckReadOnly(ctx context.Context, q string) error {
	return db.do(func() error {
		return db.conn.Raw(func(dc any) error {
			c, ok := dc.(*duckdb.Conn)
			if !ok {
				return fmt.Errorf("unexpected DuckDB connection %T", dc)
			}
			// Prepare (without a context) refuses a multi-statement
			// query; PrepareContext would run all but the last.
			st, err := c.Prepare(q)
			if err != nil {
				if strings.Contains(err.Error(), "multi-statement") {
					return fmt.Errorf("%w: this is several statements", ErrNotReadOnly)
				}
				return err
			}
			defer st.Close()
			s, ok := st.(*duckdb.Stmt)
			if !ok {
				return fmt.Errorf("unexpected DuckDB statement %T", st)
			}
			typ, err := s.StatementType()
			if err != nil {
				return err
			}
			if typ != duckdb.STATEMENT_TYPE_SELECT {
				return ErrNotReadOnly
			}
			return nil
		})
	})
}

// Confine keeps every connection to db's database from reaching other
// files (read_csv, COPY, ATTACH, extensions: enable_external_access off)
// but for the directories dirs, and locks the configuration, for good: a
// live capture whose database a web page queries. The database's own
// file, WAL and temporary directory stay in use.
func (db *DB) Confine(ctx context.Context, dirs ...string) error {
	return db.do(func() error {
		if len(dirs) > 0 {
			list := make([]string, len(dirs))
			for i, d := range dirs {
				list[i] = sqlString(d)
			}
			if err := db.exec(ctx, "SET allowed_directories = ["+strings.Join(list, ", ")+"]"); err != nil {
				return err
			}
		}
		for _, q := range []string{"SET enable_external_access = false", "SET lock_configuration = true"} {
			if err := db.exec(ctx, q); err != nil {
				return err
			}
		}
		return nil
	})
}
