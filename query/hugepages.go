//go:build linux && cgo && duckdb_arrow && (amd64 || arm64)

package query

/*
#cgo LDFLAGS: -Wl,--wrap=mmap
#include <stddef.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

// The link wraps mmap (-Wl,--wrap=mmap): calls to mmap from the objects
// linked into pcapq (DuckDB's bundled jemalloc among them; glibc's own
// malloc and the Go runtime's heap mappings are not affected, see below)
// land here. Large private anonymous writable mappings, which is how
// jemalloc gets memory for DuckDB, are advised to be backed by transparent
// huge pages. Fixed-address mappings are left alone: that is how the Go
// runtime maps its heap, which it manages without huge pages on purpose.
// The wrapper allocates nothing and calls nothing that could allocate.
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
	void *p = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && fd == -1 && (flags & MAP_ANONYMOUS) && !(flags & MAP_FIXED) &&
		(prot & PROT_WRITE) && len >= (2u << 20)) {
		madvise(p, len, MADV_HUGEPAGE);
	}
	return p;
}

extern int duckdb_je_mallctl(const char *name, void *oldp, size_t *oldlenp, void *newp, size_t newlen);

// pcapq_keep_freed stops jemalloc from purging freed memory on its decay
// timer (a purged huge page is faulted and zeroed again). Plain settings,
// no hooks: jemalloc stays on its own code paths.
static int pcapq_keep_freed(void) {
	ssize_t never = -1;
	int err = duckdb_je_mallctl("arenas.dirty_decay_ms", NULL, NULL, &never, sizeof(never));
	if (err == 0) {
		err = duckdb_je_mallctl("arenas.muzzy_decay_ms", NULL, NULL, &never, sizeof(never));
	}
	return err;
}
*/
import "C"

import "sync"

// useHugePages is called before DuckDB starts. Page faults and TLB misses
// on DuckDB's memory were about a fifth of an ingest on the benchmark VM:
// most distributions enable transparent huge pages only on request
// (madvise), and DuckDB's jemalloc is built without its own THP option, so
// the mmap wrapper above makes the request. jemalloc also keeps freed
// memory for reuse instead of purging it after a second (DuckDB's
// memory_limit bounds what it holds; pcapq is a short-lived process).
// Without THP in the kernel the advice is ignored. An earlier version
// wrapped jemalloc's extent hooks instead; custom hooks take jemalloc off
// its internal paths and deadlocked a thread freeing memory at exit.
var useHugePages = sync.OnceValue(func() int {
	return int(C.pcapq_keep_freed())
})
