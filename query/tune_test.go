//go:build duckdb_arrow

package query

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"testing"
)

// tuneState is what a child process reports about its memory settings.
type tuneState struct {
	HugeAdvised  int   // mappings flagged hg (VM_HUGEPAGE) after DuckDB ran
	Decay        int64 // jemalloc's arenas.dirty_decay_ms
	Arena0Decay  int64 // arena.0.dirty_decay_ms
	LargeMmapped bool  // glibc served a 16 MiB malloc with its own mmap
	Err          string
}

// TestTuneChild is the child of TestTuneExplicit: in a fresh process it
// optionally tunes, runs DuckDB, and prints what it finds.
func TestTuneChild(t *testing.T) {
	mode := os.Getenv("PCAPQ_TUNE_CHILD")
	if mode == "" {
		t.Skip("run by TestTuneExplicit") // skip-ok: the child process half of that test
	}
	var st tuneState
	report := func() { b, _ := json.Marshal(st); fmt.Println("STATE " + string(b)) }
	defer report()
	if mode == "tuned" {
		if err := TuneProcessMemory(DefaultTuning()); err != nil {
			st.Err = err.Error()
			return
		}
	}
	ctx := context.Background()
	db, err := Open(ctx, "")
	if err != nil {
		st.Err = err.Error()
		return
	}
	defer db.Close()
	var sum int64
	if err := db.conn.QueryRowContext(ctx, "SELECT sum(length(s)) FROM (SELECT repeat('x', (i % 1000)::INTEGER) AS s FROM range(300000) t(i) ORDER BY i DESC)").Scan(&sum); err != nil {
		st.Err = err.Error()
		return
	}
	if sum != 149_850_000 { // 300 times 0+1+...+999
		st.Err = fmt.Sprintf("sum %d", sum)
		return
	}
	smaps, err := os.ReadFile("/proc/self/smaps")
	if err != nil {
		st.Err = err.Error()
		return
	}
	st.HugeAdvised = len(regexp.MustCompile(`(?m)^VmFlags:.* hg`).FindAll(smaps, -1))
	if st.Decay, err = jemallocDecay(jemallocMallctl, "arenas.dirty_decay_ms"); err == nil {
		st.Arena0Decay, err = jemallocDecay(jemallocMallctl, "arena.0.dirty_decay_ms")
	}
	if err == nil {
		st.LargeMmapped, err = largeMallocMapped()
	}
	if err != nil {
		st.Err = err.Error()
	}
}

func childState(t *testing.T, mode string) tuneState {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestTuneChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "PCAPQ_TUNE_CHILD="+mode)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child %s: %v\n%s", mode, err, out)
	}
	m := regexp.MustCompile(`STATE (\{.*\})`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("child %s printed no state:\n%s", mode, out)
	}
	var st tuneState
	if err := json.Unmarshal(m[1], &st); err != nil {
		t.Fatal(err)
	}
	if st.Err != "" {
		t.Fatalf("child %s: %s", mode, st.Err)
	}
	return st
}

// Importing query and using DuckDB changes no process-wide memory setting;
// TuneProcessMemory(DefaultTuning()) changes each of them, and each is seen
// to take in a fresh process: DuckDB's memory advised for huge pages,
// jemalloc's decay off in existing and new arenas, glibc's large mallocs
// kept on the heap.
func TestTuneExplicit(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("the tuning is Linux-only: nothing to check on this platform")
	}
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("kernel without transparent huge pages")
	}
	plain := childState(t, "plain")
	tuned := childState(t, "tuned")
	t.Logf("untuned: %+v; tuned: %+v", plain, tuned)
	if plain.HugeAdvised != 0 {
		t.Errorf("untuned process: %d mappings advised for huge pages, want 0 (importing query must not tune)", plain.HugeAdvised)
	}
	if tuned.HugeAdvised == 0 {
		t.Error("tuned process: no mapping advised for huge pages after DuckDB mapped memory")
	}
	if plain.Decay == -1 || plain.Arena0Decay == -1 {
		t.Errorf("untuned process: jemalloc decay %d/%d, want DuckDB's default", plain.Decay, plain.Arena0Decay)
	}
	if tuned.Decay != -1 || tuned.Arena0Decay != -1 {
		t.Errorf("tuned process: jemalloc decay %d (new arenas) / %d (arena 0), want -1", tuned.Decay, tuned.Arena0Decay)
	}
	if !plain.LargeMmapped {
		t.Error("untuned process: glibc kept a 16 MiB malloc on the heap (its default is an mmap)")
	}
	if tuned.LargeMmapped {
		t.Error("tuned process: glibc served a 16 MiB malloc with an mmap, want the heap")
	}
}

// A DuckDB without jemalloc's mallctl under the expected name (a release
// that stops exporting it, or one built without jemalloc) links, runs, and
// the tuning says cleanly that it is not available.
func TestTuneMissingSymbol(t *testing.T) {
	const missing = "duckdb_je_mallctl_not_in_this_build"
	err := jemallocKeepFreed(missing)
	if !errors.Is(err, ErrNotAvailable) {
		t.Fatalf("jemallocKeepFreed(%q) = %v, want ErrNotAvailable", missing, err)
	}
	if _, err := jemallocDecay(missing, "arenas.dirty_decay_ms"); !errors.Is(err, ErrNotAvailable) {
		t.Errorf("jemallocDecay with a missing symbol: %v", err)
	}
	// The real one is found in this build.
	if _, err := lookupMallctl(jemallocMallctl); err != nil {
		t.Errorf("%s not found: %v", jemallocMallctl, err)
	}
}

// The mmap wrapper advises only when turned on, and can be turned off.
func TestHugePageAdviceGate(t *testing.T) {
	if _, err := os.Stat("/sys/kernel/mm/transparent_hugepage/enabled"); err != nil {
		t.Skip("kernel without transparent huge pages")
	}
	defer adviseHugePages(false)
	for _, on := range []bool{false, true, false} {
		if err := adviseHugePages(on); err != nil {
			t.Fatal(err)
		}
		got, err := probeHugePageAdvice()
		if err != nil {
			t.Fatal(err)
		}
		if got != on {
			t.Errorf("advice %v: mapping advised %v", on, got)
		}
	}
}
