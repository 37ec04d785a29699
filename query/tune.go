package query

import (
	"errors"
	"fmt"
)

// ErrNotAvailable is returned by TuneProcessMemory for a setting this build
// or this process cannot apply (another platform, a C library other than
// glibc, a DuckDB without its bundled jemalloc, a build without the mmap
// wrap). The process works the same without it, only slower.
var ErrNotAvailable = errors.New("query: memory tuning not available")

// Tuning selects the process-wide memory settings of TuneProcessMemory.
// Each changes the whole process, not one DB: nothing is changed by
// importing this package; a program opts in by calling TuneProcessMemory
// once, before it opens a DB (pcapq's main does).
type Tuning struct {
	// GlibcMalloc raises glibc malloc's mmap threshold to 256 MiB and its
	// trim threshold to 512 MiB (mallopt). DuckDB allocates and frees
	// large buffers all through an ingest; above the default threshold
	// (128 KiB, adjusted upwards dynamically) glibc serves each with a
	// fresh mmap, so every such buffer costs page faults again.
	GlibcMalloc bool

	// HugePages asks the kernel to back the large private anonymous
	// mappings that DuckDB's bundled jemalloc makes with transparent huge
	// pages (madvise MADV_HUGEPAGE, done by the link's mmap wrapper, see
	// hugepages.go). Most distributions give huge pages only on request.
	// One 2 MiB page costs one fault instead of 512.
	HugePages bool

	// KeepFreed stops DuckDB's jemalloc from purging freed memory on its
	// decay timers (arenas' dirty_decay_ms and muzzy_decay_ms = -1): a
	// purged page is faulted and zeroed again when reused. DuckDB's
	// memory_limit still bounds what DuckDB holds; meant for short-lived
	// processes.
	KeepFreed bool
}

// DefaultTuning is what pcapq applies: the settings measured to make a
// full ingest faster (figures in benchmarks/RESULTS.md).
func DefaultTuning() Tuning {
	return Tuning{GlibcMalloc: true, HugePages: true, KeepFreed: true}
}

// jemallocMallctl is the name of the mallctl of DuckDB's bundled jemalloc
// (built with the symbol prefix duckdb_je_). It is looked up at run time,
// so a DuckDB without it links and runs, untuned.
const jemallocMallctl = "duckdb_je_mallctl"

// TuneProcessMemory applies the settings selected in t to the whole
// process. It returns nil when all were applied, or an error for each one
// that was not (errors.Is(err, ErrNotAvailable) when the build or platform
// lacks it); the others are applied regardless. A setting is not undone by
// a later call without it.
func TuneProcessMemory(t Tuning) error {
	var errs []error
	if t.GlibcMalloc {
		if err := tuneGlibcMalloc(); err != nil {
			errs = append(errs, fmt.Errorf("glibc malloc thresholds: %w", err))
		}
	}
	if t.HugePages {
		if err := adviseHugePages(true); err != nil {
			errs = append(errs, fmt.Errorf("huge pages for DuckDB's memory: %w", err))
		}
	}
	if t.KeepFreed {
		if err := jemallocKeepFreed(jemallocMallctl); err != nil {
			errs = append(errs, fmt.Errorf("jemalloc keeps freed memory: %w", err))
		}
	}
	return errors.Join(errs...)
}
