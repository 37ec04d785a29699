package ingest

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
)

// badTimestampCaptures are crafted captures with time fields that are no
// time, each beside good ones: want[i] is record i's time in ns, or -1 for
// no time (NoTs and a bad_timestamp warning).
func badTimestampCaptures() []struct {
	name string
	file []byte
	want []int64
} {
	le := order(true)
	g := &ngBuilder{}
	g.shb(true)
	g.idb(1, 0, g.opt(optTsResol, []byte{9}))    // if 0: ns
	g.idb(1, 0, g.opt(optTsResol, []byte{0}))    // if 1: seconds
	g.idb(1, 0)                                  // if 2: us
	g.idb(1, 0, g.opt(optTsResol, []byte{0x80})) // if 3: 2^-0 s (power of two, exponent 0)
	g.idb(1, 0, g.opt(optTsResol, []byte{9}), g.opt(optTsOffset, le.AppendUint64(nil, 10_000_000_000)))
	g.idb(1, 0, g.opt(optTsResol, []byte{0x80 | 32})) // if 5: 2^-32 s
	d := pkt(60, 0)
	g.epb(0, 1_500_000_000_123456789, 60, d)
	g.epb(0, 1<<63+5, 60, d) // 2262
	g.epb(0, 1<<64-1, 60, d) // 2554
	g.epb(1, 1_500_000_000, 60, d)
	g.epb(1, 10_000_000_000, 60, d) // 2286
	g.epb(2, 1<<63, 60, d)
	g.epb(3, 10_000_000_000, 60, d) // 2286
	g.epb(4, 5, 60, d)              // 2286 by its offset
	g.epb(5, 1_700_000_000<<32|1<<31, 60, d)
	g.epb(5, (1<<32-1)<<32, 60, d) // 2106: fits
	ng := g.b

	return []struct {
		name string
		file []byte
		want []int64
	}{
		{"pcap-us", buildPcap(true, pcapMicroBE, 2, 4, 65535, 1,
			pcapRec{Sec: 1_500_000_000, Frac: 123456, Data: d},
			pcapRec{Sec: 1_500_000_000, Frac: 1234567, Data: d},
			pcapRec{Sec: 1_500_000_000, Frac: 1<<32 - 1, Data: d},
			pcapRec{Sec: 1_500_000_001, Frac: 999999, Data: d}),
			[]int64{1_500_000_000_123456000, -1, -1, 1_500_000_001_999999000}},
		{"pcap-ns", buildPcap(false, pcapNanoBE, 2, 4, 65535, 1,
			pcapRec{Sec: 1_500_000_000, Frac: 123456789, Data: d},
			pcapRec{Sec: 1_500_000_000, Frac: 1_234_567_890, Data: d},
			pcapRec{Sec: 1<<32 - 1, Frac: 999999999, Data: d}),
			[]int64{1_500_000_000_123456789, -1, 4_294_967_295_999999999}},
		{"pcapng", ng, []int64{1_500_000_000_123456789, -1, -1, 1_500_000_000_000000000, -1, -1, -1, -1,
			1_700_000_000_500000000, 4_294_967_295_000000000}},
	}
}

// Time fields that are no time (a pcap fraction over a second, a pcapng
// time past 2262, what int64 nanoseconds hold) give records without a
// time and a bad_timestamp warning at the record's offset, never a wrapped
// or carried-over time. Where the time is a time, it is tshark's
// frame.time_epoch; where it is not, tshark prints a fraction of more than
// nine digits or a time past 2262 (checked when tshark is installed).
func TestBadTimestamps(t *testing.T) {
	for _, tc := range badTimestampCaptures() {
		t.Run(tc.name, func(t *testing.T) {
			rd := mustReader(t, tc.file)
			got, err := readAll(t, rd)
			if err != io.EOF || len(got) != len(tc.want) {
				t.Fatalf("%d records, err %v", len(got), err)
			}
			var bad []int64
			for i, r := range got {
				if tc.want[i] < 0 {
					bad = append(bad, r.Offset)
					if !r.NoTs || r.Ts != 0 {
						t.Errorf("record %d: NoTs %v Ts %d, want no time", i, r.NoTs, r.Ts)
					}
				} else if r.NoTs || r.Ts != tc.want[i] {
					t.Errorf("record %d: NoTs %v Ts %d, want %d", i, r.NoTs, r.Ts, tc.want[i])
				}
			}
			var warned []int64
			for _, w := range rd.Warnings() {
				if w.Kind != KindBadTimestamp {
					t.Errorf("warning %+v", w)
				}
				warned = append(warned, w.Offset)
			}
			if !slices.Equal(warned, bad) {
				t.Errorf("bad_timestamp warnings at offsets %v, want one at each record without a time %v", warned, bad)
			}

			testenv.Tool(t, "tshark")
			path := filepath.Join(t.TempDir(), "ts")
			if err := os.WriteFile(path, tc.file, 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := exec.Command("tshark", "-n", "-r", path, "-T", "fields", "-e", "frame.time_epoch").Output()
			if err != nil {
				t.Fatalf("tshark: %v", err)
			}
			lines := strings.Fields(string(out))
			if len(lines) != len(got) {
				t.Fatalf("tshark prints %d times, want %d", len(lines), len(got))
			}
			for i, s := range lines {
				sec, frac, _ := strings.Cut(s, ".")
				n, err := strconv.ParseInt(sec, 10, 64)
				if tc.want[i] >= 0 {
					if w := parseEpochNs(t, s); w != got[i].Ts {
						t.Errorf("record %d: %d ns, tshark %s", i, got[i].Ts, s)
					}
					continue
				}
				if len(frac) <= 9 && err == nil && n >= 0 && n < 9_223_372_036 {
					t.Errorf("record %d has no time here, but tshark reads the time %s", i, s)
				}
			}
		})
	}
}

// Through the pipeline, a record without a time has a NULL packets.ts; the
// capture's first and last times are those of the records with one.
func TestBadTimestampsNullInPackets(t *testing.T) {
	for _, tc := range badTimestampCaptures() {
		t.Run(tc.name, func(t *testing.T) {
			s := newCheckSink()
			sum, err := Run(context.Background(), mustReader(t, tc.file), 1, s, DefaultOptions())
			if err != nil || s.err != nil {
				t.Fatal(err, s.err)
			}
			var null, timed int64
			first, last := int64(math.MaxInt64), int64(math.MinInt64)
			for _, w := range tc.want {
				if w < 0 {
					null++
					continue
				}
				timed++
				first, last = min(first, w), max(last, w)
			}
			if s.tsNull != null || sum.Timed != timed || sum.Packets != int64(len(tc.want)) {
				t.Errorf("%d NULL ts of %d packets, %d timed; want %d NULL, %d timed", s.tsNull, sum.Packets, sum.Timed, null, timed)
			}
			if sum.FirstTs != first || sum.LastTs != last {
				t.Errorf("first %d last %d, want %d %d", sum.FirstTs, sum.LastTs, first, last)
			}
			n := 0
			for _, w := range s.warnings {
				if w.kind == KindBadTimestamp {
					n++
				}
			}
			if int64(n) != null {
				t.Errorf("%d bad_timestamp warnings rows, want %d", n, null)
			}
		})
	}
	// Simple packet blocks carry no time: NULL, without a warning.
	g := &ngBuilder{}
	g.shb(true).idb(1, 0).spb(60, pkt(60, 0)).epb(0, 5, 60, pkt(60, 1)).spb(60, pkt(60, 2))
	s := newCheckSink()
	sum, err := Run(context.Background(), mustReader(t, g.b), 1, s, DefaultOptions())
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
