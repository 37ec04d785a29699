package main

import (
	"os"
	"strings"

	"github.com/pcapq/pcapq/query"
)

// openCaptures reads captures into a new in-memory database: the one-shot
// form of query, report, diff and check. DuckDB spills into a folder of its
// own under the system's temporary directory (removed by close, or by a
// later run if this one is killed). An input that is not a capture is exit
// status 2. After the ingest, queries get DuckDB's default parallelism
// back (unless --duckdb-threads says otherwise). close closes the database
// and removes the spill folder.
func openCaptures(g *Globals, paths []string) (db *query.DB, close func(), err error) {
	spill, err := newSpillDir(os.TempDir())
	if err != nil {
		return nil, nil, err
	}
	close = func() {
		if db != nil {
			db.Close()
		}
		spill.remove()
	}
	db, err = query.Open(g.ctx, "")
	if err == nil {
		db.SetVersion(Version)
		err = db.SetMemoryLimit(g.ctx, g.DuckDBMemory)
	}
	if err == nil {
		err = db.Exec(g.ctx, "SET temp_directory = '"+strings.ReplaceAll(spill.dir, "'", "''")+"'")
	}
	if err == nil {
		err = db.SetThreads(g.ctx, ingestThreads(g))
	}
	if err == nil {
		err = db.EnsureSchema(g.ctx)
	}
	if err == nil {
		quiet := *g
		quiet.Quiet = true
		for _, in := range paths {
			if err = ingestOne(&quiet, db, in, (&IngestCmd{}).options(g)); err != nil {
				break
			}
		}
	}
	if err == nil && g.DuckDBThreads == 0 {
		err = db.Exec(g.ctx, "RESET threads")
	}
	if err != nil {
		close()
		if notCapture(err) {
			return nil, nil, &exitError{2, err}
		}
		return nil, nil, err
	}
	return db, close, nil
}
