package ingest

import (
	"bytes"
	"encoding/binary"
	"io"
	"slices"
	"testing"
)

// Two sections in different byte orders, each with its own interfaces;
// timestamp resolutions in both forms and an offset; EPB, SPB and the
// obsolete PB; blocks to skip in between.
func TestPcapngSections(t *testing.T) {
	g := &ngBuilder{}
	g.shb(true)
	g.idb(1, 0)                                       // if 0: Ethernet, microseconds
	g.idb(101, 0, g.opt(optTsResol, []byte{9}))       // if 1: raw IP, nanoseconds
	g.idb(0, 0, g.opt(optTsResol, []byte{0x80 | 10}), // if 2: NULL, 2^-10 s
		g.opt(optTsOffset, binary.LittleEndian.AppendUint64(nil, 100)))
	g.epb(0, 1_500_000_000_123456, 1000, pkt(60, 1))
	g.block(4, []byte{0, 0, 0, 0}) // NRB
	g.epb(1, 1_500_000_000_123456789, 70, pkt(70, 2))
	g.block(0x0bad, pkt(13, 0))          // custom
	g.block(0x12345678, nil)             // unknown
	g.epb(2, 3*1024+512, 33, pkt(33, 3)) // 3.5 s + 100 s offset
	g.pb(1, 42, 7, pkt(7, 4))
	g.block(5, pkt(20, 0)) // ISB
	g.shb(false)
	g.idb(113, 64) // if 0 of section 2: SLL, snaplen 64
	g.spb(100, pkt(100, 5))
	g.spb(10, pkt(10, 6))
	g.epb(0, 7, 3, pkt(3, 7))
	file := g.b

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
	if !bytes.Equal(got[4].Data, pkt(64, 5)) {
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
	for _, tc := range []struct {
		pow2  bool
		res   uint8
		units uint64
		want  int64
	}{
		{false, 6, 5, 5000},
		{false, 9, 5, 5},
		{false, 0, 5, 5e9},
		{false, 12, 5000, 5},
		{false, 127, 5000, 0},
		{true, 0, 3, 3e9},
		{true, 1, 3, 1_500_000_000},
		{true, 30, 1 << 30, 1e9},
		{true, 64, 1 << 63, 500_000_000},
		{true, 127, ^uint64(0), 0},
	} {
		f := iface{pow2: tc.pow2, res: tc.res}
		if got := f.ns(tc.units); got != tc.want {
			t.Errorf("pow2 %v res %d units %d: %d ns, want %d", tc.pow2, tc.res, tc.units, got, tc.want)
		}
	}
}

func TestPcapngDamage(t *testing.T) {
	base := func() *ngBuilder {
		g := &ngBuilder{}
		g.shb(true).idb(1, 0).epb(0, 1, 60, pkt(60, 0))
		return g
	}
	good := len(base().b)
	le := binary.LittleEndian
	for _, tc := range []struct {
		name     string
		file     []byte
		keep     int
		sentinel error
		off      int64
	}{
		{"block too long", le.AppendUint32(le.AppendUint32(base().b, pcapngEPB), 1<<30), 1, ErrRecordTooLong, int64(good)},
		{"block length too small", le.AppendUint32(le.AppendUint32(base().b, 0x99), 8), 1, ErrBadBlock, int64(good)},
		{"block length not multiple of 4", le.AppendUint32(le.AppendUint32(base().b, 0x99), 13), 1, ErrBadBlock, int64(good)},
		{"partial block header", append(base().b, 6, 0, 0), 1, ErrTruncated, int64(good)},
		{"truncated block", base().epb(0, 2, 100, pkt(100, 0)).b[:good+50], 1, ErrTruncated, int64(good)},
		{"trailer mismatch", func() []byte { b := base().b; b[len(b)-1] = 1; return b }(), 0, ErrBadBlock, int64(good - 92)},
		{"interface out of range", base().epb(1, 2, 10, pkt(10, 0)).b, 1, ErrBadBlock, int64(good)},
		{"caplen beyond block", func() []byte {
			b := base().epb(0, 2, 10, pkt(10, 0)).b
			le.PutUint32(b[good+20:], 1000)
			return b
		}(), 1, ErrBadBlock, int64(good)},
		{"SPB before IDB", (&ngBuilder{}).shb(true).spb(4, pkt(4, 0)).b, 0, ErrBadBlock, 28},
		{"partial second section header", append(base().b, (&ngBuilder{}).shb(true).b[:8]...), 1, ErrTruncated, int64(good)},
		{"bad byte-order magic", func() []byte {
			b := append(base().b, (&ngBuilder{}).shb(true).b...)
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
	g := &ngBuilder{}
	g.shb(true)
	body := le16(nil, 1)
	body = le16(body, 0)
	body = binary.LittleEndian.AppendUint32(body, 0)
	body = le16(body, optTsResol)
	body = le16(body, 200) // longer than the block
	g.block(pcapngIDB, body)
	g.epb(0, 1, 4, pkt(4, 0))
	rd := mustReader(t, g.b)
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
	g := &ngBuilder{}
	g.shb(true).idb(1, 0)
	for i := range 200 {
		g.epb(0, uint64(i), 1500, pkt(60+i*7, byte(i)))
	}
	rd := mustReader(t, g.b)
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
