package ingest

import (
	"maps"
	"syscall"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Where the kernel has no transparent huge pages (MADV_HUGEPAGE fails)
// the arena works with normal pages; where nothing can be mapped the
// allocator uses Go memory. Either way the tables are those of a run
// with Arrow's Go allocator.
func TestArenaWithoutHugePages(t *testing.T) {
	const capture = "../testdata/http-gzip.pcap"
	want := runTables(t, capture, memory.NewGoAllocator())
	saveMmap, saveMadvise := mmap, madvise
	defer func() { mmap, madvise = saveMmap, saveMadvise }()

	advised := 0
	madvise = func([]byte, int) error { advised++; return syscall.EINVAL }
	a := NewAllocator(8 << 20).(*poolAllocator)
	if a.arena == nil || advised != 1 {
		t.Fatalf("arena %v after a refused MADV_HUGEPAGE (advised %d times)", a.arena != nil, advised)
	}
	b := a.Allocate(4096)
	if !a.arena.owns(b) {
		t.Error("buffer not from the arena")
	}
	a.Free(b)
	if got := runTables(t, capture, a); !maps.Equal(got, want) {
		t.Error("tables differ with an arena of normal pages")
	}

	mmap = func(int, int64, int, int, int) ([]byte, error) { return nil, syscall.ENOMEM }
	a = NewAllocator(8 << 20).(*poolAllocator)
	if a.arena != nil {
		t.Fatal("an arena although mmap failed")
	}
	if got := runTables(t, capture, a); !maps.Equal(got, want) {
		t.Error("tables differ with Go memory only")
	}
}
