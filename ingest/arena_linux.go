package ingest

import (
	"syscall"
	"unsafe"
)

// The system calls, replaced in tests by failing ones.
var (
	mmap    = syscall.Mmap
	madvise = syscall.Madvise
)

const madvHugePage = 14 // MADV_HUGEPAGE

// newArena maps size bytes for an arena, or returns nil when it cannot
// (the pool then uses Go memory).
func newArena(size int) *arena {
	m, err := mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	// Start on a huge page boundary.
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	skip := int((hugePage - base%hugePage) % hugePage)
	m = m[skip : skip+size : skip+size]
	// Kernels without transparent huge pages refuse the advice (EINVAL):
	// the region works with normal pages.
	_ = madvise(m, madvHugePage)
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	a := &arena{mem: m, lo: lo, hi: lo + uintptr(size)}
	a.initFree()
	return a
}
