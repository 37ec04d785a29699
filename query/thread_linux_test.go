//go:build duckdb_arrow

package query

import (
	"context"
	"runtime"
	"sync"
	"syscall"
	"testing"
)

// TestOneDuckDBThread: calls made from goroutines on different OS threads
// all run on the database's one thread (see DB), and the database works
// from each of them.
func TestOneDuckDBThread(t *testing.T) {
	db := memDB(t)
	var mu sync.Mutex
	callers, inside := map[int]bool{}, map[int]bool{}
	var wg, locked sync.WaitGroup
	locked.Add(8)
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			// Hold this OS thread until all 8 callers hold theirs, so
			// they are 8 distinct threads even on a loaded machine.
			locked.Done()
			locked.Wait()
			tid := syscall.Gettid()
			var in int
			db.do(func() error { in = syscall.Gettid(); return nil })
			if _, err := db.Scalar(context.Background(), "SELECT count(*) FROM packets"); err != nil {
				t.Error(err)
			}
			mu.Lock()
			callers[tid], inside[in] = true, true
			mu.Unlock()
		}()
	}
	wg.Wait()
	if len(callers) < 2 {
		t.Fatalf("callers ran on %d threads: the test needs several", len(callers))
	}
	if len(inside) != 1 {
		t.Errorf("DuckDB calls ran on %d OS threads, want 1", len(inside))
	}
	for tid := range inside {
		if callers[tid] {
			t.Errorf("DuckDB thread %d is a caller's thread", tid)
		}
	}
	db.Close()
	if err := db.Exec(context.Background(), "SELECT 1"); err == nil {
		t.Error("Exec after Close succeeded")
	}
}
