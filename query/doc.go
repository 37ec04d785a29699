// Package query is pcapq's only door to DuckDB (and so to cgo): it opens
// the database, creates the tables described by package schema, loads the
// ingest pipeline's Arrow record batches through DuckDB's Arrow scan, one
// transaction per capture, and runs SQL with output as a table, CSV, JSON,
// JSON lines, Markdown or Parquet. Captured text is escaped in every
// text report (see Escape). New database files use DuckDB's v1.3.0
// storage format (storageVersion).
//
// A database file is opened by its name and nothing else (Open attaches
// it by an SQL string literal, so any file name works). The file keeps its
// schema version in pcapq_meta: EnsureSchema and CheckSchema migrate a
// file of an older version (migrations), refuse a newer one, and check
// that every table has pcapq's columns with their types. Rows are written
// by column name, the captures row too (captureRecord builds it from
// schema.Captures), and a capture is identified by its name's bytes
// (captures.path_bytes).
//
// Importing the package changes nothing in the process. A program may
// call TuneProcessMemory once, before opening a DB, to apply process-wide
// memory settings measured to speed up an ingest (pcapq's main does): on
// Linux, glibc malloc's thresholds, transparent huge pages for the memory
// DuckDB's bundled jemalloc maps (the link wraps mmap, see hugepages.go;
// the build tag nommapwrap leaves the wrapper out), and jemalloc keeping
// freed memory (its mallctl is looked up at run time, so a DuckDB without
// it works, untuned). Every call a DB makes into DuckDB runs on one locked
// OS thread, so that jemalloc's per-thread caches of freed memory do not
// multiply (see DB).
//
// A live capture (live.go) commits while it runs instead: BeginLive
// commits its captures row at once, CommitLive replaces the capture's
// flows_open rows, adds warnings, rewrites the captures row and commits,
// and NewReader opens further connections to the same database, which see
// what was committed, for the queries the capturing process answers
// (CheckReadOnly lets one read-only statement through). Confine keeps the
// database from other files for good (a capture that serves its page).
//
// It must be built with the build tag duckdb_arrow (the Makefile sets it).
package query
