package ingest

import (
	"math/bits"
	"sync"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// poolAllocator is an Arrow allocator that keeps the buffers released by
// finished record batches and hands them out again. Arrow's Go allocator
// makes a fresh slice for every buffer of every batch; at ingest rates that
// garbage grows the heap between collections, and on a virtual machine the
// page faults of the fresh memory cost a fifth of the run. With the pool
// the memory in use stays at what is in flight.
//
// Sizes are rounded up to a power of two. With an arena (NewAllocator),
// buffers come from it while it has room and always go back to it (see
// arena); a buffer never freed (an error path that drops a batch) is lost
// to the arena, which is bounded, and buffers the arena cannot hold come
// from Go memory. Go-memory buffers are pooled in free lists per size up
// to maxPooled bytes; past that, or when a freed buffer's capacity is not
// one of the classes, the garbage collector takes them, as it takes any
// buffer never freed.
type poolAllocator struct {
	mu        sync.Mutex
	free      [poolClasses][][]byte // Go memory only
	pooled    int                   // bytes of Go memory held in free lists
	maxPooled int
	arena     *arena // nil: Go memory only
}

const (
	poolMinShift = 6  // 64 bytes: Arrow's alignment
	poolMaxShift = 26 // 64 MiB: larger buffers are not pooled
	poolClasses  = poolMaxShift - poolMinShift + 1
)

func newPoolAllocator(maxPooled int) *poolAllocator {
	return &poolAllocator{maxPooled: maxPooled}
}

// DefaultArenaSize is the arena pcapq's command gives NewAllocator: the
// Arrow and batch buffers in flight in a full ingest fit it (the largest
// measured use is under 130 MB, with a million short connections).
const DefaultArenaSize = 256 << 20

// NewAllocator returns an Arrow allocator for Options.Alloc that keeps
// the buffers of released batches and hands them out again (Run without
// one makes a pool of Go memory for the run).
//
// With arenaSize > 0 the buffers come first from an arena: that many bytes
// of address space mapped when NewAllocator is called (anonymous,
// MAP_NORESERVE: memory is committed only as it is written) and advised
// MADV_HUGEPAGE, so that the kernel backs it with 2 MiB transparent huge
// pages where it has them: one page fault instead of 512, fewer TLB
// misses; a packets-only ingest is about a tenth faster on the project's
// VM. Where the kernel has no transparent huge pages the arena works with
// normal pages; where it cannot be mapped (or outside Linux) the
// allocator uses Go memory only. The arena is never unmapped and its
// buffers only ever go back to it: make one such allocator per process and
// pass it to every Run. Nothing is mapped unless this is called.
func NewAllocator(arenaSize int) memory.Allocator {
	a := newPoolAllocator(defaultMaxPooled)
	if arenaSize > 0 {
		a.arena = newArena(arenaSize)
	}
	return a
}

// class returns the size class for n bytes, or -1 when n is not pooled.
func poolClass(n int) int {
	if n <= 1<<poolMinShift {
		return 0
	}
	s := bits.Len(uint(n - 1))
	if s > poolMaxShift {
		return -1
	}
	return s - poolMinShift
}

func (a *poolAllocator) Allocate(size int) []byte {
	c := poolClass(size)
	if c < 0 {
		return memory.DefaultAllocator.Allocate(size)
	}
	a.mu.Lock()
	if b := a.arena.alloc(c); b != nil {
		dirty := a.arena.touch(b, size)
		a.mu.Unlock()
		clear(b[:dirty]) // Arrow's allocators hand out zeroed memory
		return b[:size]
	}
	if l := a.free[c]; len(l) > 0 {
		b := l[len(l)-1]
		l[len(l)-1] = nil
		a.free[c] = l[:len(l)-1]
		a.pooled -= cap(b)
		a.mu.Unlock()
		b = b[:size]
		clear(b)
		return b
	}
	a.mu.Unlock()
	n := 1 << (c + poolMinShift)
	b := make([]byte, n)
	if uintptr(unsafe.Pointer(unsafe.SliceData(b)))%64 != 0 {
		// Go places power-of-two objects of 64 bytes and more at
		// multiples of their size; should that ever change, fall back.
		return memory.DefaultAllocator.Allocate(size)
	}
	return b[:size]
}

func (a *poolAllocator) Reallocate(size int, b []byte) []byte {
	if cap(b) >= size {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

func (a *poolAllocator) Free(b []byte) {
	n := cap(b)
	c := poolClass(n)
	if c < 0 || n != 1<<(c+poolMinShift) {
		return // not one of ours (or not poolable): the GC takes it
	}
	a.mu.Lock()
	if a.arena.owns(b) {
		a.arena.release(b, c) // arena memory is always kept
	} else if a.pooled+n <= a.maxPooled {
		a.free[c] = append(a.free[c], b[:0])
		a.pooled += n
	}
	a.mu.Unlock()
}

var _ memory.Allocator = (*poolAllocator)(nil)
