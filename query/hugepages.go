//go:build linux && cgo && duckdb_arrow && (amd64 || arm64)

package query

/*
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/mman.h>

// jemalloc 5.3's extent_hooks_t (jemalloc_typedefs.h), as bundled with
// DuckDB under the duckdb_je_ prefix.
typedef struct pcapq_hooks_s pcapq_hooks_t;
struct pcapq_hooks_s {
	void *(*alloc)(pcapq_hooks_t *, void *, size_t, size_t, bool *, bool *, unsigned);
	void *dalloc, *destroy, *commit, *decommit, *purge_lazy, *purge_forced, *split, *merge;
};

extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

static pcapq_hooks_t *pcapq_default_hooks;
static pcapq_hooks_t pcapq_thp_hooks;

// Memory jemalloc maps for DuckDB is asked to be backed by transparent huge
// pages; jemalloc then carves it up as usual.
static void *pcapq_thp_alloc(pcapq_hooks_t *h, void *addr, size_t size, size_t align, bool *zero, bool *commit, unsigned arena) {
	void *p = pcapq_default_hooks->alloc(h, addr, size, align, zero, commit, arena);
	if (p != NULL && size >= (2u << 20)) {
		madvise(p, size, MADV_HUGEPAGE);
	}
	return p;
}

// pcapq_install_thp_hooks wraps the default extent allocation of every
// automatic arena. It returns the number of arenas hooked, or -1.
static int pcapq_install_thp_hooks(void) {
	unsigned narenas;
	size_t sz = sizeof(narenas);
	if (duckdb_je_mallctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0) {
		return -1;
	}
	pcapq_hooks_t *def;
	sz = sizeof(def);
	if (duckdb_je_mallctl("arena.0.extent_hooks", &def, &sz, NULL, 0) != 0 || def == NULL || def->alloc == NULL) {
		return -1;
	}
	pcapq_default_hooks = def;
	pcapq_thp_hooks = *def;
	pcapq_thp_hooks.alloc = pcapq_thp_alloc;
	pcapq_hooks_t *mine = &pcapq_thp_hooks;
	int n = 0;
	for (unsigned i = 0; i < narenas; i++) {
		char name[64];
		snprintf(name, sizeof name, "arena.%u.extent_hooks", i);
		pcapq_hooks_t *cur = NULL;
		sz = sizeof(cur);
		// Reading fails for an arena not created yet; writing creates it
		// with our hooks.
		if (duckdb_je_mallctl(name, &cur, &sz, NULL, 0) == 0 && cur != def) {
			continue; // someone else's hooks
		}
		if (duckdb_je_mallctl(name, NULL, NULL, &mine, sizeof(mine)) == 0) {
			n++;
		}
	}
	return n;
}
*/
import "C"

import "sync"

// useHugePages asks that the memory DuckDB's allocator (its bundled
// jemalloc) maps be backed by transparent huge pages, as the ingest
// arena's is. Most distributions enable THP only on request (madvise), and
// DuckDB's jemalloc is built without its own THP option. On the benchmark
// VM, page faults and TLB misses on DuckDB's memory were a fifth of a
// packets-only ingest. Without THP in the kernel the advice is ignored.
var useHugePages = sync.OnceValue(func() int {
	return int(C.pcapq_install_thp_hooks())
})
