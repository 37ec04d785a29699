package source

import (
	"errors"
	"io"
)

// pcap magic numbers as read big-endian from the first four bytes.
const (
	pcapMicroBE = 0xa1b2c3d4
	pcapMicroLE = 0xd4c3b2a1
	pcapNanoBE  = 0xa1b23c4d
	pcapNanoLE  = 0x4d3cb2a1
	// Alexey Kuznetzov's patched tcpdump: 8 more bytes per record header
	// (ifindex, protocol, pkt_type, padding). libpcap reads it.
	pcapKuzBE = 0xa1b2cd34
	pcapKuzLE = 0x34cdb2a1
)

func pcapMagic(b []byte) uint32 {
	switch m := u32(b, false); m {
	case pcapMicroBE, pcapMicroLE, pcapNanoBE, pcapNanoLE, pcapKuzBE, pcapKuzLE:
		return m
	}
	return 0
}

// Link type field of the pcap file header, as libpcap splits it
// (LT_LINKTYPE, LT_RESERVED1, LT_FCS_LENGTH_PRESENT, LT_FCS_LENGTH).
const (
	ltLinkTypeMask = 0x0000ffff
	ltReserved     = 0x03ff0000
	ltFCSPresent   = 0x04000000
	ltFCSLenShift  = 28
)

// Record length order of the pcap record header. Before format version 2.3
// the caplen and len fields were in the other order; 2.3 files exist both
// ways. libpcap and Wireshark handle it the same way.
const (
	lensNotSwapped = iota
	lensSwapped
	lensMaybeSwapped
)

// pcapReader reads the classic libpcap format.
type pcapReader struct {
	in       input
	le       bool
	nano     bool
	hdrLen   int // record header length: 16, or 24 for Kuznetzov files
	swap     int
	snaplen  uint32
	linkType uint32
	fcsLen   int // FCS length in bytes when the header says so, else -1
	limit    uint32
	err      error
	warns    warnings
	data     []byte // record data too long for the read buffer (readView)
}

const pcapFileHeaderLen = 24

func newPcap(in input) (*pcapReader, error) {
	h, err := in.peek(pcapFileHeaderLen)
	if err != nil {
		return nil, in.ioErr(0, "the 24-byte pcap file header", err)
	}
	magic := pcapMagic(h)
	p := &pcapReader{in: in, hdrLen: 16, fcsLen: -1}
	switch magic {
	case pcapMicroLE, pcapNanoLE, pcapKuzLE:
		p.le = true
	}
	p.nano = magic == pcapNanoBE || magic == pcapNanoLE
	if magic == pcapKuzBE || magic == pcapKuzLE {
		p.hdrLen = 24
	}
	major, minor := u16(h[4:], p.le), u16(h[6:], p.le)
	switch {
	case major == 2 && minor < 3, major == 543:
		// 543.0 is DG/UX tcpdump, which also wrote the old order.
		p.swap = lensSwapped
	case major == 2 && minor == 3:
		p.swap = lensMaybeSwapped
	case major == 2:
		p.swap = lensNotSwapped
	default:
		return nil, in.formatErr(4, ErrNotCapture, "pcap format version %d.%d, want 2.x", major, minor)
	}
	p.snaplen = u32(h[16:], p.le)
	lt := u32(h[20:], p.le)
	p.linkType = lt & ltLinkTypeMask
	if lt&ltFCSPresent != 0 {
		p.fcsLen = int(lt>>ltFCSLenShift) * 2
	}
	if lt&^(ltLinkTypeMask|ltFCSPresent|0xf0000000) != 0 || (lt&ltFCSPresent == 0 && lt>>ltFCSLenShift != 0) {
		p.warns.add(20, "pcap_linktype_reserved_bits",
			"link type field is 0x%08x: reserved bits set, using link type %d (bits 0-15) as libpcap does", lt, p.linkType)
	}
	p.limit = DefaultRecordLen
	if p.snaplen > p.limit {
		p.limit = min(p.snaplen, MaxRecordLen)
	}
	if err := p.in.skip(pcapFileHeaderLen); err != nil {
		return nil, in.ioErr(0, "the pcap file header", err)
	}
	return p, nil
}

// Next reads the next record into r. r.Data is reused: it is valid until the
// next call to Next, and empty after an error.
func (p *pcapReader) Next(r *Record) error {
	if err := p.next(r); err != nil {
		r.Data = r.Data[:0]
		return err
	}
	return nil
}

func (p *pcapReader) next(r *Record) error {
	if p.err != nil {
		return p.err
	}
	off := p.in.off
	h, err := p.in.peek(p.hdrLen)
	if err != nil {
		if err == io.EOF && len(h) == 0 {
			p.stop(io.EOF)
			return io.EOF
		}
		if err == io.EOF {
			p.stop(p.in.formatErr(off, ErrTruncated,
				"file ends inside a record header (%d of %d bytes)", len(h), p.hdrLen))
		} else {
			p.stop(p.in.ioErr(off, "a record header", err))
		}
		return p.err
	}
	sec, frac := u32(h[0:], p.le), u32(h[4:], p.le)
	caplen, origlen := u32(h[8:], p.le), u32(h[12:], p.le)
	switch p.swap {
	case lensMaybeSwapped:
		if caplen <= origlen {
			break
		}
		fallthrough
	case lensSwapped:
		caplen, origlen = origlen, caplen
	}
	if caplen > p.limit {
		p.stop(p.in.formatErr(off, ErrRecordTooLong,
			"record claims %d captured bytes, limit is %d (snaplen %d); the file is damaged from here", caplen, p.limit, p.snaplen))
		return p.err
	}
	p.in.skip(p.hdrLen) // cannot fail: the bytes are buffered
	r.Data, err = p.in.readView(&p.data, int(caplen))
	if err != nil {
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			p.stop(p.in.formatErr(off, ErrTruncated,
				"file ends inside a record: %d of %d captured bytes present", len(r.Data), caplen))
		} else {
			p.stop(p.in.ioErr(p.in.off, "record data", err))
		}
		return p.err
	}
	r.Warned = false
	if caplen > p.snaplen && p.snaplen != 0 && !p.warns.count("caplen_exceeds_snaplen") {
		r.Warned = p.warns.add(off, "caplen_exceeds_snaplen",
			"record has %d captured bytes, more than the file snaplen %d", caplen, p.snaplen)
	}
	if caplen > origlen && !p.warns.count("caplen_exceeds_origlen") {
		r.Warned = p.warns.add(off, "caplen_exceeds_origlen",
			"record has %d captured bytes, more than its original length %d", caplen, origlen) || r.Warned
	}
	// A fraction of a second past a second is no time: tshark and tcpdump
	// print its digits after the point ("1500000000.1234567").
	r.Ts, r.NoTs = int64(sec)*1e9, false
	switch {
	case p.nano && frac < 1e9:
		r.Ts += int64(frac)
	case !p.nano && frac < 1e6:
		r.Ts += int64(frac) * 1e3
	default:
		r.Ts, r.NoTs = 0, true
		if !p.warns.count(KindBadTimestamp) {
			unit, most := "microsecond", 999999
			if p.nano {
				unit, most = "nanosecond", 999999999
			}
			r.Warned = p.warns.add(off, KindBadTimestamp, "record's %s field is %d, over %d; the time is stored as NULL", unit, frac, most) || r.Warned
		}
	}
	r.CapLen = int(caplen)
	r.OrigLen = int(origlen)
	r.Iface = 0
	r.LinkType = p.linkType
	r.Offset = off
	return nil
}

func (p *pcapReader) stop(err error) {
	p.err = err
	p.in.release()
}

// Format is "pcap" or "pcap-ns", with "+gzip" or "+zstd" when compressed.
func (p *pcapReader) Format() string {
	if p.nano {
		return p.in.format("pcap-ns")
	}
	return p.in.format("pcap")
}

// LinkTypes is the file's one link type.
func (p *pcapReader) LinkTypes() []uint32 { return []uint32{p.linkType} }

// Warnings returns the problems met so far that did not stop reading.
func (p *pcapReader) Warnings() []Warning { return p.warns.get() }

// Snaplen is the snapshot length in the file header.
func (p *pcapReader) Snaplen() uint32 { return p.snaplen }

// FCSLen is the length in bytes of the frame check sequence at the end of
// each packet when the file header says so, else -1.
func (p *pcapReader) FCSLen() int { return p.fcsLen }

func (p *pcapReader) BytesRead() int64    { return p.in.BytesRead() }
func (p *pcapReader) Interrupt(err error) { p.in.interrupt(err) }
func (p *pcapReader) Close() error        { return p.in.closeAll() }
