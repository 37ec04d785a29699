package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/report"
)

// ReportCmd writes the report of a database (or of captures read into
// memory) as HTML, Markdown or JSON.
type ReportCmd struct {
	Inputs   []rawArg `arg:"" name:"database|capture" help:"A database written by 'pcapq ingest', or captures to read into memory first."`
	Output   string   `short:"o" type:"rawpath" help:"Write the report to this file instead of standard output."`
	Format   string   `short:"f" help:"html, md or json (default: from the -o file name's extension, else html)." enum:",html,md,markdown,json" default:""`
	Captures []int32  `name:"capture" sep:"," help:"Report on these capture_ids only (comma-separated or repeated)."`
	Top      int      `help:"Rows kept in each ranked table (top talkers, slowest transactions, ...)." default:"10"`
	Memory   string   `name:"memory-limit" help:"DuckDB memory limit for the report's queries; past it DuckDB spills to the temporary directory." default:"256MB"`
	TraceSQL bool     `name:"trace-sql" hidden:"" help:"Print each report query and its time on stderr."`
}

// Run opens the database or ingests the captures, builds the report and
// writes it.
func (c *ReportCmd) Run(g *Globals) error {
	format := c.Format
	if format == "" {
		switch strings.ToLower(filepath.Ext(c.Output)) {
		case ".md", ".markdown":
			format = "md"
		case ".json":
			format = "json"
		default:
			format = "html"
		}
	}
	if c.Top < 1 {
		return &exitError{2, fmt.Errorf("--top must be at least 1")}
	}
	db, source, closeDB, err := openForReading(g, c.Inputs, c.Memory)
	if err != nil {
		return err
	}
	defer closeDB()
	o := report.Options{Captures: c.Captures, Top: c.Top, Tool: "pcapq " + Version, Database: source}
	if c.TraceSQL {
		o.Trace = func(q string, took time.Duration) {
			fmt.Fprintf(g.stderr, "%8.3f s  %s\n", took.Seconds(), strings.Join(strings.Fields(q), " "))
		}
	}
	r, err := report.Build(g.ctx, db, o)
	if err != nil {
		return err
	}
	// Render in memory first: a failed report leaves no half-written file.
	var buf bytes.Buffer
	switch format {
	case "html":
		err = report.WriteHTML(&buf, r)
	case "md", "markdown":
		err = report.WriteMarkdown(&buf, r)
	case "json":
		err = report.WriteJSON(&buf, r)
	}
	if err != nil {
		return err
	}
	var w io.Writer = g.stdout
	if c.Output != "" && c.Output != "-" {
		return os.WriteFile(c.Output, buf.Bytes(), 0o644)
	}
	_, err = w.Write(buf.Bytes())
	return err
}

// isDatabase reports whether path is a DuckDB database file (its header
// holds DUCK at offset 8).
func isDatabase(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	var h [12]byte
	if _, err := io.ReadFull(f, h[:]); err != nil {
		return false
	}
	return string(h[8:12]) == "DUCK"
}

// openForReading opens one database read-only, or reads captures into an
// in-memory database (openCaptures). source names what is reported on;
// closeDB closes the database and removes what it left.
func openForReading(g *Globals, inputs []rawArg, memory string) (db *query.DB, source string, closeDB func(), err error) {
	if len(inputs) == 1 && isDatabase(string(inputs[0])) {
		path := string(inputs[0])
		db, err := openReadOnly(g, path, memory)
		if err != nil {
			return nil, "", nil, err
		}
		return db, path, func() { db.Close() }, nil
	}
	for _, in := range inputs {
		if in == "-" {
			continue
		}
		if _, err := os.Stat(string(in)); err != nil {
			return nil, "", nil, &exitError{2, err}
		}
		if isDatabase(string(in)) {
			return nil, "", nil, &exitError{2, fmt.Errorf("%s is a database: give one database, or captures", query.Escape(string(in)))}
		}
	}
	paths := make([]string, len(inputs))
	for i, in := range inputs {
		paths[i] = string(in)
	}
	db, closeDB, err = openCaptures(g, paths)
	if err != nil {
		return nil, "", nil, err
	}
	if err := db.SetMemoryLimit(g.ctx, memory); err != nil {
		closeDB()
		return nil, "", nil, err
	}
	return db, strings.Join(paths, ", "), closeDB, nil
}

// openReadOnly opens a database file so that nothing can change it:
// the file attached READ_ONLY (query.OpenReadOnly; another process may read it too), no
// access to other files (enable_external_access=false: read_csv and the
// like cannot read the disk, ATTACH cannot open another database), and
// the configuration locked so that no SET can undo it.
func openReadOnly(g *Globals, path, memory string) (*query.DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, &exitError{2, fmt.Errorf("database %s: %w (create it with: pcapq ingest CAPTURE -o %s)", query.Escape(path), err, query.Escape(path))}
	}
	if _, err := parseSize(memory); memory != "" && err != nil {
		return nil, &exitError{2, fmt.Errorf("--memory-limit: %w", err)}
	}
	db, err := query.OpenReadOnly(g.ctx, path)
	if err != nil {
		return nil, err
	}
	if memory != "" {
		if err := db.SetMemoryLimit(g.ctx, memory); err != nil {
			db.Close()
			return nil, err
		}
	}
	if g.DuckDBThreads > 0 {
		if err := db.SetThreads(g.ctx, g.DuckDBThreads); err != nil {
			db.Close()
			return nil, err
		}
	}
	// Spilling goes to the system's temporary directory (the database's own
	// directory may not be writable); then external access goes off (it
	// cannot be turned on again) and the configuration is locked.
	tmp := filepath.Join(os.TempDir(), fmt.Sprintf("pcapq-duckdb-%d", os.Getpid()))
	for _, q := range []string{"SET temp_directory = '" + strings.ReplaceAll(tmp, "'", "''") + "'", "SET enable_external_access = false"} {
		if err := db.Exec(g.ctx, q); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := db.Exec(g.ctx, "SET lock_configuration = true"); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}
