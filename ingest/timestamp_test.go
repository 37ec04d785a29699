package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"testing"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/source"
)

// The readers' tests of bad time fields are in source/timestamp_test.go.

// Through the pipeline, a record without a time has a NULL packets.ts; the
// capture's first and last times are those of the records with one.
func TestBadTimestampsNullInPackets(t *testing.T) {
	for _, tc := range pcaptest.BadTimestamps() {
		t.Run(tc.Name, func(t *testing.T) {
			s := newCheckSink()
			sum, err := Run(context.Background(), mustReader(t, tc.File), 1, s, DefaultOptions())
			if err != nil || s.err != nil {
				t.Fatal(err, s.err)
			}
			var null, timed int64
			first, last := int64(math.MaxInt64), int64(math.MinInt64)
			for _, w := range tc.Want {
				if w < 0 {
					null++
					continue
				}
				timed++
				first, last = min(first, w), max(last, w)
			}
			if s.tsNull != null || sum.Timed != timed || sum.Packets != int64(len(tc.Want)) {
				t.Errorf("%d NULL ts of %d packets, %d timed; want %d NULL, %d timed", s.tsNull, sum.Packets, sum.Timed, null, timed)
			}
			if sum.FirstTs != first || sum.LastTs != last {
				t.Errorf("first %d last %d, want %d %d", sum.FirstTs, sum.LastTs, first, last)
			}
			n := 0
			for _, w := range s.warnings {
				if w.kind == source.KindBadTimestamp {
					n++
				}
			}
			if int64(n) != null {
				t.Errorf("%d bad_timestamp warnings rows, want %d", n, null)
			}
		})
	}
	// Simple packet blocks carry no time: NULL, without a warning.
	g := &pcaptest.NG{}
	g.SHB(true).IDB(1, 0).SPB(60, pcaptest.Pkt(60, 0)).EPB(0, 5, 60, pcaptest.Pkt(60, 1)).SPB(60, pcaptest.Pkt(60, 2))
	s := newCheckSink()
	sum, err := Run(context.Background(), mustReader(t, g.B), 1, s, DefaultOptions())
	if err != nil || s.err != nil {
		t.Fatal(err, s.err)
	}
	if s.tsNull != 2 || sum.Timed != 1 || sum.FirstTs != 5000 || sum.LastTs != 5000 || len(s.warnings) != 0 {
		t.Errorf("simple packet blocks: %d NULL ts, %d timed, first %d last %d, warnings %v", s.tsNull, sum.Timed, sum.FirstTs, sum.LastTs, s.warnings)
	}
}

// A record without a time is tracked at the time of the record before it:
// no flow, event or HTTP time falls outside the capture's times.
func TestBadTimestampCarried(t *testing.T) {
	file, err := os.ReadFile("../testdata/http-chunked.pcap")
	if err != nil {
		t.Fatal(err)
	}
	file = bytes.Clone(file)
	// Spoil the microseconds of records 3 and 7 (little-endian file).
	off := 24
	for i := 1; off+16 <= len(file); i++ {
		caplen := int(binary.LittleEndian.Uint32(file[off+8:]))
		if i == 3 || i == 7 {
			binary.LittleEndian.PutUint32(file[off+4:], 1_000_000)
		}
		off += 16 + caplen
	}
	s := newCheckSink()
	sum, err := Run(context.Background(), mustReader(t, file), 1, s, DefaultOptions())
	if err != nil || s.err != nil {
		t.Fatal(err, s.err)
	}
	if s.tsNull != 2 || sum.Flows == 0 || sum.HTTP == 0 {
		t.Fatalf("%d NULL ts, %d flows, %d HTTP rows", s.tsNull, sum.Flows, sum.HTTP)
	}
	if s.minTs < sum.FirstTs || s.maxTs > sum.LastTs {
		t.Errorf("flow, event or HTTP times from %d to %d, outside the capture's %d to %d", s.minTs, s.maxTs, sum.FirstTs, sum.LastTs)
	}
}
