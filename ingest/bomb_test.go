package ingest

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/source"
)

// zeroBomb is a compressed capture: a pcap header (or pcapng section
// without packets) and then frames or gzip members each of zeroMiB MiB of
// zeros (of 12-byte unknown blocks for pcapng), copies times: a stream of
// about copies*zeroMiB MiB from a few hundred bytes per copy. All-zero
// pcap records are 16-byte records of 0 bytes at time 0.
func zeroBomb(t testing.TB, compress string, pcapng bool, zeroMiB, copies int) []byte {
	var head []byte
	fill := make([]byte, zeroMiB<<20)
	if pcapng {
		g := &pcaptest.NG{}
		head = g.SHB(true).IDB(1, 0).B
		blk := (&pcaptest.NG{LE: true}).Block(0x12345678, nil).B
		fill = fill[:len(fill)/len(blk)*len(blk)]
		for i := 0; i < len(fill); i += len(blk) {
			copy(fill[i:], blk)
		}
	} else {
		head = pcaptest.Pcap(true, pcaptest.MagicMicro, 2, 4, 65535, 1)
	}
	enc := func(b []byte) []byte {
		if compress == "gzip" {
			return pcaptest.Gzip(t, b)
		}
		return pcaptest.Zstd(t, b)
	}
	// Frames and members may be concatenated: the decoders read on.
	out := enc(append(bytes.Clone(head), fill...))
	rest := enc(fill)
	for i := 1; i < copies; i++ {
		out = append(out, rest...)
	}
	return out
}

// A decompression bomb stops at the ratio bound as damage does: every
// packet before it is kept, the capture is marked incomplete, and the
// warning names the file, the offset and the bound; the warnings of one
// kind stop at source.MaxWarningsPerKind, the rest counted in one row.
func TestDecompressionBombStops(t *testing.T) {
	for _, compress := range []string{"gzip", "zstd"} {
		t.Run(compress, func(t *testing.T) {
			bomb := zeroBomb(t, compress, false, 16, 64) // 1 GiB
			t.Logf("%d bytes of %s expand to 1 GiB", len(bomb), compress)
			r, err := source.NewReader(bytes.NewReader(bomb), "bomb.cap")
			if err != nil {
				t.Fatal(err)
			}
			s := newCheckSink()
			start := time.Now()
			sum, err := Run(context.Background(), r, 1, s, DefaultOptions())
			if err != nil {
				t.Fatal(err)
			}
			if s.err != nil {
				t.Fatal(s.err)
			}
			var fe *source.FormatError
			if !errors.As(sum.ReadErr, &fe) || !errors.Is(sum.ReadErr, source.ErrRatio) || fe.File != "bomb.cap" || fe.Offset < 1<<20 {
				t.Fatalf("ReadErr %v, want source.ErrRatio in bomb.cap past the first MiB", sum.ReadErr)
			}
			if !strings.Contains(fe.Detail, "over 1000:1") || !strings.Contains(fe.Detail, "--max-ratio") {
				t.Errorf("detail %q does not give the bound and how to raise it", fe.Detail)
			}
			// Stopped soon after the first MiB (gzip: its decoder reads
			// ahead by a buffer).
			if sum.Complete || sum.Packets < (1<<20)/16 || sum.Packets > (8<<20)/16 || s.rows["packets_data"] != sum.Packets {
				t.Errorf("complete %v, %d packets (%d rows): want incomplete, stopped past the first MiB and before 8 MiB", sum.Complete, sum.Packets, s.rows["packets_data"])
			}
			kinds := map[string]int{}
			var notWritten, stop []warnRow
			for _, w := range s.warnings {
				kinds[w.kind]++
				switch w.kind {
				case source.KindWarningsNotWritten:
					notWritten = append(notWritten, w)
				case "decompression_ratio_exceeded":
					stop = append(stop, w)
				}
			}
			for k, n := range kinds {
				if n > source.MaxWarningsPerKind {
					t.Errorf("%d %s warnings written, bound %d", n, k, source.MaxWarningsPerKind)
				}
			}
			if len(stop) != 1 || stop[0].offset != fe.Offset || !strings.Contains(stop[0].detail, "bomb.cap: offset") {
				t.Errorf("warnings for the stop %+v, want one at offset %d naming the file", stop, fe.Offset)
			}
			// Every zero record is one frame of 0 bytes: one warning each.
			var counted int64
			for _, w := range notWritten {
				counted += sumLeadingInt(w.detail)
			}
			if int64(len(s.warnings)) != sum.Warnings || counted != sum.WarningsNotWritten || sum.Warnings+sum.WarningsNotWritten < sum.Packets {
				t.Errorf("%d warnings rows (summary %d), %d not written (rows say %d), %d packets", len(s.warnings), sum.Warnings, sum.WarningsNotWritten, counted, sum.Packets)
			}
			t.Logf("stopped after %v: %d packets, %d warnings rows, %d not written: %v", time.Since(start), sum.Packets, sum.Warnings, sum.WarningsNotWritten, sum.ReadErr)
		})
	}
}

// sumLeadingInt reads the number a detail starts with.
func sumLeadingInt(s string) int64 {
	var n int64
	for _, c := range s {
		if c < '0' || c > '9' {
			break
		}
		n = n*10 + int64(c-'0')
	}
	return n
}

// The bound is an option of the reader: raised, the same stream is read to its end, and
// the warnings not written are counted exactly.
func TestDecompressionRatioRaised(t *testing.T) {
	for _, max := range []int{-1, 100000, math.MaxInt} {
		t.Run(strconv.Itoa(max), func(t *testing.T) { testRatioRaised(t, max) })
	}
}

func testRatioRaised(t *testing.T, maxRatio int) {
	bomb := zeroBomb(t, "zstd", false, 4, 2) // 8 MiB
	r, err := source.Options{MaxRatio: maxRatio}.NewReader(bytes.NewReader(bomb), "bomb.zst")
	if err != nil {
		t.Fatal(err)
	}
	s := newCheckSink()
	sum, err := Run(context.Background(), r, 1, s, DefaultOptions())
	if err != nil || s.err != nil {
		t.Fatal(err, s.err)
	}
	const records = (8 << 20) / 16
	if !sum.Complete || sum.Packets != records || s.rows["packets_data"] != records {
		t.Fatalf("complete %v, %d packets (%d rows), want %d: %v", sum.Complete, sum.Packets, s.rows["packets_data"], records, sum.ReadErr)
	}
	kinds := map[string]int{}
	var counted int64
	for _, w := range s.warnings {
		kinds[w.kind]++
		if w.kind == source.KindWarningsNotWritten {
			counted += sumLeadingInt(w.detail)
		}
	}
	// One decoder warning per frame of 0 bytes: the first 1000 written.
	written := int64(sum.Warnings) - int64(kinds[source.KindWarningsNotWritten])
	if written+counted != records || counted != sum.WarningsNotWritten || kinds[source.KindWarningsNotWritten] != 1 {
		t.Errorf("warnings by kind %v, %d not written: want %d in all, one not-written row", kinds, counted, records)
	}
}

// Cancelling a run ends it within a second even while the reader finds no
// packet for gigabytes (blocks it skips) or the decoder is fed a stream
// with no bound.
func TestBombInterruptible(t *testing.T) {
	for _, tc := range []struct {
		name     string
		compress string
		pcapng   bool
	}{
		{"zstd-pcap", "zstd", false},
		{"gzip-pcap", "gzip", false},
		{"zstd-pcapng-skipped-blocks", "zstd", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bomb := zeroBomb(t, tc.compress, tc.pcapng, 4, 2500) // 10 GB
			r, err := source.Options{MaxRatio: -1}.NewReader(bytes.NewReader(bomb), "bomb")
			if err != nil {
				t.Fatal(err)
			}
			opts := DefaultOptions()
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			var runErr error
			done := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, runErr = Run(ctx, r, 1, discardSink{}, opts)
				close(done)
			}()
			time.Sleep(300 * time.Millisecond)
			select {
			case <-done:
				t.Fatalf("a 10 GB stream was read in 300 ms: %v", runErr)
			default:
			}
			cancel()
			start := time.Now()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Fatal("run did not end 10 s after cancellation")
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("run ended %v after cancellation, want within 1 s", d)
			}
			if !errors.Is(runErr, context.Canceled) {
				t.Errorf("err %v, want context.Canceled", runErr)
			}
		})
	}
}

// The warnings table holds at most source.MaxWarningsPerKind rows of a kind per
// capture, whichever stage met them (here the reader), and one
// warnings_not_written row per kind with the exact count of the rest.
func TestPipelineWarningsCapped(t *testing.T) {
	var recs []pcaptest.Rec
	for range source.MaxWarningsPerKind + 20 {
		recs = append(recs, pcaptest.Rec{Data: pcaptest.Pkt(8, 0), OrigLen: 4}) // over the snaplen and the original length
	}
	s := newCheckSink()
	sum, err := Run(context.Background(), mustReader(t, pcaptest.Pcap(true, pcaptest.MagicMicro, 2, 4, 1, 1, recs...)), 1, s, DefaultOptions())
	if err != nil || s.err != nil {
		t.Fatal(err, s.err)
	}
	kinds := map[string]int{}
	notWritten := map[string]int64{}
	for _, w := range s.warnings {
		kinds[w.kind]++
		if w.kind == source.KindWarningsNotWritten {
			kind := strings.Fields(w.detail)[2]
			notWritten[kind] += sumLeadingInt(w.detail)
		}
	}
	for _, k := range []string{"caplen_exceeds_snaplen", "caplen_exceeds_origlen"} {
		if kinds[k] != source.MaxWarningsPerKind || notWritten[k] != 20 {
			t.Errorf("%s: %d rows, %d not written; want %d and 20", k, kinds[k], notWritten[k], source.MaxWarningsPerKind)
		}
	}
	if kinds[source.KindWarningsNotWritten] != len(notWritten) || sum.Warnings != int64(len(s.warnings)) {
		t.Errorf("warnings by kind %v; summary %d rows, %d not written", kinds, sum.Warnings, sum.WarningsNotWritten)
	}
	var total int64
	for _, n := range notWritten {
		total += n
	}
	if sum.WarningsNotWritten != total {
		t.Errorf("Summary.WarningsNotWritten %d, rows say %d", sum.WarningsNotWritten, total)
	}
}
