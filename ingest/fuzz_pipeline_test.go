package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/source"
)

// FuzzPipeline runs the whole pipeline, capture bytes to table rows, with
// every analyzer on (flows, TCP analysis, reassembly, HTTP with bodies),
// on 1 to 3 workers with batches of 4 to 64 packets, so that many
// batches, flushes and shards are in flight. Invariant:
//
//   - the bytes open as a capture (gzip and zstd too) or fail with an error
//     naming the file, and Run never fails: the source is in memory and
//     the sink takes everything;
//   - every record batch has its table's schema, consistent and valid
//     columns and UTF-8 text (checkSink);
//   - one packets row per record the reader gives on its own, the rows
//     without a time being the records without one; the capture is
//     complete exactly when the reader ended cleanly, else ReadErr is the
//     reader's error;
//   - the Summary's counts are the rows written; at most
//     source.MaxWarningsPerKind warnings of a kind, and the not-written rows add
//     up to Summary.WarningsNotWritten;
//   - every packet with a flow is counted in exactly one flow row;
//   - every Arrow and batch buffer is released;
//   - it ends within 10 s.
func FuzzPipeline(f *testing.F) {
	// Seeds: the project's small HTTP captures whole (HTTP, reassembly),
	// the start of the mixed capture, crafted captures of the reader
	// tests, compressed ones, and small corpus captures when present.
	for _, name := range []string{"http-100-continue.pcap", "http-chunked.pcap", "http-gzip.pcap",
		"http-keepalive-head-304-204.pcap", "http-pipelined.pcap", "http-websocket-upgrade.pcap"} {
		b, err := os.ReadFile(filepath.Join("../testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	if b, err := os.ReadFile("../testdata/mkcapture-small-mix.pcap"); err == nil {
		f.Add(b[:16<<10])
		f.Add(pcaptest.Gzip(f, b[:8<<10]))
		f.Add(pcaptest.Zstd(f, b[:8<<10]))
	}
	for _, c := range pcaptest.BadTimestamps() {
		f.Add(c.File)
	}
	f.Add(pcaptest.ObsoletePB(true))
	f.Add(pcaptest.ObsoletePB(false))
	f.Add(zeroBomb(f, "zstd", false, 1, 2))
	for _, b := range testcorpus.Seeds(".pcap", 8192) {
		f.Add(b)
	}
	for _, b := range testcorpus.Seeds(".pcapng", 8192) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 256<<10 {
			return // bigger inputs only slow the fuzzer down
		}
		checkPipeline(t, b, 1+len(b)%3)
	})
}

// fuzzMaxRecords bounds the records a fuzz input sends through the
// pipeline: a few hundred bytes of zstd make 65536 records (the first MiB
// is read whatever the ratio), which take seconds in batches of a few
// packets, and stall the fuzzer (testdata/fuzz/FuzzPipeline/bfad78a1ba4c7493).
// The reader alone still reads them all.
const fuzzMaxRecords = 8192

// fuzzMaxRatio keeps decompressed fuzz inputs small.
const fuzzMaxRatio = 100

// fuzzSource reads with a small buffer, so that records span buffer
// refills, and fuzzMaxRatio.
var fuzzSource = source.Options{BufferSize: 64, MaxRatio: fuzzMaxRatio}

func checkPipeline(t *testing.T, b []byte, workers int) {
	// The records, read on their own.
	rd, err := fuzzSource.NewReader(bytes.NewReader(b), "fuzz")
	if err != nil {
		checkOpenErr(t, err)
		return
	}
	var records, noTs int64
	var r source.Record
	var readErr error
	for {
		if readErr = rd.Next(&r); readErr != nil {
			break
		}
		records++
		if r.NoTs {
			noTs++
		}
	}
	checkOpenErr(t, readErr)
	if records > fuzzMaxRecords {
		return
	}

	rd, err = fuzzSource.NewReader(bytes.NewReader(b), "fuzz")
	if err != nil {
		t.Fatalf("opens once, fails the second time: %v", err)
	}
	alloc := memory.NewCheckedAllocator(newPoolAllocator(1 << 20))
	opts := DefaultOptions()
	opts.Workers = workers
	opts.BatchPackets = 4 << (len(b) % 5) // 4 to 64
	opts.FlushRows = 4 * opts.BatchPackets
	opts.HTTPOptions.KeepBodies = true
	opts.HTTPOptions.MaxBodyKeep = 1 << 10
	opts.Alloc = alloc
	opts.batchBuf = 4 << 10
	s := newCheckSink()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sum, err := Run(ctx, rd, 1, s, opts)
	if errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Run on %d bytes (%d records) took more than 10 s", len(b), records)
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if s.err != nil {
		t.Fatal(s.err)
	}
	if n := alloc.CurrentAlloc(); n != 0 {
		t.Errorf("%d bytes of Arrow and batch buffers not released", n)
	}
	if sum.Packets != records || s.rows["packets_data"] != records {
		t.Errorf("%d packets (%d rows), the reader gives %d records", sum.Packets, s.rows["packets_data"], records)
	}
	if s.tsNull != noTs || sum.Timed != records-noTs {
		t.Errorf("%d NULL ts, %d timed; the reader gives %d records without a time of %d", s.tsNull, sum.Timed, noTs, records)
	}
	if sum.Complete != (readErr == io.EOF) || (readErr != io.EOF && (sum.ReadErr == nil || sum.ReadErr.Error() != readErr.Error())) {
		t.Errorf("complete %v, ReadErr %v; the reader stops with %v", sum.Complete, sum.ReadErr, readErr)
	}
	if s.rows["warnings"] != sum.Warnings || s.rows["flows"] != sum.Flows || s.rows["tcp_events"] != sum.Events || s.rows["http_data"] != sum.HTTP {
		t.Errorf("rows %v; summary: %d warnings, %d flows, %d events, %d http", s.rows, sum.Warnings, sum.Flows, sum.Events, sum.HTTP)
	}
	kinds := map[string]int{}
	notWritten := map[string]bool{}
	var counted int64
	for _, w := range s.warnings {
		kinds[w.kind]++
		if w.kind == source.KindWarningsNotWritten {
			f := strings.Fields(w.detail)
			if len(f) < 3 || notWritten[f[2]] {
				t.Errorf("not-written row %q: want one per kind", w.detail)
			} else {
				notWritten[f[2]] = true
			}
			counted += sumLeadingInt(w.detail)
		}
	}
	for k, n := range kinds {
		if n > source.MaxWarningsPerKind {
			t.Errorf("%d %s warnings written", n, k)
		}
	}
	if counted != sum.WarningsNotWritten {
		t.Errorf("not-written rows count %d, summary %d", counted, sum.WarningsNotWritten)
	}
	if s.pktsInFlows != s.pktsWithFlow {
		t.Errorf("flows count %d packets, %d packets have a flow", s.pktsInFlows, s.pktsWithFlow)
	}
	var fe *source.FormatError
	if sum.ReadErr != nil && !errors.As(sum.ReadErr, &fe) {
		t.Errorf("ReadErr %v is not a *source.FormatError", sum.ReadErr)
	}
}

// checkOpenErr checks an error of the reader: io.EOF, a
// *source.FormatError wrapping one of the sentinels, or an error that
// names the file. (source/fuzz_test.go checks the readers alone.)
func checkOpenErr(t *testing.T, err error) {
	if err == io.EOF {
		return
	}
	var fe *source.FormatError
	if !errors.As(err, &fe) {
		if !strings.HasPrefix(err.Error(), "fuzz: ") {
			t.Fatalf("error %v does not name the file", err)
		}
		return
	}
	for _, s := range []error{source.ErrNotCapture, source.ErrTruncated, source.ErrRecordTooLong, source.ErrBadBlock, source.ErrRatio, source.ErrCorrupt} {
		if fe.Err == s {
			return
		}
	}
	t.Fatalf("FormatError wraps %v, not a sentinel", fe.Err)
}
