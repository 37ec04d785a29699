// Package schema is the single source of truth for pcapq's tables: their
// names, columns, Arrow types, DuckDB types and meanings. The ingest
// pipeline builds Arrow record batches in these shapes, the query package
// creates the DuckDB tables from them, and `pcapq schema` and SCHEMA.md are
// generated from them. A table can be a view over a data table that stores
// some columns differently (dataTable): packets is a view over
// packets_data, which stores addresses, MACs, TCP flags and the direction
// as integers, and http a view over http_data, which stores the header maps
// as JSON text; the views' SQL turns them back. Text from traffic is
// stored as ValidText makes it.
//
// It imports only Arrow.
package schema
