// Package serve is pcapq serve's web server: the report of a database as a
// page (package report), a read-only SQL console whose results show as a
// table with CSV download, and, for a database that grows while it is
// served (pcapq capture --serve), live counters pushed every second as
// server-sent events.
//
// The server enforces what the page promises, not the page: a console
// query must be one read-only statement (DuckDB's own parser decides,
// through json_serialize_sql, which serializes SELECT statements only),
// runs under a time limit, and its result is cut at a row and byte limit
// with a notice. The database itself should be opened read-only too
// (pcapq serve attaches files READ_ONLY, query.OpenReadOnly, with external access
// off); the statement check is what protects a database that is being
// written. Requests whose Host is not one the server was started for are
// refused (DNS rebinding), and so are console requests from another
// origin.
//
// A database that grows while it is served is read in one of two ways.
// pcapq capture --serve gives the server a Source on a connection of its
// own to the capture's database, which sees what the capture has
// committed, and an Options.Lock that the capture takes before it closes
// that database to start a new file (--rotate). A writer that shares the
// server's connection instead (the tests) holds Options.Lock while it
// writes, and must commit what it wrote before it lets go (a failed
// console query inside the writer's transaction would abort it).
//
// It must be built with the build tag duckdb_arrow (it imports query).
package serve
