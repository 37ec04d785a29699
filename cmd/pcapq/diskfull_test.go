package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
)

// TestDiskFullKeepsCommitted ingests into a 2 MiB tmpfs until it is full:
// the failing ingest reports the problem, exits non-zero, and the database
// still holds the capture committed before it. Needs root (mount).
func TestDiskFullKeepsCommitted(t *testing.T) {
	if os.Geteuid() != 0 {
		testenv.Missing(t, "needs root to mount a small tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", dir).CombinedOutput(); err != nil {
		testenv.Missing(t, "cannot mount tmpfs: %v %s", err, out)
	}
	defer exec.Command("umount", "-l", dir).Run()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/http-pipelined.pcap", "-o", db); code != 0 {
		t.Fatalf("first ingest should fit: %s", stderr)
	}
	code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/mkcapture-small-mix.pcap", "-o", db)
	if code == 0 {
		t.Fatalf("ingest of a 2.5 MB capture (a 1.8 MB database on its own, more while it is written) into a 2 MiB filesystem succeeded")
	}
	if !strings.Contains(strings.ToLower(stderr), "space") {
		t.Errorf("error should say the disk is full: %q", stderr)
	}
	code, out, stderr := pcapqRun(t, "query", "-d", db, "-f", "csv", "SELECT count(*) AS captures, sum(packets) AS packets FROM captures")
	if code != 0 {
		t.Fatalf("database unreadable after a full disk: %s", stderr)
	}
	if strings.TrimSpace(out) != "captures,packets\n1,16" {
		t.Errorf("after the failed ingest the database holds %q, want only the first capture (16 packets)", out)
	}
	// The rolled-back capture freed its space: a capture that fits still goes in.
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/http-gzip.pcap", "-o", db); code != 0 {
		t.Errorf("ingest after the full disk failed: %s", stderr)
	}
}
