// Package pcaptest builds small synthetic captures (pcap and pcapng,
// plain, gzip or zstd) for the tests, fuzz seeds and benchmarks of the
// source and ingest packages. It is for tests only.
package pcaptest

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// pcap magic numbers, as numbers in the file's byte order (Pcap writes
// them in the order it is given).
const (
	MagicMicro = 0xa1b2c3d4
	MagicNano  = 0xa1b23c4d
)

// pcapng block types and the byte-order magic.
const (
	BlockSHB = 0x0a0d0d0a
	BlockIDB = 0x00000001
	BlockPB  = 0x00000002
	BlockSPB = 0x00000003
	BlockEPB = 0x00000006
	BOM      = 0x1a2b3c4d
)

// Order is the byte order: little-endian when le.
func Order(le bool) binary.AppendByteOrder {
	if le {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

// Rec is one record of a synthetic pcap. CapLen 0 means len(Data).
type Rec struct {
	Sec, Frac       uint32
	CapLen, OrigLen uint32
	Data            []byte
}

// Pcap writes a pcap file header with the given magic (as a number in
// the file's byte order), version, snaplen and link type field, then recs.
func Pcap(le bool, magic uint32, major, minor uint16, snaplen, linkType uint32, recs ...Rec) []byte {
	o := Order(le)
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, major)
	b = o.AppendUint16(b, minor)
	b = o.AppendUint32(b, 0) // thiszone
	b = o.AppendUint32(b, 0) // sigfigs
	b = o.AppendUint32(b, snaplen)
	b = o.AppendUint32(b, linkType)
	for _, r := range recs {
		b = AppendRec(b, le, r)
	}
	return b
}

// AppendRec appends one pcap record header and its data.
func AppendRec(b []byte, le bool, r Rec) []byte {
	o := Order(le)
	caplen := r.CapLen
	if caplen == 0 {
		caplen = uint32(len(r.Data))
	}
	orig := r.OrigLen
	if orig == 0 {
		orig = uint32(len(r.Data))
	}
	b = o.AppendUint32(b, r.Sec)
	b = o.AppendUint32(b, r.Frac)
	b = o.AppendUint32(b, caplen)
	b = o.AppendUint32(b, orig)
	return append(b, r.Data...)
}

// NG writes pcapng blocks: B is the capture so far, LE the byte order of
// the section being written (set by SHB).
type NG struct {
	B  []byte
	LE bool
}

func (g *NG) o() binary.AppendByteOrder { return Order(g.LE) }

// Block appends a block with body padded to 4 bytes.
func (g *NG) Block(typ uint32, body []byte) *NG {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	g.B = g.o().AppendUint32(g.B, typ)
	g.B = g.o().AppendUint32(g.B, n)
	g.B = append(g.B, body...)
	g.B = g.o().AppendUint32(g.B, n)
	return g
}

// SHB starts a section in byte order le.
func (g *NG) SHB(le bool) *NG {
	g.LE = le
	o := g.o()
	body := o.AppendUint32(nil, BOM)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, ^uint64(0)) // section length unknown
	return g.Block(BlockSHB, body)
}

// Opt encodes one option, padded.
func (g *NG) Opt(code uint16, v []byte) []byte {
	o := g.o()
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// IDB appends an interface description with the given options (from Opt).
func (g *NG) IDB(linkType uint16, snaplen uint32, opts ...[]byte) *NG {
	o := g.o()
	body := o.AppendUint16(nil, linkType)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint32(body, snaplen)
	for _, op := range opts {
		body = append(body, op...)
	}
	if len(opts) > 0 {
		body = append(body, 0, 0, 0, 0) // opt_endofopt
	}
	return g.Block(BlockIDB, body)
}

// EPB appends an enhanced packet block.
func (g *NG) EPB(ifc uint32, ts uint64, origLen uint32, data []byte) *NG {
	o := g.o()
	body := o.AppendUint32(nil, ifc)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, origLen)
	body = append(body, data...)
	return g.Block(BlockEPB, body)
}

// PB appends an obsolete packet block.
func (g *NG) PB(ifc uint16, ts uint64, origLen uint32, data []byte) *NG {
	return g.PBD(ifc, 0, ts, origLen, data)
}

// PBD appends an obsolete packet block with a drop count.
func (g *NG) PBD(ifc, drops uint16, ts uint64, origLen uint32, data []byte) *NG {
	o := g.o()
	body := o.AppendUint16(nil, ifc)
	body = o.AppendUint16(body, drops)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, origLen)
	body = append(body, data...)
	return g.Block(BlockPB, body)
}

// SPB appends a simple packet block.
func (g *NG) SPB(origLen uint32, data []byte) *NG {
	body := g.o().AppendUint32(nil, origLen)
	body = append(body, data...)
	return g.Block(BlockSPB, body)
}

// Pkt returns n bytes of recognisable packet data.
func Pkt(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}

// Gzip compresses b.
func Gzip(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// Zstd compresses b.
func Zstd(t testing.TB, b []byte) []byte {
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer zw.Close()
	return zw.EncodeAll(b, nil)
}

// BadTs is a capture with time fields that are no time, beside good
// ones: Want[i] is record i's time in ns, or -1 for no time (NoTs and a
// bad_timestamp warning).
type BadTs struct {
	Name string
	File []byte
	Want []int64
}

// pcapng option codes of an interface description.
const (
	OptTsResol  = 9
	OptTsOffset = 14
)

// BadTimestamps returns the crafted captures with bad time fields: pcap
// (microseconds and nanoseconds) and pcapng with several resolutions and
// an offset.
func BadTimestamps() []BadTs {
	le := Order(true)
	g := &NG{}
	g.SHB(true)
	g.IDB(1, 0, g.Opt(OptTsResol, []byte{9}))    // if 0: ns
	g.IDB(1, 0, g.Opt(OptTsResol, []byte{0}))    // if 1: seconds
	g.IDB(1, 0)                                  // if 2: us
	g.IDB(1, 0, g.Opt(OptTsResol, []byte{0x80})) // if 3: 2^-0 s (power of two, exponent 0)
	g.IDB(1, 0, g.Opt(OptTsResol, []byte{9}), g.Opt(OptTsOffset, le.AppendUint64(nil, 10_000_000_000)))
	g.IDB(1, 0, g.Opt(OptTsResol, []byte{0x80 | 32})) // if 5: 2^-32 s
	d := Pkt(60, 0)
	g.EPB(0, 1_500_000_000_123456789, 60, d)
	g.EPB(0, 1<<63+5, 60, d) // 2262
	g.EPB(0, 1<<64-1, 60, d) // 2554
	g.EPB(1, 1_500_000_000, 60, d)
	g.EPB(1, 10_000_000_000, 60, d) // 2286
	g.EPB(2, 1<<63, 60, d)
	g.EPB(3, 10_000_000_000, 60, d) // 2286
	g.EPB(4, 5, 60, d)              // 2286 by its offset
	g.EPB(5, 1_700_000_000<<32|1<<31, 60, d)
	g.EPB(5, (1<<32-1)<<32, 60, d) // 2106: fits
	ng := g.B

	return []BadTs{
		{"pcap-us", Pcap(true, MagicMicro, 2, 4, 65535, 1,
			Rec{Sec: 1_500_000_000, Frac: 123456, Data: d},
			Rec{Sec: 1_500_000_000, Frac: 1234567, Data: d},
			Rec{Sec: 1_500_000_000, Frac: 1<<32 - 1, Data: d},
			Rec{Sec: 1_500_000_001, Frac: 999999, Data: d}),
			[]int64{1_500_000_000_123456000, -1, -1, 1_500_000_001_999999000}},
		{"pcap-ns", Pcap(false, MagicNano, 2, 4, 65535, 1,
			Rec{Sec: 1_500_000_000, Frac: 123456789, Data: d},
			Rec{Sec: 1_500_000_000, Frac: 1_234_567_890, Data: d},
			Rec{Sec: 1<<32 - 1, Frac: 999999999, Data: d}),
			[]int64{1_500_000_000_123456789, -1, 4_294_967_295_999999999}},
		{"pcapng", ng, []int64{1_500_000_000_123456789, -1, -1, 1_500_000_000_000000000, -1, -1, -1, -1,
			1_700_000_000_500000000, 4_294_967_295_000000000}},
	}
}

// ObsoletePB is a pcapng capture with obsolete packet blocks (type 2) on interfaces 1, 2
// and 0 of three, with non-zero drop counts: the drop count is the 16 bits
// after the 16-bit interface id, so a reader that took the interface as 32
// bits would see another interface (or fail) in either byte order.
func ObsoletePB(le bool) []byte {
	g := &NG{}
	g.SHB(le)
	g.IDB(1, 0)                                 // if 0: Ethernet, microseconds
	g.IDB(101, 0, g.Opt(OptTsResol, []byte{9})) // if 1: raw IP, nanoseconds
	g.IDB(0, 0)                                 // if 2: NULL, microseconds
	g.PBD(1, 0x0203, 1_500_000_000_123456789, 70, Pkt(70, 2))
	g.PBD(2, 7, 1_500_000_000_123456, 33, Pkt(33, 3))
	g.PBD(0, 0xffff, 1_500_000_001_000000, 60, Pkt(60, 4))
	return g.B
}
