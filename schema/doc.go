// Package schema is the single source of truth for pcapq's tables: their
// names, columns, Arrow types, DuckDB types and meanings. The ingest
// pipeline builds Arrow record batches in these shapes, the query package
// creates the DuckDB tables from them, and `pcapq schema` and SCHEMA.md are
// generated from them. A table can be a view: packets is a view over the
// packets_data table, which stores addresses, MACs, TCP flags and the
// direction as integers and whose SQL turns them back into text.
//
// It imports only Arrow.
package schema
