//go:build !duckdb_arrow

package query

// Building without the duckdb_arrow tag cannot work: duckdb-go's Arrow
// interface is behind it. Fail with a name that says what to do.
var _ = build_with_tags_duckdb_arrow__use_make_or_go_build_tags_duckdb_arrow
