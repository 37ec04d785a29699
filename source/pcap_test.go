package source

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/pcaptest"
)

// readAll reads every record of a capture, copying the data, and returns the
// error that stopped reading (io.EOF at a clean end).
func readAll(t testing.TB, rd Reader) ([]Record, error) {
	t.Helper()
	var out []Record
	var r Record
	for n := 0; ; n++ {
		err := rd.Next(&r)
		if err != nil {
			if len(r.Data) != 0 {
				t.Errorf("Next returned %v and %d bytes of data, want none", err, len(r.Data))
			}
			// Errors are sticky.
			r.Data = append(r.Data, 1)
			if err2 := rd.Next(&r); err2 != err || len(r.Data) != 0 {
				t.Errorf("second Next after %v returned %v (%d bytes), want the same error and no data", err, err2, len(r.Data))
			}
			return out, err
		}
		if len(r.Data) != r.CapLen {
			t.Fatalf("record %d: len(Data) %d != CapLen %d", n, len(r.Data), r.CapLen)
		}
		c := r
		c.Data = slices.Clone(r.Data)
		out = append(out, c)
	}
}

func mustReader(t testing.TB, b []byte) Reader {
	t.Helper()
	rd, err := NewReader(bytes.NewReader(b), "test")
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return rd
}

func wantFormatErr(t *testing.T, err, sentinel error, off int64) *FormatError {
	t.Helper()
	var fe *FormatError
	if !errors.As(err, &fe) || !errors.Is(err, sentinel) {
		t.Fatalf("error %v, want a *FormatError wrapping %v", err, sentinel)
	}
	if off >= 0 && fe.Offset != off {
		t.Errorf("error offset %d, want %d (%v)", fe.Offset, off, err)
	}
	return fe
}

func hasWarning(ws []Warning, kind string) bool {
	return slices.ContainsFunc(ws, func(w Warning) bool { return w.Kind == kind })
}

func TestPcapVariants(t *testing.T) {
	recs := []pcaptest.Rec{
		{Sec: 1_000_000_000, Frac: 123456, Data: pcaptest.Pkt(60, 1)},
		{Sec: 1_000_000_001, Frac: 999999, Data: pcaptest.Pkt(1514, 2), OrigLen: 1600},
		{Sec: 1_000_000_002, Frac: 0, Data: nil, OrigLen: 10},
	}
	for _, tc := range []struct {
		name   string
		le     bool
		magic  uint32
		format string
		mul    int64
	}{
		{"micro-le", true, pcapMicroBE, "pcap", 1000},
		{"micro-be", false, pcapMicroBE, "pcap", 1000},
		{"nano-le", true, pcapNanoBE, "pcap-ns", 1},
		{"nano-be", false, pcapNanoBE, "pcap-ns", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The magic number written in the file's own byte order reads as
			// the *BE constant in that order.
			b := pcaptest.Pcap(tc.le, tc.magic, 2, 4, 65535, 1, recs...)
			rd := mustReader(t, b)
			if rd.Format() != tc.format {
				t.Errorf("Format %q, want %q", rd.Format(), tc.format)
			}
			got, err := readAll(t, rd)
			if err != io.EOF {
				t.Fatalf("err %v, want io.EOF", err)
			}
			if len(got) != len(recs) {
				t.Fatalf("%d records, want %d", len(got), len(recs))
			}
			off := int64(24)
			for i, r := range got {
				w := recs[i]
				if wantTs := int64(w.Sec)*1e9 + int64(w.Frac)*tc.mul; r.Ts != wantTs {
					t.Errorf("rec %d: Ts %d, want %d", i, r.Ts, wantTs)
				}
				if !bytes.Equal(r.Data, w.Data) || r.Offset != off || r.LinkType != 1 || r.Iface != 0 {
					t.Errorf("rec %d: %+v", i, r)
				}
				if want := max(int(w.OrigLen), len(w.Data)); r.OrigLen != want {
					t.Errorf("rec %d: OrigLen %d, want %d", i, r.OrigLen, want)
				}
				off += 16 + int64(len(w.Data))
			}
			if ws := rd.Warnings(); len(ws) != 0 {
				t.Errorf("warnings %v", ws)
			}
			if !slices.Equal(rd.LinkTypes(), []uint32{1}) {
				t.Errorf("LinkTypes %v", rd.LinkTypes())
			}
		})
	}
}

// Before format 2.3 the caplen and len fields were the other way round;
// libpcap and Wireshark swap them back.
func TestPcapVersion21SwapsLengths(t *testing.T) {
	t.Run("2.3", func(t *testing.T) {
		// Written both ways: swapped back only when caplen > len.
		b := pcaptest.Pcap(false, pcapMicroBE, 2, 3, 1600, 1,
			pcaptest.Rec{CapLen: 100, OrigLen: 1500, Data: pcaptest.Pkt(100, 0)},
			pcaptest.Rec{CapLen: 1500, OrigLen: 100, Data: pcaptest.Pkt(100, 1)})
		got, err := readAll(t, mustReader(t, b))
		if err != io.EOF || len(got) != 2 {
			t.Fatalf("got %d records, err %v", len(got), err)
		}
		for i, r := range got {
			if r.CapLen != 100 || r.OrigLen != 1500 {
				t.Errorf("record %d: CapLen %d OrigLen %d, want 100 1500", i, r.CapLen, r.OrigLen)
			}
		}
	})
	b := pcaptest.Pcap(false, pcapMicroBE, 2, 1, 1600, 1)
	o := pcaptest.Order(false)
	b = o.AppendUint32(b, 1)
	b = o.AppendUint32(b, 2)
	b = o.AppendUint32(b, 1500) // len first in 2.1
	b = o.AppendUint32(b, 100)  // then caplen
	b = append(b, pcaptest.Pkt(100, 0)...)
	got, err := readAll(t, mustReader(t, b))
	if err != io.EOF || len(got) != 1 {
		t.Fatalf("got %d records, err %v", len(got), err)
	}
	if got[0].CapLen != 100 || got[0].OrigLen != 1500 {
		t.Errorf("CapLen %d OrigLen %d, want 100 1500", got[0].CapLen, got[0].OrigLen)
	}
}

// tcpdump-heapoverflow-tcp_print.pcap has 0x30000001 in the link type field.
func TestPcapLinkTypeReservedBits(t *testing.T) {
	b := pcaptest.Pcap(true, pcapMicroBE, 2, 4, 64, 0x30000001, pcaptest.Rec{Data: pcaptest.Pkt(20, 0)})
	rd := mustReader(t, b)
	got, err := readAll(t, rd)
	if err != io.EOF || len(got) != 1 || got[0].LinkType != 1 {
		t.Fatalf("got %+v, err %v", got, err)
	}
	if !hasWarning(rd.Warnings(), "pcap_linktype_reserved_bits") {
		t.Errorf("warnings %v, want pcap_linktype_reserved_bits", rd.Warnings())
	}
	// FCS present bit with a length: no warning, FCS length reported.
	rd = mustReader(t, pcaptest.Pcap(true, pcapMicroBE, 2, 4, 64, 0x24000001))
	if ws := rd.Warnings(); len(ws) != 0 {
		t.Errorf("warnings %v", ws)
	}
	if n := rd.(*pcapReader).FCSLen(); n != 4 {
		t.Errorf("FCSLen %d, want 4", n)
	}
}

func TestPcapDamage(t *testing.T) {
	good := pcaptest.Rec{Sec: 1, Data: pcaptest.Pkt(100, 0)}
	for _, tc := range []struct {
		name     string
		file     []byte
		keep     int
		sentinel error
		off      int64
		detail   string
		warn     string
	}{
		{
			name:     "record too long",
			file:     pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, good, pcaptest.Rec{CapLen: 1409179648, Data: pcaptest.Pkt(50, 0)}),
			keep:     1,
			sentinel: ErrRecordTooLong,
			off:      24 + 116,
			detail:   "1409179648",
		},
		{
			name:     "over 256 KiB with small snaplen",
			file:     pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, good, pcaptest.Rec{Data: pcaptest.Pkt(DefaultRecordLen+1, 0)}),
			keep:     1,
			sentinel: ErrRecordTooLong,
			off:      24 + 116,
		},
		{
			name:     "over hard cap with huge snaplen",
			file:     pcaptest.Pcap(true, pcapMicroBE, 2, 4, 0x7fffffff, 1, good, pcaptest.Rec{CapLen: MaxRecordLen + 1}),
			keep:     1,
			sentinel: ErrRecordTooLong,
			off:      24 + 116,
		},
		{
			name:     "partial record header",
			file:     append(pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, good), 0x01),
			keep:     1,
			sentinel: ErrTruncated,
			off:      24 + 116,
			detail:   "1 of 16",
		},
		{
			name:     "partial record data",
			file:     pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, good, pcaptest.Rec{CapLen: 200, Data: pcaptest.Pkt(50, 0)}),
			keep:     1,
			sentinel: ErrTruncated,
			off:      24 + 116,
			detail:   "50 of 200",
		},
		{
			name:     "truncated file header",
			file:     pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1)[:20],
			sentinel: ErrTruncated,
			off:      0,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd, err := NewReader(bytes.NewReader(tc.file), "x.pcap")
			if err == nil {
				var got []Record
				got, err = readAll(t, rd)
				if len(got) != tc.keep {
					t.Errorf("kept %d records, want %d", len(got), tc.keep)
				}
			}
			fe := wantFormatErr(t, err, tc.sentinel, tc.off)
			if fe.File != "x.pcap" || !strings.Contains(fe.Detail, tc.detail) {
				t.Errorf("error %v, want file x.pcap and %q in the detail", err, tc.detail)
			}
		})
	}
}

// Bigger than 256 KiB is fine when the snaplen says so.
func TestPcapBigRecordWithBigSnaplen(t *testing.T) {
	b := pcaptest.Pcap(true, pcapMicroBE, 2, 4, 1<<20, 1, pcaptest.Rec{Data: pcaptest.Pkt(600<<10, 3)}, pcaptest.Rec{Data: pcaptest.Pkt(1<<20, 4)})
	got, err := readAll(t, mustReader(t, b))
	if err != io.EOF || len(got) != 2 || !bytes.Equal(got[1].Data, pcaptest.Pkt(1<<20, 4)) {
		t.Fatalf("%d records, err %v", len(got), err)
	}
}

// Records that fit the read buffer come as views of it, longer ones through
// the reader's own buffer: mixed, each has its own bytes, and a file cut
// inside either kind keeps what came before.
func TestPcapRecordsAroundReadBuffer(t *testing.T) {
	sizes := []int{60, DefaultBufferSize + 100, 1500, DefaultBufferSize, 0, 3 * DefaultBufferSize, 70}
	var recs []pcaptest.Rec
	for i, n := range sizes {
		recs = append(recs, pcaptest.Rec{Data: pcaptest.Pkt(n, byte(i))})
	}
	b := pcaptest.Pcap(true, pcapMicroBE, 2, 4, 4*DefaultBufferSize, 1, recs...)
	got, err := readAll(t, mustReader(t, b))
	if err != io.EOF || len(got) != len(sizes) {
		t.Fatalf("%d records, err %v", len(got), err)
	}
	for i, n := range sizes {
		if !bytes.Equal(got[i].Data, pcaptest.Pkt(n, byte(i))) {
			t.Errorf("record %d (%d bytes): wrong data", i, n)
		}
	}
	for _, cut := range []int{len(b) - 10, len(b) - 70 - 16 - 3*DefaultBufferSize + 50} {
		got, err := readAll(t, mustReader(t, b[:cut]))
		if !errors.Is(err, ErrTruncated) || len(got) >= len(sizes) {
			t.Errorf("cut at %d: %d records, err %v; want the complete ones and ErrTruncated", cut, len(got), err)
		}
		for i := range got {
			if !bytes.Equal(got[i].Data, pcaptest.Pkt(sizes[i], byte(i))) {
				t.Errorf("cut at %d: record %d: wrong data", cut, i)
			}
		}
	}
}

// Alexey Kuznetzov's format: 8 more bytes after each record header
// (ifindex, protocol, packet type), in both byte orders, as tshark reads
// it (checked by hand: tshark -T fields -e frame.time_epoch -e frame.len).
func TestPcapKuznetzov(t *testing.T) {
	for _, le := range []bool{true, false} {
		o := pcaptest.Order(le)
		b := pcaptest.Pcap(le, pcapKuzBE, 2, 4, 65535, 1)
		for i := range 2 {
			b = o.AppendUint32(b, uint32(1_500_000_000+i))
			b = o.AppendUint32(b, uint32(i+1))
			b = o.AppendUint32(b, 60)
			b = o.AppendUint32(b, uint32(60+i))
			b = o.AppendUint32(b, 3)     // ifindex
			b = o.AppendUint16(b, 0x800) // protocol
			b = append(b, 0, 0)          // packet type, padding
			b = append(b, pcaptest.Pkt(60, byte(i))...)
		}
		got, err := readAll(t, mustReader(t, b))
		if err != io.EOF || len(got) != 2 {
			t.Fatalf("le %v: %d records, err %v", le, len(got), err)
		}
		for i, r := range got {
			if r.Ts != int64(1_500_000_000+i)*1e9+int64(i+1)*1e3 || r.CapLen != 60 || r.OrigLen != 60+i || !bytes.Equal(r.Data, pcaptest.Pkt(60, byte(i))) || r.Offset != int64(24+i*84) {
				t.Errorf("le %v: record %d: %+v", le, i, r)
			}
		}
	}
}

// A snaplen of 0 means no snaplen: no record exceeds it.
func TestPcapSnaplenZero(t *testing.T) {
	rd := mustReader(t, pcaptest.Pcap(true, pcapMicroBE, 2, 4, 0, 1, pcaptest.Rec{Data: pcaptest.Pkt(100, 0)}))
	if got, err := readAll(t, rd); err != io.EOF || len(got) != 1 {
		t.Fatalf("%d records, err %v", len(got), err)
	}
	if ws := rd.Warnings(); len(ws) != 0 {
		t.Errorf("warnings %v", ws)
	}
}

// zeek-trunc-hdr.pcap: caplen 8 > snaplen 1. tcpdump and tshark read it.
func TestPcapCaplenOverSnaplenWarns(t *testing.T) {
	b := pcaptest.Pcap(true, pcapMicroBE, 2, 4, 1, 1, pcaptest.Rec{Data: pcaptest.Pkt(8, 0), OrigLen: 78}, pcaptest.Rec{Data: pcaptest.Pkt(4, 0), OrigLen: 2},
		pcaptest.Rec{Data: pcaptest.Pkt(1, 0), OrigLen: 1})
	rd := mustReader(t, b)
	got, err := readAll(t, rd)
	if err != io.EOF || len(got) != 3 || got[0].CapLen != 8 {
		t.Fatalf("got %+v, err %v", got, err)
	}
	// Record.Warned marks the records a warning is about (the pipeline
	// gives those warnings their frame).
	if !got[0].Warned || !got[1].Warned || got[2].Warned {
		t.Errorf("Warned %v %v %v, want true true false", got[0].Warned, got[1].Warned, got[2].Warned)
	}
	ws := rd.Warnings()
	if !hasWarning(ws, "caplen_exceeds_snaplen") || !hasWarning(ws, "caplen_exceeds_origlen") {
		t.Errorf("warnings %v", ws)
	}
	if ws[0].Offset != 24 {
		t.Errorf("warning offset %d, want 24", ws[0].Offset)
	}
}

// A reader keeps the first MaxWarningsPerKind warnings of each kind and
// stands for the rest of each with one warnings_not_written warning.
func TestWarningsBounded(t *testing.T) {
	var recs []pcaptest.Rec
	for range MaxWarningsPerKind + 10 {
		recs = append(recs, pcaptest.Rec{Data: pcaptest.Pkt(8, 0), OrigLen: 4}) // over the snaplen and the original length
	}
	recs = append(recs, pcaptest.Rec{Frac: 1e6, Data: pcaptest.Pkt(1, 0)}) // one bad_timestamp
	rd := mustReader(t, pcaptest.Pcap(true, pcapMicroBE, 2, 4, 1, 1, recs...))
	if _, err := readAll(t, rd); err != io.EOF {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	var notWritten []string
	for _, w := range rd.Warnings() {
		kinds[w.Kind]++
		if w.Kind == KindWarningsNotWritten {
			notWritten = append(notWritten, w.Detail)
		}
	}
	if kinds["caplen_exceeds_snaplen"] != MaxWarningsPerKind || kinds["caplen_exceeds_origlen"] != MaxWarningsPerKind || kinds[KindBadTimestamp] != 1 {
		t.Errorf("warnings by kind %v, want %d of each caplen kind and 1 bad_timestamp", kinds, MaxWarningsPerKind)
	}
	want := []string{
		"10 more caplen_exceeds_origlen warnings not written (the first 1000 of each kind are)",
		"10 more caplen_exceeds_snaplen warnings not written (the first 1000 of each kind are)",
	}
	if !slices.Equal(notWritten, want) {
		t.Errorf("not-written warnings %q, want %q", notWritten, want)
	}
}

func TestNotCapture(t *testing.T) {
	for _, tc := range []struct {
		name, in, detail string
	}{
		{"html", "<html><body>", `3c 68 74 6d ("<htm")`},
		{"empty", "", "empty (0 bytes)"},
		{"short", "ab", `61 62 ("ab"), only 2 bytes`},
		{"pcap version 1", string(pcaptest.Pcap(true, pcapMicroBE, 1, 0, 65535, 1)), "version 1.0"},
		{"pcap version 3", string(pcaptest.Pcap(true, pcapMicroBE, 3, 0, 65535, 1)), "version 3.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tc.in), "f")
			fe := wantFormatErr(t, err, ErrNotCapture, -1)
			if !strings.Contains(fe.Detail, tc.detail) {
				t.Errorf("detail %q, want it to contain %q", fe.Detail, tc.detail)
			}
		})
	}
}

// The per-record path allocates nothing once the Data buffer has grown.
func TestPcapNoAllocs(t *testing.T) {
	var recs []pcaptest.Rec
	for i := range 200 {
		recs = append(recs, pcaptest.Rec{Sec: uint32(i), Data: pcaptest.Pkt(60+i*7, byte(i))})
	}
	b := pcaptest.Pcap(true, pcapMicroBE, 2, 4, 65535, 1, recs...)
	rd := mustReader(t, b)
	var r Record
	r.Data = make([]byte, 0, 65535)
	allocs := testing.AllocsPerRun(150, func() {
		if err := rd.Next(&r); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per record, want 0", allocs)
	}
}

// A short file claiming a big record costs memory for the bytes it holds,
// not for the length it claims.
func TestShortFileClaimingBigRecord(t *testing.T) {
	b := pcaptest.Pcap(true, pcapMicroBE, 2, 4, MaxRecordLen, 1, pcaptest.Rec{CapLen: MaxRecordLen, Data: pcaptest.Pkt(100<<10, 0)})
	rd := mustReader(t, b)
	var r Record
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := rd.Next(&r)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrTruncated) {
		t.Fatalf("err %v, want ErrTruncated", err)
	}
	if n := after.TotalAlloc - before.TotalAlloc; n > 1<<20 {
		t.Errorf("reading 100 KiB of a record claiming %d bytes allocated %d bytes", MaxRecordLen, n)
	}
}
