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
// A database that grows while it is served (pcapq capture --serve) is
// shared with its writer through Options.Lock: the writer holds the lock
// while it writes, and must commit what it wrote before it lets go (the
// server reads on the same connection, and a failed console query inside
// the writer's transaction would abort it).
//
// It must be built with the build tag duckdb_arrow (it imports query).
package serve
