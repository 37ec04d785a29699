//go:build linux && cgo

package query

/*
#include <malloc.h>
*/
import "C"

// DuckDB allocates and frees large buffers all through an ingest. glibc
// serves blocks above its mmap threshold with fresh mmaps, so every such
// buffer costs page faults again (a quarter of the CPU of an ingest on a
// VM, measured with perf). Keeping them on the heap and not trimming it
// makes a packets-only ingest about 10% faster; see benchmarks/RESULTS.md.
func init() {
	C.mallopt(C.M_MMAP_THRESHOLD, 256<<20)
	C.mallopt(C.M_TRIM_THRESHOLD, 512<<20)
}
