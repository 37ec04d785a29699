package live

import (
	"bufio"
	"encoding/binary"
	"io"
)

// pcapng block types and options written by pcapngWriter (draft-ietf-opsawg-pcapng).
const (
	blockSHB = 0x0A0D0D0A
	blockIDB = 0x00000001
	blockISB = 0x00000005
	blockEPB = 0x00000006

	optEnd         = 0
	shbUserAppl    = 4
	ifName         = 2
	ifTsresol      = 9
	ifFilter       = 11
	isbStartTime   = 2
	isbEndTime     = 3
	isbIfRecv      = 4
	isbIfDrop      = 5
	isbOSDrop      = 7
	byteOrderMagic = 0x1A2B3C4D
)

// pcapngWriter writes one section with one interface (nanosecond
// timestamps) in the host's little-endian byte order, and knows the
// offset of every block it writes: a packet's file_offset in the tables
// is the offset of its Enhanced Packet Block, as reading the file back
// with pcapq ingest gives.
type pcapngWriter struct {
	w   *bufio.Writer
	off int64
	buf []byte
	err error
}

var le = binary.LittleEndian

// newPcapngWriter writes the section and interface headers.
func newPcapngWriter(w io.Writer, linkType uint32, snaplen int, iface, filter, appl string) (*pcapngWriter, error) {
	pw := &pcapngWriter{w: bufio.NewWriterSize(w, 1<<20)}
	// Section Header Block.
	b := pw.start(blockSHB)
	b = le.AppendUint32(b, byteOrderMagic)
	b = le.AppendUint16(b, 1)
	b = le.AppendUint16(b, 0)
	b = le.AppendUint64(b, ^uint64(0)) // section length unknown
	b = appendOpt(b, shbUserAppl, []byte(appl))
	b = appendOpt(b, optEnd, nil)
	pw.finish(b)
	// Interface Description Block.
	b = pw.start(blockIDB)
	b = le.AppendUint16(b, uint16(linkType))
	b = le.AppendUint16(b, 0)
	b = le.AppendUint32(b, uint32(snaplen))
	b = appendOpt(b, ifName, []byte(iface))
	b = appendOpt(b, ifTsresol, []byte{9}) // 10^-9 s
	if filter != "" {
		// if_filter: first byte 0 = libpcap filter string.
		b = appendOpt(b, ifFilter, append([]byte{0}, filter...))
	}
	b = appendOpt(b, optEnd, nil)
	pw.finish(b)
	return pw, pw.err
}

// start begins a block in the scratch buffer: type and a length patched
// by finish.
func (pw *pcapngWriter) start(typ uint32) []byte {
	b := le.AppendUint32(pw.buf[:0], typ)
	return le.AppendUint32(b, 0)
}

// finish pads the block to 4 bytes, writes both lengths and the block.
func (pw *pcapngWriter) finish(b []byte) {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	n := uint32(len(b) + 4)
	le.PutUint32(b[4:], n)
	b = le.AppendUint32(b, n)
	pw.buf = b
	if pw.err != nil {
		return
	}
	_, pw.err = pw.w.Write(b)
	pw.off += int64(len(b))
}

func appendOpt(b []byte, code uint16, v []byte) []byte {
	b = le.AppendUint16(b, code)
	b = le.AppendUint16(b, uint16(len(v)))
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// writePacket writes an Enhanced Packet Block and returns its offset.
// The data is copied before the call returns.
func (pw *pcapngWriter) writePacket(tsNanos int64, data []byte, origLen int) (int64, error) {
	off := pw.off
	ts := uint64(tsNanos)
	var h [28]byte
	le.PutUint32(h[0:], blockEPB)
	n := 32 + (len(data)+3)&^3
	le.PutUint32(h[4:], uint32(n))
	le.PutUint32(h[8:], 0) // interface 0
	le.PutUint32(h[12:], uint32(ts>>32))
	le.PutUint32(h[16:], uint32(ts))
	le.PutUint32(h[20:], uint32(len(data)))
	le.PutUint32(h[24:], uint32(origLen))
	if pw.err != nil {
		return off, pw.err
	}
	var pad [4]byte
	var tail [4]byte
	le.PutUint32(tail[:], uint32(n))
	pw.w.Write(h[:])
	pw.w.Write(data)
	pw.w.Write(pad[:(4-len(data)%4)%4])
	_, pw.err = pw.w.Write(tail[:])
	pw.off += int64(n)
	return off, pw.err
}

// writeStats writes an Interface Statistics Block with libpcap's counters:
// packets received, dropped by the interface and dropped by the kernel
// (isb_osdrop: its buffer was full).
func (pw *pcapngWriter) writeStats(tsNanos, start, end int64, recv, ifDrop, osDrop uint64) error {
	b := pw.start(blockISB)
	b = le.AppendUint32(b, 0)
	b = le.AppendUint32(b, uint32(uint64(tsNanos)>>32))
	b = le.AppendUint32(b, uint32(uint64(tsNanos)))
	if start != 0 {
		b = appendOpt(b, isbStartTime, tsOpt(start))
		b = appendOpt(b, isbEndTime, tsOpt(end))
	}
	b = appendOpt(b, isbIfRecv, le.AppendUint64(nil, recv))
	b = appendOpt(b, isbIfDrop, le.AppendUint64(nil, ifDrop))
	b = appendOpt(b, isbOSDrop, le.AppendUint64(nil, osDrop))
	b = appendOpt(b, optEnd, nil)
	pw.finish(b)
	return pw.err
}

// tsOpt is a timestamp option value: high and low 32 bits, in the
// interface's resolution.
func tsOpt(ns int64) []byte {
	b := le.AppendUint32(nil, uint32(uint64(ns)>>32))
	return le.AppendUint32(b, uint32(uint64(ns)))
}

func (pw *pcapngWriter) flush() error {
	if pw.err != nil {
		return pw.err
	}
	pw.err = pw.w.Flush()
	return pw.err
}
