package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
)

// QueryCmd runs SQL.
type QueryCmd struct {
	Args        []rawArg `arg:"" name:"[capture...] sql" help:"Captures to read into memory first (when no --db is given), then the SQL."`
	DB          string   `short:"d" name:"db" type:"rawpath" help:"Database written by 'pcapq ingest'."`
	Format      string   `short:"f" help:"Output format: table, csv, json, jsonl, markdown or parquet." default:"table" enum:"table,csv,json,jsonl,markdown,parquet"`
	Output      string   `short:"o" type:"rawpath" help:"Write the result to this file instead of stdout (required for parquet). A failed write removes it."`
	CSVFormulas bool     `name:"csv-formulas" help:"CSV: leave text cells starting with = + - @ as they are (by default they get a leading ' so spreadsheets do not run them as formulas)."`
}

// Run opens the database (or ingests the captures into memory) and runs the SQL.
func (c *QueryCmd) Run(g *Globals) error {
	sql := string(c.Args[len(c.Args)-1])
	captures := c.Args[:len(c.Args)-1]
	if strings.TrimSpace(sql) == "" {
		return &exitError{2, fmt.Errorf("no SQL given")}
	}
	var db *query.DB
	switch {
	case c.DB != "" && len(captures) > 0:
		return &exitError{2, fmt.Errorf("give either --db or captures, not both")}
	case c.DB != "":
		// A capture writing the file answers for it (see liveserver.go).
		if err := c.queryLive(g, sql); err != errNoCapture {
			return err
		}
		st, err := os.Stat(c.DB)
		if err != nil {
			return &exitError{2, fmt.Errorf("database %s: %w (create it with: pcapq ingest CAPTURE -o %s)", c.DB, err, c.DB)}
		}
		if !st.Mode().IsRegular() {
			return &exitError{2, fmt.Errorf("database %s: not a regular file (create one with: pcapq ingest CAPTURE -o FILE)", c.DB)}
		}
		if err := checkDuckDBFile(c.DB); err != nil {
			return &exitError{2, err}
		}
		db, err = query.Open(g.ctx, c.DB)
		if err != nil {
			return err
		}
		db.SetVersion(Version)
		if err := db.CheckSchema(g.ctx); err != nil {
			db.Close()
			return err
		}
		if db.MigratedFrom() > 0 && !g.Quiet {
			fmt.Fprintf(g.stderr, "pcapq: %s: migrated from pcapq schema %d to %d\n", db.Path(), db.MigratedFrom(), schema.Version)
		}
	case len(captures) > 0:
		paths := make([]string, len(captures))
		for i, in := range captures {
			paths[i] = string(in)
		}
		mem, closeDB, err := openCaptures(g, paths)
		if err != nil {
			return err
		}
		defer closeDB()
		db = mem
	default:
		return &exitError{2, fmt.Errorf("nothing to query: give --db FILE or one or more captures before the SQL")}
	}
	if c.DB != "" {
		defer db.Close()
	}
	opts := query.OutputOptions{Format: c.Format, File: c.Output, CSVFormulas: c.CSVFormulas}
	if c.Format == "parquet" {
		// DuckDB writes the file; over an existing file it writes a
		// temporary one first and keeps the old one if that fails.
		_, statErr := os.Lstat(c.Output)
		existed := statErr == nil
		err := db.OutputTo(g.ctx, sql, nil, opts)
		if err != nil && c.Output != "" && !existed {
			err = removePartial(c.Output, err)
		}
		return err
	}
	if c.Output == "" {
		return db.OutputTo(g.ctx, sql, g.stdout, opts)
	}
	return writeFile(c.Output, func(w io.Writer) error { return db.OutputTo(g.ctx, sql, w, opts) })
}

// writeFile creates name, writes it with write, and closes it, checking
// every step. If any fails and name is a regular file, the partial file is
// removed and the error says so (a device such as /dev/full, or a pipe, is
// left alone).
func writeFile(name string, write func(io.Writer) error) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	err = write(f)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &query.WriteError{Err: cerr}
	}
	if err != nil {
		return removePartial(name, err)
	}
	return nil
}

// removePartial removes name, a result file whose writing failed with
// err, if it is a regular file, and returns err saying what became of it.
func removePartial(name string, err error) error {
	st, serr := os.Lstat(name)
	switch {
	case serr != nil:
		return err
	case !st.Mode().IsRegular():
		return err
	}
	if rerr := os.Remove(name); rerr != nil {
		return fmt.Errorf("%w; the partial file %s is left: %v", err, name, rerr)
	}
	return fmt.Errorf("%w; removed the partial file %s", err, name)
}

// duckdbMagic is what a DuckDB database file holds at offset 8.
const duckdbMagic = "DUCK"

// checkDuckDBFile tells a file that is not a DuckDB database (a capture
// given to -d, say) before DuckDB does.
func checkDuckDBFile(name string) error {
	f, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("database %s: %w", name, err)
	}
	defer f.Close()
	head := make([]byte, 12)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		return fmt.Errorf("database %s: %w", name, err)
	}
	switch {
	case n == 0:
		return fmt.Errorf("database %s: the file is empty, not a DuckDB database (create one with: pcapq ingest CAPTURE -o %s)", name, name)
	case n < len(head) || string(head[8:12]) != duckdbMagic:
		return fmt.Errorf("database %s: not a DuckDB database (no %q at offset 8); a capture is queried with: pcapq query CAPTURE SQL", name, duckdbMagic)
	}
	return nil
}

// notCapture tells an input that is not a capture (or cannot be read as
// one): exit status 2.
func notCapture(err error) bool {
	return errors.Is(err, source.ErrNotCapture) || errors.Is(err, os.ErrNotExist) || errors.Is(err, os.ErrPermission) || errors.Is(err, syscall.EISDIR)
}

// spillDir is the folder DuckDB spills to while a one-shot query ingests
// captures into memory: pcapq-query-PID-RANDOM in the system temporary
// folder, holding a lock file that the process keeps locked (flock) while
// it lives. A run killed before it could remove its folder (SIGKILL, a
// crash, the machine going down) leaves it behind; the next one-shot query
// removes every such folder whose lock is free.
type spillDir struct {
	dir  string
	lock *os.File
}

const spillPrefix = "pcapq-query-"

// spillLock is the name of the lock file in a spill folder.
const spillLock = ".lock"

func newSpillDir(base string) (*spillDir, error) {
	removeStaleSpillDirs(base)
	dir, err := os.MkdirTemp(base, spillPrefix+strconv.Itoa(os.Getpid())+"-")
	if err != nil {
		return nil, fmt.Errorf("temporary folder for the query: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, spillLock), os.O_CREATE|os.O_RDWR, 0o600)
	if err == nil {
		if err = syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
			lock.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("temporary folder for the query: %w", err)
	}
	return &spillDir{dir: dir, lock: lock}, nil
}

// remove deletes the folder, then releases its lock.
func (s *spillDir) remove() {
	os.RemoveAll(s.dir)
	s.lock.Close()
}

// removeStaleSpillDirs removes the spill folders in base left by runs
// that are gone: those whose lock file can be locked, and those without a
// lock file whose process (the PID in the name) is no longer running
// (killed between creating the folder and locking it). Also the folders
// pcapq-duckdb-PID of earlier versions whose process is gone.
func removeStaleSpillDirs(base string) {
	entries, err := os.ReadDir(base)
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if !e.IsDir() {
			continue
		}
		path := filepath.Join(base, name)
		switch {
		case strings.HasPrefix(name, spillPrefix):
			pid, _ := strconv.Atoi(strings.SplitN(strings.TrimPrefix(name, spillPrefix), "-", 2)[0])
			lock, err := os.Open(filepath.Join(path, spillLock))
			if err != nil {
				if pid > 0 && !processAlive(pid) {
					os.RemoveAll(path)
				}
				continue
			}
			if syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
				os.RemoveAll(path)
			}
			lock.Close()
		case strings.HasPrefix(name, "pcapq-duckdb-"):
			if pid, err := strconv.Atoi(strings.TrimPrefix(name, "pcapq-duckdb-")); err == nil && pid > 0 && !processAlive(pid) {
				os.RemoveAll(path)
			}
		}
	}
}

// processAlive tells whether a process with this PID exists.
func processAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
