package ingest

import (
	"encoding/binary"
)

// Builders for small synthetic captures used by the tests, fuzz seeds and
// benchmarks.

func order(le bool) binary.AppendByteOrder {
	if le {
		return binary.LittleEndian
	}
	return binary.BigEndian
}

// pcapRec is one record of a synthetic pcap. CapLen 0 means len(Data).
type pcapRec struct {
	Sec, Frac       uint32
	CapLen, OrigLen uint32
	Data            []byte
}

// buildPcap writes a pcap file header with the given magic (as a number in
// the file's byte order), version, snaplen and link type field, then recs.
func buildPcap(le bool, magic uint32, major, minor uint16, snaplen, linkType uint32, recs ...pcapRec) []byte {
	o := order(le)
	b := o.AppendUint32(nil, magic)
	b = o.AppendUint16(b, major)
	b = o.AppendUint16(b, minor)
	b = o.AppendUint32(b, 0) // thiszone
	b = o.AppendUint32(b, 0) // sigfigs
	b = o.AppendUint32(b, snaplen)
	b = o.AppendUint32(b, linkType)
	for _, r := range recs {
		b = appendPcapRec(b, le, r)
	}
	return b
}

func appendPcapRec(b []byte, le bool, r pcapRec) []byte {
	o := order(le)
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

// ngBuilder writes pcapng blocks.
type ngBuilder struct {
	b  []byte
	le bool
}

func (g *ngBuilder) o() binary.AppendByteOrder { return order(g.le) }

// block appends a block with body padded to 4 bytes.
func (g *ngBuilder) block(typ uint32, body []byte) *ngBuilder {
	for len(body)%4 != 0 {
		body = append(body, 0)
	}
	n := uint32(12 + len(body))
	g.b = g.o().AppendUint32(g.b, typ)
	g.b = g.o().AppendUint32(g.b, n)
	g.b = append(g.b, body...)
	g.b = g.o().AppendUint32(g.b, n)
	return g
}

// shb starts a section in byte order le.
func (g *ngBuilder) shb(le bool) *ngBuilder {
	g.le = le
	o := g.o()
	body := o.AppendUint32(nil, pcapngBOM)
	body = o.AppendUint16(body, 1)
	body = o.AppendUint16(body, 0)
	body = o.AppendUint64(body, ^uint64(0)) // section length unknown
	return g.block(pcapngSHB, body)
}

// opt encodes one option, padded.
func (g *ngBuilder) opt(code uint16, v []byte) []byte {
	o := g.o()
	b := o.AppendUint16(nil, code)
	b = o.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

func (g *ngBuilder) idb(linkType uint16, snaplen uint32, opts ...[]byte) *ngBuilder {
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
	return g.block(pcapngIDB, body)
}

func (g *ngBuilder) epb(ifc uint32, ts uint64, origLen uint32, data []byte) *ngBuilder {
	o := g.o()
	body := o.AppendUint32(nil, ifc)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, origLen)
	body = append(body, data...)
	return g.block(pcapngEPB, body)
}

func (g *ngBuilder) pb(ifc uint16, ts uint64, origLen uint32, data []byte) *ngBuilder {
	return g.pbd(ifc, 0, ts, origLen, data)
}

// pbd appends an obsolete packet block with a drop count.
func (g *ngBuilder) pbd(ifc, drops uint16, ts uint64, origLen uint32, data []byte) *ngBuilder {
	o := g.o()
	body := o.AppendUint16(nil, ifc)
	body = o.AppendUint16(body, drops)
	body = o.AppendUint32(body, uint32(ts>>32))
	body = o.AppendUint32(body, uint32(ts))
	body = o.AppendUint32(body, uint32(len(data)))
	body = o.AppendUint32(body, origLen)
	body = append(body, data...)
	return g.block(pcapngPB, body)
}

func (g *ngBuilder) spb(origLen uint32, data []byte) *ngBuilder {
	body := g.o().AppendUint32(nil, origLen)
	body = append(body, data...)
	return g.block(pcapngSPB, body)
}

// pkt returns n bytes of recognisable packet data.
func pkt(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = seed + byte(i)
	}
	return b
}
