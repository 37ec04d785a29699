package source

import (
	"bytes"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/internal/testenv"
)

// Two sections in different byte orders, each with its own interfaces;
// timestamp resolutions in both forms and an offset; EPB, SPB and the
// obsolete PB; blocks to skip in between.
func TestPcapngSections(t *testing.T) {
	g := &pcaptest.NG{}
	g.SHB(true)
	g.IDB(1, 0)                                       // if 0: Ethernet, microseconds
	g.IDB(101, 0, g.Opt(optTsResol, []byte{9}))       // if 1: raw IP, nanoseconds
	g.IDB(0, 0, g.Opt(optTsResol, []byte{0x80 | 10}), // if 2: NULL, 2^-10 s
		g.Opt(optTsOffset, binary.LittleEndian.AppendUint64(nil, 100)))
	g.EPB(0, 1_500_000_000_123456, 1000, pcaptest.Pkt(60, 1))
	g.Block(4, []byte{0, 0, 0, 0}) // NRB
	g.EPB(1, 1_500_000_000_123456789, 70, pcaptest.Pkt(70, 2))
	g.Block(0x0bad, pcaptest.Pkt(13, 0))          // custom
	g.Block(0x12345678, nil)                      // unknown
	g.EPB(2, 3*1024+512, 33, pcaptest.Pkt(33, 3)) // 3.5 s + 100 s offset
	g.PB(1, 42, 7, pcaptest.Pkt(7, 4))
	g.Block(5, pcaptest.Pkt(20, 0)) // ISB
	g.SHB(false)
	g.IDB(113, 64) // if 0 of section 2: SLL, snaplen 64
	g.SPB(100, pcaptest.Pkt(100, 5))
	g.SPB(10, pcaptest.Pkt(10, 6))
	g.EPB(0, 7, 3, pcaptest.Pkt(3, 7))
	file := g.B

	type want struct {
		ts       int64
		caplen   int
		origlen  int
		iface    int
		linkType uint32
	}
	wants := []want{
		{1_500_000_000_123456 * 1000, 60, 1000, 0, 1},
		{1_500_000_000_123456789, 70, 70, 1, 101},
		{103_500_000_000, 33, 33, 2, 0},
		{42, 7, 7, 1, 101},
		{0, 64, 100, 0, 113}, // SPB: min(origlen, snaplen)
		{0, 10, 10, 0, 113},
		{7000, 3, 3, 0, 113},
	}
	rd := mustReader(t, file)
	if rd.Format() != "pcapng" {
		t.Errorf("Format %q", rd.Format())
	}
	got, err := readAll(t, rd)
	if err != io.EOF {
		t.Fatalf("err %v", err)
	}
	if len(got) != len(wants) {
		t.Fatalf("%d records, want %d", len(got), len(wants))
	}
	for i, r := range got {
		w := wants[i]
		if r.Ts != w.ts || r.CapLen != w.caplen || r.OrigLen != w.origlen || r.Iface != w.iface || r.LinkType != w.linkType {
			t.Errorf("rec %d: got ts %d cap %d orig %d if %d lt %d, want %+v", i, r.Ts, r.CapLen, r.OrigLen, r.Iface, r.LinkType, w)
		}
		// The offset is the block start: check the block type there.
		typ := binary.LittleEndian.Uint32(file[r.Offset:])
		if i >= 4 {
			typ = binary.BigEndian.Uint32(file[r.Offset:])
		}
		if typ != pcapngEPB && typ != pcapngSPB && typ != pcapngPB {
			t.Errorf("rec %d: block type 0x%x at offset %d", i, typ, r.Offset)
		}
	}
	if !bytes.Equal(got[4].Data, pcaptest.Pkt(64, 5)) {
		t.Errorf("SPB data not truncated to the snaplen")
	}
	if lt := rd.LinkTypes(); !slices.Equal(lt, []uint32{1, 101, 0, 113}) {
		t.Errorf("LinkTypes %v", lt)
	}
	if n := rd.(*pcapngReader).Sections(); n != 2 {
		t.Errorf("Sections %d", n)
	}
	if ws := rd.Warnings(); len(ws) != 0 {
		t.Errorf("warnings %v", ws)
	}
}

func TestPcapngTsResolution(t *testing.T) {
	const never = -1 // not a time: ok is false
	for _, tc := range []struct {
		pow2   bool
		res    uint8
		offset int64
		units  uint64
		want   int64
	}{
		{false, 6, 0, 5, 5000},
		{false, 9, 0, 5, 5},
		{false, 0, 0, 5, 5e9},
		{false, 12, 0, 5000, 5},
		{false, 27, 0, 1<<64 - 1, 18},
		{false, 28, 0, 1<<64 - 1, 1}, // 10^-28 s: the last power of ten a uint64 holds
		{false, 28, 0, 1 << 63, 0},
		{false, 29, 0, 1<<64 - 1, 0}, // every count under a nanosecond
		{false, 127, 0, 5000, 0},
		{true, 0, 0, 3, 3e9},
		{true, 1, 0, 3, 1_500_000_000},
		{true, 30, 0, 1 << 30, 1e9},
		{true, 64, 0, 1 << 63, 500_000_000},
		{true, 127, 0, 1<<64 - 1, 0},
		{true, 32, 0, 1_700_000_000<<32 | 1<<31, 1_700_000_000_500_000_000}, // the product needs more than 64 bits
		{true, 32, 0, 1<<64 - 1, 4_294_967_295_999_999_999},                 // 2106: still fits
		{false, 9, 100, 5, 100_000_000_005},
		{false, 9, -100, 5, -99_999_999_995},
		// Past what int64 nanoseconds hold (2262-04-11T23:47:16.854775807Z).
		{false, 9, 0, math.MaxInt64, math.MaxInt64},
		{false, 9, 0, math.MaxInt64 + 1, never},
		{false, 9, 0, 1<<64 - 1, never},
		{false, 6, 0, math.MaxInt64/1000 + 1, never},
		{false, 0, 0, 10_000_000_000, never}, // 2286 in seconds
		{true, 0, 0, 10_000_000_000, never},
		{true, 0, 0, 1 << 62, never},    // the product needs more than 64 bits
		{true, 1, 0, 1 << 63, never},    // the product shifted still needs more than 64
		{true, 30, 0, 1<<64 - 1, never}, // 2^34 s
		{false, 9, 1, math.MaxInt64, never},
		{false, 9, 10_000_000_000, 5, never}, // if_tsoffset alone past 2262
		{false, 9, -10_000_000_000, 5, never},
	} {
		f := iface{pow2: tc.pow2, res: tc.res, tsOffset: tc.offset}
		got, ok := f.ns(tc.units)
		if tc.want == never {
			if ok {
				t.Errorf("pow2 %v res %d offset %d units %d: %d ns, want not a time", tc.pow2, tc.res, tc.offset, tc.units, got)
			}
			continue
		}
		if !ok || got != tc.want {
			t.Errorf("pow2 %v res %d offset %d units %d: %d ns (ok %v), want %d", tc.pow2, tc.res, tc.offset, tc.units, got, ok, tc.want)
		}
	}
}

func TestPcapngDamage(t *testing.T) {
	base := func() *pcaptest.NG {
		g := &pcaptest.NG{}
		g.SHB(true).IDB(1, 0).EPB(0, 1, 60, pcaptest.Pkt(60, 0))
		return g
	}
	good := len(base().B)
	le := binary.LittleEndian
	for _, tc := range []struct {
		name     string
		file     []byte
		keep     int
		sentinel error
		off      int64
	}{
		{"block too long", le.AppendUint32(le.AppendUint32(base().B, pcapngEPB), 1<<30), 1, ErrRecordTooLong, int64(good)},
		{"block length too small", le.AppendUint32(le.AppendUint32(base().B, 0x99), 8), 1, ErrBadBlock, int64(good)},
		{"block length not multiple of 4", le.AppendUint32(le.AppendUint32(base().B, 0x99), 13), 1, ErrBadBlock, int64(good)},
		{"block length even, not multiple of 4", le.AppendUint32(le.AppendUint32(base().B, 0x99), 14), 1, ErrBadBlock, int64(good)},
		{"partial block header", append(base().B, 6, 0, 0), 1, ErrTruncated, int64(good)},
		{"truncated block", base().EPB(0, 2, 100, pcaptest.Pkt(100, 0)).B[:good+50], 1, ErrTruncated, int64(good)},
		{"trailer mismatch", func() []byte { b := base().B; b[len(b)-1] = 1; return b }(), 0, ErrBadBlock, int64(good - 92)},
		{"interface out of range", base().EPB(1, 2, 10, pcaptest.Pkt(10, 0)).B, 1, ErrBadBlock, int64(good)},
		{"caplen beyond block", func() []byte {
			b := base().EPB(0, 2, 10, pcaptest.Pkt(10, 0)).B
			le.PutUint32(b[good+20:], 1000)
			return b
		}(), 1, ErrBadBlock, int64(good)},
		{"caplen reaching into the trailer", func() []byte {
			b := base().EPB(0, 2, 12, pcaptest.Pkt(12, 0)).B
			le.PutUint32(b[good+20:], 16) // the 12 data bytes and the trailing length
			return b
		}(), 1, ErrBadBlock, int64(good)},
		{"interface block trailer mismatch", func() []byte {
			b := base().IDB(1, 0).B
			b[len(b)-4] = 0x99
			return b
		}(), 1, ErrBadBlock, int64(good)},
		{"second section of pcapng version 2", func() []byte {
			b := append(base().B, (&pcaptest.NG{}).SHB(true).B...)
			le.PutUint16(b[good+12:], 2)
			return b
		}(), 1, ErrBadBlock, int64(good)},
		{"SPB before IDB", (&pcaptest.NG{}).SHB(true).SPB(4, pcaptest.Pkt(4, 0)).B, 0, ErrBadBlock, 28},
		{"partial second section header", append(base().B, (&pcaptest.NG{}).SHB(true).B[:8]...), 1, ErrTruncated, int64(good)},
		{"bad byte-order magic", func() []byte {
			b := append(base().B, (&pcaptest.NG{}).SHB(true).B...)
			le.PutUint32(b[good+8:], 0xdeadbeef)
			return b
		}(), 1, ErrBadBlock, int64(good + 8)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rd := mustReader(t, tc.file)
			got, err := readAll(t, rd)
			if len(got) != tc.keep {
				t.Errorf("kept %d records, want %d", len(got), tc.keep)
			}
			wantFormatErr(t, err, tc.sentinel, tc.off)
		})
	}
}

func TestPcapngBadOptionWarns(t *testing.T) {
	g := &pcaptest.NG{}
	g.SHB(true)
	body := le16(nil, 1)
	body = le16(body, 0)
	body = binary.LittleEndian.AppendUint32(body, 0)
	body = le16(body, optTsResol)
	body = le16(body, 200) // longer than the block
	g.Block(pcapngIDB, body)
	g.EPB(0, 1, 4, pcaptest.Pkt(4, 0))
	rd := mustReader(t, g.B)
	got, err := readAll(t, rd)
	if err != io.EOF || len(got) != 1 || got[0].Ts != 1000 {
		t.Fatalf("got %+v err %v", got, err)
	}
	if !hasWarning(rd.Warnings(), "pcapng_bad_option") {
		t.Errorf("warnings %v", rd.Warnings())
	}
}

func le16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

func TestPcapngNoAllocs(t *testing.T) {
	g := &pcaptest.NG{}
	g.SHB(true).IDB(1, 0)
	for i := range 200 {
		g.EPB(0, uint64(i), 1500, pcaptest.Pkt(60+i*7, byte(i)))
	}
	rd := mustReader(t, g.B)
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

// Obsolete packet blocks name their interface in 16 bits: each record
// gets the interface, link type and time resolution of the interface it
// names, as tshark reads them (frame.interface_id, frame.time_epoch; run
// when tshark is installed).
func TestPcapngObsoletePacketBlock(t *testing.T) {
	type want struct {
		iface    int
		linkType uint32
		ts       int64
		caplen   int
	}
	wants := []want{
		{1, 101, 1_500_000_000_123456789, 70},
		{2, 0, 1_500_000_000_123456000, 33},
		{0, 1, 1_500_000_001_000000000, 60},
	}
	for _, le := range []bool{true, false} {
		name := "big-endian"
		if le {
			name = "little-endian"
		}
		t.Run(name, func(t *testing.T) {
			file := pcaptest.ObsoletePB(le)
			got, err := readAll(t, mustReader(t, file))
			if err != io.EOF {
				t.Fatalf("err %v", err)
			}
			if len(got) != len(wants) {
				t.Fatalf("%d records, want %d", len(got), len(wants))
			}
			for i, r := range got {
				w := wants[i]
				if r.Iface != w.iface || r.LinkType != w.linkType || r.Ts != w.ts || r.CapLen != w.caplen {
					t.Errorf("record %d: iface %d link type %d ts %d caplen %d, want %+v", i, r.Iface, r.LinkType, r.Ts, r.CapLen, w)
				}
			}
			testenv.Tool(t, "tshark")
			path := filepath.Join(t.TempDir(), "pb.pcapng")
			if err := os.WriteFile(path, file, 0o644); err != nil {
				t.Fatal(err)
			}
			ts, stderr := runTshark(t, path)
			if len(ts) != len(got) {
				t.Fatalf("tshark reads %d frames, we %d (%s)", len(ts), len(got), stderr)
			}
			for i, w := range ts {
				r := got[i]
				if r.Iface != w.iface || r.Ts != w.ts || r.CapLen != w.caplen || r.OrigLen != w.origlen {
					t.Errorf("frame %d: iface %d ts %d cap %d len %d; tshark iface %d ts %d cap %d len %d",
						w.frame, r.Iface, r.Ts, r.CapLen, r.OrigLen, w.iface, w.ts, w.caplen, w.origlen)
				}
			}
		})
	}
}

// Interface options of the wrong length, or longer than the block, are
// warned about and ignored: the interface keeps microseconds.
func TestPcapngBadOptionLengths(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts []byte
	}{
		{"if_tsresol of 2 bytes", (&pcaptest.NG{LE: true}).Opt(optTsResol, []byte{9, 0})},
		{"if_tsoffset of 4 bytes", (&pcaptest.NG{LE: true}).Opt(optTsOffset, []byte{1, 0, 0, 0})},
		// An option header at the end of the block claiming one byte.
		{"option one byte over the block", le16(le16(nil, optTsResol), 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := &pcaptest.NG{}
			g.SHB(true)
			body := le16(nil, 1)
			body = le16(body, 0)
			body = binary.LittleEndian.AppendUint32(body, 0)
			g.Block(pcapngIDB, append(body, tc.opts...))
			g.EPB(0, 7, 4, pcaptest.Pkt(4, 0))
			rd := mustReader(t, g.B)
			got, err := readAll(t, rd)
			if err != io.EOF || len(got) != 1 || got[0].Ts != 7000 {
				t.Fatalf("got %+v err %v, want one record at 7000 ns (microseconds)", got, err)
			}
			if !hasWarning(rd.Warnings(), "pcapng_bad_option") {
				t.Errorf("warnings %v, want pcapng_bad_option", rd.Warnings())
			}
		})
	}
}

// A simple packet block holds min(original length, snaplen) bytes, padded
// to 4. One that holds fewer than its original length on an interface
// without a snaplen is read for the bytes it holds (Wireshark calls the
// file damaged there; the bytes are kept rather than dropped).
func TestPcapngSimplePacketLengths(t *testing.T) {
	g := &pcaptest.NG{}
	g.SHB(true).IDB(1, 0)
	g.SPB(58, pcaptest.Pkt(60, 1))  // 58 bytes and 2 of padding
	g.SPB(100, pcaptest.Pkt(60, 2)) // 60 of 100 bytes
	got, err := readAll(t, mustReader(t, g.B))
	if err != io.EOF || len(got) != 2 {
		t.Fatalf("%d records, err %v", len(got), err)
	}
	if got[0].CapLen != 58 || got[0].OrigLen != 58 || !bytes.Equal(got[0].Data, pcaptest.Pkt(58, 1)) {
		t.Errorf("padded block: cap %d orig %d", got[0].CapLen, got[0].OrigLen)
	}
	if got[1].CapLen != 60 || got[1].OrigLen != 100 || !bytes.Equal(got[1].Data, pcaptest.Pkt(60, 2)) {
		t.Errorf("short block: cap %d orig %d", got[1].CapLen, got[1].OrigLen)
	}
}
