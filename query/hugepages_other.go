//go:build !(linux && cgo && duckdb_arrow && (amd64 || arm64))

package query

// useHugePages does nothing outside Linux on amd64/arm64 (see hugepages.go).
func useHugePages() int { return 0 }
