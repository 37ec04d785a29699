//go:build linux && cgo

package query

/*
#cgo LDFLAGS: -ldl
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

// pcapq_glibc_thresholds sets glibc malloc's mmap and trim thresholds;
// -1 when glibc refuses a value, -2 without glibc.
static int pcapq_glibc_thresholds(void) {
#ifdef __GLIBC__
	if (mallopt(M_MMAP_THRESHOLD, 256 << 20) != 1) return -1;
	if (mallopt(M_TRIM_THRESHOLD, 512 << 20) != 1) return -1;
	return 0;
#else
	return -2;
#endif
}

// pcapq_lookup finds a function in the process (the executable, which the
// DuckDB bindings link with -rdynamic, or a loaded libduckdb), or NULL.
static void *pcapq_lookup(const char *name) {
	return dlsym(RTLD_DEFAULT, name);
}

// pcapq_large_malloc_mapped says whether glibc serves a 16 MiB malloc
// with its own mmap (1), from the heap (0), or cannot tell (-1).
static int pcapq_large_malloc_mapped(void) {
#if defined(__GLIBC__) && __GLIBC_PREREQ(2, 33)
	size_t before = mallinfo2().hblkhd;
	void *p = malloc(16u << 20);
	if (p == NULL) return -1;
	size_t after = mallinfo2().hblkhd;
	free(p);
	return after > before;
#else
	return -1;
#endif
}

typedef int (*pcapq_mallctl_fn)(const char *, void *, size_t *, void *, size_t);

// pcapq_keep_freed sets jemalloc's decay times to -1 (never purge): the
// defaults of arenas created from now on, and every arena that exists.
// Plain settings, no hooks: jemalloc stays on its own code paths.
static int pcapq_keep_freed(void *fn) {
	pcapq_mallctl_fn ctl = (pcapq_mallctl_fn)fn;
	ssize_t never = -1;
	int err = ctl("arenas.dirty_decay_ms", NULL, NULL, &never, sizeof(never));
	if (err == 0) err = ctl("arenas.muzzy_decay_ms", NULL, NULL, &never, sizeof(never));
	unsigned n = 0;
	size_t len = sizeof(n);
	if (err == 0) err = ctl("arenas.narenas", &n, &len, NULL, 0);
	char key[64];
	for (unsigned i = 0; err == 0 && i < n; i++) {
		snprintf(key, sizeof(key), "arena.%u.dirty_decay_ms", i);
		err = ctl(key, NULL, NULL, &never, sizeof(never));
		if (err == EFAULT) { // not created yet: it will take the default set above
			err = 0;
			continue;
		}
		if (err == 0) {
			snprintf(key, sizeof(key), "arena.%u.muzzy_decay_ms", i);
			err = ctl(key, NULL, NULL, &never, sizeof(never));
		}
	}
	return err;
}

static int pcapq_mallctl_get_ssize(void *fn, const char *key, ssize_t *v) {
	size_t n = sizeof(*v);
	return ((pcapq_mallctl_fn)fn)(key, v, &n, NULL, 0);
}
*/
import "C"

import (
	"fmt"
	"syscall"
	"unsafe"
)

func tuneGlibcMalloc() error {
	switch C.pcapq_glibc_thresholds() {
	case 0:
		return nil
	case -2:
		return fmt.Errorf("%w: the C library is not glibc", ErrNotAvailable)
	}
	return fmt.Errorf("mallopt refused a threshold")
}

// largeMallocMapped says whether glibc serves a 16 MiB malloc with an mmap
// of its own, as it does by default (for tests).
func largeMallocMapped() (bool, error) {
	switch C.pcapq_large_malloc_mapped() {
	case 0:
		return false, nil
	case 1:
		return true, nil
	}
	return false, ErrNotAvailable
}

// lookupMallctl returns jemalloc's mallctl under the name sym, or
// ErrNotAvailable.
func lookupMallctl(sym string) (unsafe.Pointer, error) {
	cs := C.CString(sym)
	defer C.free(unsafe.Pointer(cs))
	fn := C.pcapq_lookup(cs)
	if fn == nil {
		return nil, fmt.Errorf("%w: no %s in this process (a DuckDB without its bundled jemalloc?)", ErrNotAvailable, sym)
	}
	return fn, nil
}

// jemallocKeepFreed sets jemalloc's decay times to -1 (never purge) through
// the mallctl named sym.
func jemallocKeepFreed(sym string) error {
	fn, err := lookupMallctl(sym)
	if err != nil {
		return err
	}
	if rc := C.pcapq_keep_freed(fn); rc != 0 {
		return fmt.Errorf("%s: setting decay times: %w", sym, syscall.Errno(rc))
	}
	return nil
}

// jemallocDecay reads one of jemalloc's decay settings (for tests).
func jemallocDecay(sym, key string) (int64, error) {
	fn, err := lookupMallctl(sym)
	if err != nil {
		return 0, err
	}
	ck := C.CString(key)
	defer C.free(unsafe.Pointer(ck))
	var v C.ssize_t
	if rc := C.pcapq_mallctl_get_ssize(fn, ck, &v); rc != 0 {
		return 0, fmt.Errorf("%s(%q): %w", sym, key, syscall.Errno(rc))
	}
	return int64(v), nil
}
