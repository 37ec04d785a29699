package ingest

import (
	"syscall"
	"unsafe"
)

func newArena(size int) *arena {
	m, err := syscall.Mmap(-1, 0, size+hugePage, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
	if err != nil {
		return nil
	}
	// Start on a huge page boundary.
	base := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	skip := int((hugePage - base%hugePage) % hugePage)
	m = m[skip : skip+size : skip+size]
	_ = syscall.Madvise(m, 14) // MADV_HUGEPAGE; without THP the region still works
	lo := uintptr(unsafe.Pointer(unsafe.SliceData(m)))
	a := &arena{mem: m, lo: lo, hi: lo + uintptr(size)}
	a.initFree()
	return a
}
