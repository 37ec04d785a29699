package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/pcapq/pcapq/query"
)

// QueryCmd runs SQL.
type QueryCmd struct {
	Args   []rawArg `arg:"" name:"[capture...] sql" help:"Captures to read into memory first (when no --db is given), then the SQL."`
	DB     string   `short:"d" name:"db" type:"rawpath" help:"Database written by 'pcapq ingest'."`
	Format string   `short:"f" help:"Output format: table, csv, json, jsonl, markdown or parquet." default:"table" enum:"table,csv,json,jsonl,markdown,parquet"`
	Output string   `short:"o" type:"rawpath" help:"Write the result to this file instead of stdout (required for parquet)."`
}

// Run opens the database (or ingests the captures into memory) and runs the SQL.
func (c *QueryCmd) Run(g *Globals) error {
	sql := string(c.Args[len(c.Args)-1])
	captures := c.Args[:len(c.Args)-1]
	if strings.TrimSpace(sql) == "" {
		return &exitError{2, fmt.Errorf("no SQL given")}
	}
	var db *query.DB
	var err error
	switch {
	case c.DB != "" && len(captures) > 0:
		return &exitError{2, fmt.Errorf("give either --db or captures, not both")}
	case c.DB != "":
		// A capture writing the file answers for it (see liveserver.go).
		if err := c.queryLive(g, sql); err != errNoCapture {
			return err
		}
		if _, err := os.Stat(c.DB); err != nil {
			return &exitError{2, fmt.Errorf("database %s: %w (create it with: pcapq ingest CAPTURE -o %s)", c.DB, err, c.DB)}
		}
		db, err = query.Open(g.ctx, c.DB)
	case len(captures) > 0:
		db, err = query.Open(g.ctx, "")
		if err == nil {
			err = db.SetMemoryLimit(g.ctx, g.DuckDBMemory)
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
			for _, in := range captures {
				if err = ingestOne(&quiet, db, string(in), (&IngestCmd{}).options(g)); err != nil {
					break
				}
			}
		}
	default:
		return &exitError{2, fmt.Errorf("nothing to query: give --db FILE or one or more captures before the SQL")}
	}
	if db != nil {
		defer db.Close()
	}
	if err != nil {
		return err
	}
	if len(captures) > 0 && g.DuckDBThreads == 0 {
		// Ingest done: the query gets DuckDB's default parallelism back.
		if err := db.Exec(g.ctx, "RESET threads"); err != nil {
			return err
		}
	}
	var w io.Writer = g.stdout
	if c.Output != "" && c.Format != "parquet" {
		f, err := os.Create(c.Output)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	return db.Output(g.ctx, sql, c.Format, w, c.Output)
}
