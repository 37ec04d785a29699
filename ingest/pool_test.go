package ingest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
)

func TestPoolAllocator(t *testing.T) {
	a := newPoolAllocator(1 << 20)
	for _, n := range []int{0, 1, 63, 64, 65, 1000, 4096, 70000, 1 << 20} {
		b := a.Allocate(n)
		if len(b) != n {
			t.Fatalf("Allocate(%d): len %d", n, len(b))
		}
		if n > 0 && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%64 != 0 {
			t.Errorf("Allocate(%d) is not 64-byte aligned", n)
		}
		for i := range b {
			b[i] = 0xff
		}
		a.Free(b)
		c := a.Allocate(n)
		if n > 0 && unsafe.SliceData(c) != unsafe.SliceData(b) {
			t.Errorf("Allocate(%d) after Free did not reuse the buffer", n)
		}
		for i, x := range c {
			if x != 0 {
				t.Fatalf("Allocate(%d) after Free: byte %d is %#x, want zero", n, i, x)
			}
		}
	}

	// Reallocate keeps the contents and zeroes what it adds.
	b := a.Allocate(100)
	for i := range b {
		b[i] = byte(i)
	}
	b = a.Reallocate(5000, b)
	if len(b) != 5000 {
		t.Fatalf("Reallocate: len %d", len(b))
	}
	for i := 0; i < 100; i++ {
		if b[i] != byte(i) {
			t.Fatalf("Reallocate lost byte %d", i)
		}
	}
	for i := 100; i < 5000; i++ {
		if b[i] != 0 {
			t.Fatalf("Reallocate: byte %d not zero", i)
		}
	}

	// The pool keeps at most maxPooled bytes; foreign buffers are left alone.
	small := newPoolAllocator(4096)
	bufs := [][]byte{small.Allocate(4096), small.Allocate(4096)}
	for _, b := range bufs {
		small.Free(b)
	}
	if small.pooled != 4096 {
		t.Errorf("pooled %d bytes, bound 4096", small.pooled)
	}
	small.Free(make([]byte, 100))
	if small.pooled != 4096 {
		t.Errorf("a foreign buffer was pooled")
	}
	huge := small.Allocate(1 << 27) // above the largest class
	if len(huge) != 1<<27 {
		t.Fatalf("huge allocation: len %d", len(huge))
	}
	small.Free(huge)
}

// hashSink hashes every value of every table, in order.
type hashSink struct{ h map[string]hash.Hash }

func (s *hashSink) Write(t *schema.Table, recs []arrow.RecordBatch) error {
	h := s.h[t.Name]
	if h == nil {
		h = sha256.New()
		s.h[t.Name] = h
	}
	for _, r := range recs {
		for c := 0; c < int(r.NumCols()); c++ {
			col := r.Column(c)
			for i := 0; i < col.Len(); i++ {
				fmt.Fprintf(h, "%s\x00", col.ValueStr(i))
			}
		}
	}
	return nil
}

func (s *hashSink) sums() map[string]string {
	m := map[string]string{}
	for k, h := range s.h {
		m[k] = fmt.Sprintf("%x", h.Sum(nil))
	}
	return m
}

// Every Arrow buffer (and batch buffer) the pipeline allocates is released
// once the sink has written it (so the pool gets it back), and reusing
// buffers changes no value: the tables are identical to a run with Arrow's
// Go allocator, with and without the huge-page arena.
func TestPipelineReleasesEveryBuffer(t *testing.T) {
	for _, name := range []string{"mkcapture-small-mix.pcap", "http-gzip.pcap", "http-websocket-upgrade.pcap"} {
		t.Run(name, func(t *testing.T) {
			run := func(alloc memory.Allocator) map[string]string {
				r, err := source.Open("../testdata/" + name)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				opts := DefaultOptions()
				opts.Workers = 2
				opts.BatchPackets = 64 // many batches and flushes in flight
				opts.FlushRows = 256
				opts.HTTPOptions.KeepBodies = true
				opts.Alloc = alloc
				s := &hashSink{h: map[string]hash.Hash{}}
				if _, err := Run(context.Background(), r, 1, s, opts); err != nil {
					t.Fatal(err)
				}
				return s.sums()
			}
			plain := run(memory.NewGoAllocator())
			if len(plain) < 3 {
				t.Fatalf("only %d tables written", len(plain))
			}
			for _, pool := range []*poolAllocator{newPoolAllocator(defaultMaxPooled), testArenaPool(t)} {
				checked := memory.NewCheckedAllocator(pool)
				pooled := run(checked)
				if n := checked.CurrentAlloc(); n != 0 {
					t.Errorf("arena %v: %d bytes of Arrow and batch buffers never released", pool.arena != nil, n)
				}
				for tbl, sum := range plain {
					if pooled[tbl] != sum {
						t.Errorf("arena %v: table %s differs from a run with the Go allocator", pool.arena != nil, tbl)
					}
				}
			}
		})
	}
}

// The arena hands out aligned blocks until it is full; the pool then falls
// back to Go memory. Blocks given back merge, so a freed arena serves a
// block of any size again, zeroed.
func TestArenaPool(t *testing.T) {
	ar := newArena(1 << 20)
	if ar == nil {
		t.Skip("no arena on this platform")
	}
	if ar.lo%hugePage != 0 {
		t.Errorf("arena starts at %#x, not on a huge page", ar.lo)
	}
	a := &poolAllocator{maxPooled: 0, arena: ar}
	var got [][]byte
	for i := 0; i < 4; i++ {
		b := a.Allocate(256 << 10)
		if !ar.owns(b) {
			t.Fatalf("block %d not from the arena", i)
		}
		if (uintptr(unsafe.Pointer(unsafe.SliceData(b)))-ar.lo)%(256<<10) != 0 {
			t.Errorf("block %d not aligned to its size", i)
		}
		b[0], b[len(b)-1] = 1, 2 // writable
		got = append(got, b)
	}
	extra := a.Allocate(256 << 10) // the arena is full
	if ar.owns(extra) || len(extra) != 256<<10 {
		t.Fatalf("allocation past the arena: owned %v len %d", ar.owns(extra), len(extra))
	}
	for _, b := range got {
		a.Free(b)
	}
	a.Free(extra) // Go memory over maxPooled: dropped
	whole := a.Allocate(1 << 20)
	if !ar.owns(whole) {
		t.Fatal("the four freed quarters did not merge back into the whole arena")
	}
	if whole[0] != 0 || whole[256<<10] != 0 || whole[len(whole)-1] != 0 {
		t.Error("reused arena memory not zeroed")
	}
	a.Free(whole)
	// Arena blocks do not count against the bound on pooled Go memory.
	if a.pooled != 0 {
		t.Errorf("pooled Go memory %d after arena blocks came and went, want 0", a.pooled)
	}
}

// Random allocations and frees of every size: live blocks never overlap
// (each keeps the bytes written into it), every block comes zeroed over
// the size asked for, and once all is freed the arena is whole again.
func TestArenaBuddy(t *testing.T) {
	ar := newArena(4 << 20)
	if ar == nil {
		t.Skip("no arena on this platform")
	}
	a := &poolAllocator{arena: ar}
	rng := rand.New(rand.NewPCG(1, 2))
	type live struct {
		b   []byte
		tag byte
	}
	var blocks []live
	check := func(l live) {
		for i, v := range l.b {
			if v != l.tag {
				t.Fatalf("block of %d bytes tagged %d has %d at %d: overlapped", len(l.b), l.tag, v, i)
			}
		}
	}
	for step := 0; step < 20000; step++ {
		if len(blocks) > 0 && rng.IntN(2) == 0 {
			i := rng.IntN(len(blocks))
			check(blocks[i])
			a.Free(blocks[i].b)
			blocks[i] = blocks[len(blocks)-1]
			blocks = blocks[:len(blocks)-1]
			continue
		}
		size := 1 + rng.IntN(1<<(6+rng.IntN(14)))
		b := a.Allocate(size)
		if len(b) != size {
			t.Fatalf("asked %d got %d", size, len(b))
		}
		for i, v := range b {
			if v != 0 {
				t.Fatalf("block of %d bytes not zeroed at %d", size, i)
			}
		}
		tag := byte(1 + step%255)
		for i := range b {
			b[i] = tag
		}
		blocks = append(blocks, live{b, tag})
	}
	for _, l := range blocks {
		check(l)
		a.Free(l.b)
	}
	for c := range ar.free {
		want := 0
		if c == ar.top {
			want = len(ar.mem) >> (ar.top + poolMinShift)
		}
		if n := len(ar.free[c].offs); n != want {
			t.Errorf("class %d: %d free blocks after freeing everything, want %d", c, n, want)
		}
	}
}

// testArenaPool is one allocator with an arena for the tests of this
// process (arenas are never unmapped).
func testArenaPool(t *testing.T) *poolAllocator {
	p := arenaPoolOnce()
	if p.arena == nil && runtime.GOOS == "linux" {
		t.Fatal("no arena on Linux")
	}
	return p
}

var arenaPoolOnce = sync.OnceValue(func() *poolAllocator { return NewAllocator(64 << 20).(*poolAllocator) })

// runTables runs the pipeline over a capture with alloc and returns a hash
// of every table; every buffer must come back.
func runTables(t *testing.T, path string, alloc memory.Allocator) map[string]string {
	t.Helper()
	r, err := source.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	checked := memory.NewCheckedAllocator(alloc)
	opts := DefaultOptions()
	opts.Workers = 2
	opts.BatchPackets = 256
	opts.Alloc = checked
	s := &hashSink{h: map[string]hash.Hash{}}
	if _, err := Run(context.Background(), r, 1, s, opts); err != nil {
		t.Fatal(err)
	}
	if n := checked.CurrentAlloc(); n != 0 {
		t.Errorf("%d bytes never released", n)
	}
	return s.sums()
}

// bigMappings counts the process's writable mappings of 200 MiB or more.
func bigMappings(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skip("no /proc/self/maps on this platform")
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || !strings.HasPrefix(f[1], "rw") {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		a, err1 := strconv.ParseUint(lo, 16, 64)
		z, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 == nil && err2 == nil && z-a >= 200<<20 {
			n++
		}
	}
	return n
}

// Importing the package and running it with the default options map no
// arena: only NewAllocator does.
func TestNoArenaUnlessAsked(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the arena is Linux only: nothing to check on this platform")
	}
	before := bigMappings(t)
	runTables(t, "../testdata/http-chunked.pcap", (Options{}).withDefaults().Alloc)
	if after := bigMappings(t); after != before {
		t.Errorf("a run with the default allocator left %d big mappings, %d before", after, before)
	}
	if a := (Options{}).withDefaults().Alloc.(*poolAllocator); a.arena != nil {
		t.Error("the default allocator has an arena")
	}
	NewAllocator(DefaultArenaSize)
	if after := bigMappings(t); after != before+1 {
		t.Errorf("NewAllocator(DefaultArenaSize): %d big mappings, want %d", after, before+1)
	}
}
