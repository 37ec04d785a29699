//go:build linux && cgo && duckdb_arrow && (amd64 || arm64) && !nommapwrap

package query

/*
#cgo LDFLAGS: -Wl,--wrap=mmap
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/types.h>

void *__real_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off);

// pcapq_advise_thp is 0 until TuneProcessMemory turns the advice on: the
// wrapper below then only passes calls through.
static volatile int pcapq_advise_thp;

// The link wraps mmap (-Wl,--wrap=mmap): calls to mmap from the objects
// linked into the program (DuckDB's bundled jemalloc among them; glibc's
// own malloc and the Go runtime make the system call themselves and are
// not affected) land here. When turned on, large private anonymous
// writable mappings, which is how jemalloc gets memory for DuckDB, are
// advised to be backed by transparent huge pages. Fixed-address mappings
// are left alone. The wrapper allocates nothing and calls nothing that
// could allocate.
void *__wrap_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off) {
	void *p = __real_mmap(addr, len, prot, flags, fd, off);
	if (pcapq_advise_thp && p != MAP_FAILED && fd == -1 && (flags & MAP_ANONYMOUS) &&
		!(flags & MAP_FIXED) && (prot & PROT_WRITE) && len >= (2u << 20)) {
		madvise(p, len, MADV_HUGEPAGE);
	}
	return p;
}

static void pcapq_set_advise_thp(int on) { pcapq_advise_thp = on; }

// pcapq_probe_thp maps 4 MiB through the wrapper as jemalloc would and
// reports whether the kernel marked the mapping huge-page advised (the
// "hg" flag in /proc/self/smaps): 1 yes, 0 no, -1 on error.
static int pcapq_probe_thp(void) {
	size_t len = 4u << 20;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) return -1;
	FILE *f = fopen("/proc/self/smaps", "r");
	int found = -1;
	if (f != NULL) {
		char line[512];
		int in = 0;
		unsigned long lo, hi;
		while (fgets(line, sizeof(line), f) != NULL) {
			if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) { // a mapping's first line
				in = lo == (unsigned long)p;
				continue;
			}
			if (in && strncmp(line, "VmFlags:", 8) == 0) {
				found = strstr(line, " hg") != NULL;
				break;
			}
		}
		fclose(f);
	}
	munmap(p, len);
	return found;
}
*/
import "C"

import "errors"

// adviseHugePages turns the mmap wrapper's huge-page advice on or off.
// Page faults and TLB misses on DuckDB's memory were about a fifth of an
// ingest on the benchmark VM: most distributions enable transparent huge
// pages only on request (madvise), and DuckDB's jemalloc is built without
// its own THP option, so the wrapper makes the request. Without THP in the
// kernel the advice is ignored. An earlier version wrapped jemalloc's
// extent hooks instead; custom hooks take jemalloc off its internal paths
// and deadlocked a thread freeing memory at exit.
func adviseHugePages(on bool) error {
	v := C.int(0)
	if on {
		v = 1
	}
	C.pcapq_set_advise_thp(v)
	return nil
}

// probeHugePageAdvice maps memory through the wrapper and says whether the
// mapping came out advised for huge pages (for tests).
func probeHugePageAdvice() (bool, error) {
	switch C.pcapq_probe_thp() {
	case 1:
		return true, nil
	case 0:
		return false, nil
	}
	return false, errors.New("probe mapping not found in /proc/self/smaps")
}
