package ingest

import (
	"math/bits"
	"unsafe"
)

// arena is one region of address space for the pool's buffers, mapped
// once and asked to be backed by transparent huge pages (MADV_HUGEPAGE;
// most distributions enable THP only on request). Each 2 MiB huge page
// costs one page fault instead of 512, and fewer TLB misses: on this
// project's benchmark VM that is about a tenth of a packets-only ingest.
//
// Blocks are handed out by a buddy allocator: power-of-two sizes from 64
// bytes to 64 MiB, each aligned to its size; a free block whose buddy is
// free too merges with it, and a request with no free block of its size
// splits a larger one. So memory freed by one kind of buffer serves any
// other, and the memory touched (the RSS: pages become resident when first
// written, and are never unmapped) stays near the peak of the buffers in
// flight. With one free list per size and no merging, every size kept its
// own peak: on the capture of a million short connections 125 MB was
// touched for 94 MB at most in use.
type arena struct {
	mem     []byte
	lo, hi  uintptr
	top     int // class of the largest block
	free    [poolClasses]freeSet
	touched int // bytes from the start ever handed out: memory past it is still zero
}

// freeSet is the free blocks of one class: their offsets in 64-byte units,
// and each one's index, for removing a buddy in constant time.
type freeSet struct {
	offs []uint32
	pos  map[uint32]int32
}

func (s *freeSet) push(o uint32) {
	if s.pos == nil {
		s.pos = make(map[uint32]int32)
	}
	s.pos[o] = int32(len(s.offs))
	s.offs = append(s.offs, o)
}

// pop takes the most recently freed block (its memory is likely touched
// and in cache).
func (s *freeSet) pop() (uint32, bool) {
	if len(s.offs) == 0 {
		return 0, false
	}
	o := s.offs[len(s.offs)-1]
	s.offs = s.offs[:len(s.offs)-1]
	delete(s.pos, o)
	return o, true
}

// remove takes block o if it is free.
func (s *freeSet) remove(o uint32) bool {
	i, ok := s.pos[o]
	if !ok {
		return false
	}
	last := s.offs[len(s.offs)-1]
	s.offs[i] = last
	s.pos[last] = i
	s.offs = s.offs[:len(s.offs)-1]
	delete(s.pos, o)
	return true
}

const hugePage = 2 << 20

// initFree makes the whole of mem free: blocks of the largest class that
// divides it, the first one to be used first.
func (a *arena) initFree() {
	size := len(a.mem)
	a.top = min(poolClasses-1, bits.Len(uint(size))-1-poolMinShift)
	step := 1 << (a.top + poolMinShift)
	for off := (size/step - 1) * step; off >= 0; off -= step {
		a.free[a.top].push(uint32(off >> poolMinShift))
	}
}

// alloc returns a block of class c (1<<(c+6) bytes, aligned to its size
// within the arena), or nil when no free block is that large. The caller
// holds the pool's lock.
func (a *arena) alloc(c int) []byte {
	if a == nil || c > a.top {
		return nil
	}
	k := c
	o, ok := a.free[k].pop()
	for !ok {
		if k++; k > a.top {
			return nil
		}
		o, ok = a.free[k].pop()
	}
	// Split down to c, freeing the upper halves.
	for ; k > c; k-- {
		a.free[k-1].push(o + 1<<(k-1))
	}
	off := int(o) << poolMinShift
	n := 1 << (c + poolMinShift)
	return a.mem[off : off+n : off+n]
}

// release frees b, a block of class c handed out by alloc, merging it with
// its free buddies.
func (a *arena) release(b []byte, c int) {
	o := uint32((uintptr(unsafe.Pointer(unsafe.SliceData(b))) - a.lo) >> poolMinShift)
	for ; c < a.top; c++ {
		buddy := o ^ 1<<c
		if !a.free[c].remove(buddy) {
			break
		}
		o = min(o, buddy)
	}
	a.free[c].push(o)
}

// touch records that block b (from alloc) is handed out, of which size
// bytes are asked for, and returns how many of those may be dirty: memory
// past the arena's high-water mark was never handed out and is zero. The
// whole block counts as handed out, since its user may grow into it
// (poolAllocator.Reallocate).
func (a *arena) touch(b []byte, size int) (dirty int) {
	off := int(uintptr(unsafe.Pointer(unsafe.SliceData(b))) - a.lo)
	dirty = min(size, max(a.touched-off, 0))
	a.touched = max(a.touched, off+cap(b))
	return dirty
}

// owns reports whether b was handed out by the arena.
func (a *arena) owns(b []byte) bool {
	if a == nil || cap(b) == 0 {
		return false
	}
	p := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return p >= a.lo && p < a.hi
}
