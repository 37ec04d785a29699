// Package query is pcapq's only door to DuckDB (and so to cgo): it opens
// the database, creates the tables described by package schema, loads the
// ingest pipeline's Arrow record batches through DuckDB's Arrow scan, one
// transaction per capture, and runs SQL with output as a table, CSV, JSON,
// JSON lines, Markdown or Parquet. Captured text is escaped in every
// text report (see Escape). New database files use DuckDB's v1.3.0
// storage format (storageVersion).
//
// A live capture (live.go) commits while it runs instead: BeginLive
// commits its captures row at once, CommitLive replaces the capture's
// flows_open rows, adds warnings, rewrites the captures row and commits,
// and NewReader opens further connections to the same database, which see
// what was committed, for the queries the capturing process answers
// (CheckReadOnly lets one read-only statement through).
//
// On Linux the link wraps mmap so that the memory DuckDB's bundled jemalloc
// maps is advised for transparent huge pages (hugepages.go). Every call a
// DB makes into DuckDB runs on one locked OS thread, so that jemalloc's
// per-thread caches of freed memory do not multiply (see DB).
//
// It must be built with the build tag duckdb_arrow (the Makefile sets it).
package query
