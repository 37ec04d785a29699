package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/pcapq/pcapq/internal/testenv"
)

// Tests of the bounds on what a capture can make an ingest cost, and of
// what the worker count may change (ingest/doc.go).

// pcapHeader is a little-endian microsecond pcap header, Ethernet.
func pcapHeader() []byte {
	le := binary.LittleEndian
	b := le.AppendUint32(nil, 0xa1b2c3d4)
	b = le.AppendUint16(b, 2)
	b = le.AppendUint16(b, 4)
	b = le.AppendUint64(b, 0)
	b = le.AppendUint32(b, 65535)
	return le.AppendUint32(b, 1)
}

// zstdZeros is a zstd stream of a pcap header and then mib MiB of zeros
// (16-byte records of 0 bytes), in frames of 8 MiB.
func zstdZeros(t *testing.T, mib int) []byte {
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	zeros := make([]byte, 8<<20)
	out := zw.EncodeAll(append(pcapHeader(), zeros...), nil)
	frame := zw.EncodeAll(zeros, nil)
	for i := 8; i < mib; i += 8 {
		out = append(out, frame...)
	}
	return out
}

func writeTemp(t *testing.T, name string, b []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func queryCSV(t *testing.T, db, sql string) string {
	t.Helper()
	code, out, stderr := pcapqRun(t, "query", "-d", db, "-f", "csv", sql)
	if code != 0 {
		t.Fatalf("%s: %s", sql, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1] // the one value, after the header
}

// --workers is bounded: more is a usage error naming the flag.
func TestWorkersBounded(t *testing.T) {
	for _, w := range []string{"100000", "33", "-1"} {
		code, _, stderr := pcapqRun(t, "--workers="+w, "ingest", "-q", smallPcap, "-o", filepath.Join(t.TempDir(), "x.duckdb"))
		if code != 2 || !strings.Contains(stderr, "--workers") {
			t.Errorf("--workers %s: exit %d %q, want 2 naming --workers", w, code, stderr)
		}
	}
}

// A SYN flood of 20000 SYNs with --max-flows 1024: every table holds the
// same rows with 1, 2 and 4 workers, and one flow_table_pressure warning
// counts the attempts that ended early (it was one per worker).
func TestSYNFloodWorkerInvariance(t *testing.T) {
	dir := t.TempDir()
	capture := filepath.Join(dir, "synflood.pcap")
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "no go command to run benchmarks/gencap")
	}
	if out, err := exec.Command(goTool, "run", "../../benchmarks/gencap", "-scenario", "synflood", "-n", "20000", "-o", capture).CombinedOutput(); err != nil {
		t.Fatalf("gencap: %v %s", err, out)
	}
	var first map[string]string
	for _, w := range []int{1, 2, 4} {
		db := filepath.Join(dir, fmt.Sprintf("w%d.duckdb", w))
		if code, _, stderr := pcapqRun(t, fmt.Sprintf("--workers=%d", w), "ingest", "-q", capture, "-o", db, "--max-flows", "1024"); code != 0 {
			t.Fatalf("%d workers: exit %d %s", w, code, stderr)
		}
		if got := queryCSV(t, db, "SELECT count(*) || ' ' || min(detail) FROM warnings WHERE kind = 'flow_table_pressure'"); !strings.HasPrefix(got, fmt.Sprintf("1 %d ", 20000-1024)) {
			t.Errorf("%d workers: flow_table_pressure rows %q, want one counting %d", w, got, 20000-1024)
		}
		sums := map[string]string{}
		for _, tb := range []string{"packets", "flows", "tcp_events", "http", "warnings"} {
			sums[tb] = queryCSV(t, db, fmt.Sprintf("SELECT count(*) || ' ' || coalesce(sum(hash(t::VARCHAR)), 0)::VARCHAR FROM %s t", tb))
		}
		if first == nil {
			first = sums
			continue
		}
		for tb, s := range sums {
			if s != first[tb] {
				t.Errorf("%s differs between 1 and %d workers: %s vs %s", tb, w, first[tb], s)
			}
		}
	}
}

// A record whose time field is no time gets a NULL packets.ts in DuckDB,
// a bad_timestamp warning naming its frame, and the capture's times are
// the others'. With ingest -f the warning names the frame the filter gave
// the record, or none when the filter left the record out.
func TestBadTimestampIsNull(t *testing.T) {
	// ingest ingests a pcap of 60-byte records at seconds 1.5e9, +1, ...
	// with these fractions (microseconds), into a new database; record i
	// begins with the byte i+1 (ether[0], for filters).
	ingest := func(name string, fracs []uint32, args ...string) string {
		le := binary.LittleEndian
		b := pcapHeader()
		for i, frac := range fracs {
			b = le.AppendUint32(b, uint32(1_500_000_000+i))
			b = le.AppendUint32(b, frac)
			b = le.AppendUint32(b, 60)
			b = le.AppendUint32(b, 60)
			b = append(b, byte(i+1))
			b = append(b, make([]byte, 59)...)
		}
		db := filepath.Join(t.TempDir(), "t.duckdb")
		if code, _, stderr := pcapqRun(t, append([]string{"ingest", "-q", writeTemp(t, name, b), "-o", db}, args...)...); code != 0 {
			t.Fatal(stderr)
		}
		return db
	}
	bad := []uint32{500000, 1_234_567, 999999}
	db := ingest("ts.pcap", bad)
	got := queryCSV(t, db, "SELECT string_agg(coalesce(epoch_ns(ts)::VARCHAR, 'NULL'), ' ' ORDER BY frame) FROM packets")
	if want := "1500000000500000000 NULL 1500000002999999000"; got != want {
		t.Errorf("packets.ts %q, want %q", got, want)
	}
	// The reader's warning names the record by its frame and its offset
	// (packets.file_offset).
	got = queryCSV(t, db, "SELECT epoch_ns(first_ts) || ' ' || epoch_ns(last_ts) || ' ' || (SELECT string_agg(w.frame || '=' || p.frame, ',') FROM warnings w JOIN packets p USING (capture_id, file_offset) WHERE kind = 'bad_timestamp') FROM captures")
	if want := "1500000000500000000 1500000002999999000 2=2"; got != want {
		t.Errorf("captures times and warning frame=packet frame %q, want %q", got, want)
	}
	for _, tc := range []struct{ filter, want string }{
		{"ether[0] != 1", "1"},    // the first record left out: the bad one is frame 1
		{"ether[0] != 2", "NULL"}, // the bad record left out: the warning stays, no frame
	} {
		db := ingest("ts-f.pcap", bad, "-f", tc.filter)
		got := queryCSV(t, db, "SELECT coalesce(frame::VARCHAR, 'NULL') || ' ' || (SELECT count(*) FROM packets) FROM warnings WHERE kind = 'bad_timestamp'")
		if want := tc.want + " 2"; got != want {
			t.Errorf("-f %q: warning frame, packets %q, want %q", tc.filter, got, want)
		}
	}

	// No packet with a time: the capture's times are NULL, not 1970.
	db = ingest("ts2.pcap", []uint32{2_000_000, 2_000_000})
	got = queryCSV(t, db, "SELECT packets || ' ' || (first_ts IS NULL) || ' ' || (last_ts IS NULL) || ' ' || (SELECT string_agg(frame::VARCHAR, '+' ORDER BY frame) FROM warnings WHERE kind = 'bad_timestamp') FROM captures")
	if want := "2 true true 1+2"; got != want {
		t.Errorf("no timed packet: packets, first_ts NULL, last_ts NULL, warning frames %q, want %q", got, want)
	}
}

// A decompression bomb stops at the ratio bound (exit 0, a warning naming
// the file and offset, the capture incomplete, at most 1000 warnings of a
// kind); --max-ratio raises the bound.
func TestMaxRatio(t *testing.T) {
	bomb := writeTemp(t, "bomb.zst", zstdZeros(t, 16))
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	code, _, stderr := pcapqRun(t, "ingest", "-q", bomb, "-o", db)
	if code != 0 || !strings.Contains(stderr, "bomb.zst: offset") || !strings.Contains(stderr, "--max-ratio") {
		t.Fatalf("exit %d %q, want 0 and a warning naming the file, offset and flag", code, stderr)
	}
	got := queryCSV(t, db, "SELECT complete || ' ' || (packets < 524288) || ' ' || (SELECT max(n) FROM (SELECT count(*) AS n FROM warnings GROUP BY kind)) || ' ' || (SELECT count(*) FROM warnings WHERE kind = 'warnings_not_written') FROM captures")
	if got != "false true 1000 1" {
		t.Errorf("complete, stopped early, most warnings of a kind, not-written rows: %q, want false true 1000 1", got)
	}
	db2 := filepath.Join(dir, "t2.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", bomb, "-o", db2, "--max-ratio", "1000000"); code != 0 || stderr != "" {
		t.Fatalf("--max-ratio 1000000: exit %d %q", code, stderr)
	}
	if got := queryCSV(t, db2, "SELECT complete || ' ' || packets FROM captures"); got != fmt.Sprintf("true %d", (16<<20)/16) {
		t.Errorf("--max-ratio 1000000: %q, want the whole stream", got)
	}
}

// Ctrl-C ends an ingest of an endless stream within about a second, and
// keeps nothing of it.
func TestInterruptBomb(t *testing.T) {
	bomb := writeTemp(t, "bomb.zst", zstdZeros(t, 8<<10)) // 8 GiB
	db := filepath.Join(t.TempDir(), "t.duckdb")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, []string{"ingest", "-q", bomb, "-o", db, "--max-ratio", "100000000"}, nil, &out, &errb)
	}()
	time.Sleep(time.Second)
	cancel()
	start := time.Now()
	select {
	case code := <-done:
		if d := time.Since(start); d > 1500*time.Millisecond {
			t.Errorf("ingest ended %v after cancellation", d)
		}
		if code != 130 {
			t.Errorf("exit %d %q, want 130", code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("ingest did not end 20 s after cancellation")
	}
	// The run created the database and committed nothing: it removes the
	// file (a failed first ingest leaves nothing behind).
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("database after an interrupted first ingest: %v, want it removed", err)
	}
}
