package ingest

import "unsafe"

// arena is one region of address space for the pool's buffers, mapped
// once and asked to be backed by transparent huge pages (MADV_HUGEPAGE;
// most distributions enable THP only on request). Each 2 MiB huge page
// costs one page fault instead of 512, and fewer TLB misses: on this
// project's benchmark VM that is about a tenth of a packets-only ingest.
// Pages become resident only when first written, so the RSS is the peak
// of buffers in flight. Memory handed out is never unmapped: the pool keeps
// every block it gets for reuse (sharedPool is process-wide).
type arena struct {
	mem    []byte
	off    int
	lo, hi uintptr
}

// arenaSize bounds the arena; past it the pool uses Go memory.
const arenaSize = 256 << 20

const hugePage = 2 << 20

// alloc returns n fresh bytes, or nil when the arena is full. n is a power
// of two of at least 64, so every block starts at a multiple of 64 bytes
// (Arrow's alignment). The caller holds the pool's lock.
func (a *arena) alloc(n int) []byte {
	if a == nil || a.off+n > len(a.mem) {
		return nil
	}
	b := a.mem[a.off : a.off+n : a.off+n]
	a.off += n
	return b
}

// owns reports whether b was handed out by the arena.
func (a *arena) owns(b []byte) bool {
	if a == nil || cap(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= a.lo && p < a.hi
}
