package source

import (
	"errors"
	"io"
	"math"
	"math/bits"
	"strconv"
)

// pcapng block types.
const (
	pcapngSHB = 0x0a0d0d0a // section header; a palindrome, so the same in both byte orders
	pcapngIDB = 0x00000001 // interface description
	pcapngPB  = 0x00000002 // packet, obsolete
	pcapngSPB = 0x00000003 // simple packet
	pcapngEPB = 0x00000006 // enhanced packet

	pcapngBOM = 0x1a2b3c4d

	// Option codes of the interface description block.
	optEndOfOpt = 0
	optTsResol  = 9
	optTsOffset = 14
)

// iface is what a packet block needs from its interface description.
type iface struct {
	linkType uint32
	snaplen  uint32
	pow2     bool  // resolution is 2^-res s, else 10^-res s
	res      uint8 // exponent of the resolution
	tsOffset int64 // seconds to add to every timestamp (if_tsoffset)
}

// ns converts a timestamp in the interface's units to nanoseconds since the
// epoch. ok is false when the time is outside what an int64 of nanoseconds
// holds (1677-09-21 to 2262-04-11): the units come from the file, and a
// wrapped value would be a wrong time.
func (f *iface) ns(units uint64) (ns int64, ok bool) {
	var t uint64 // the time without the offset, in ns
	switch {
	case !f.pow2 && f.res <= 9:
		hi, lo := bits.Mul64(units, pow10[9-f.res])
		if hi != 0 {
			return 0, false
		}
		t = lo
	case !f.pow2:
		if f.res-9 < uint8(len(pow10)) {
			t = units / pow10[f.res-9]
		} // else finer than 10^-28 s: every 64-bit count is under a nanosecond
	default:
		// units * 1e9 / 2^res: 128-bit product, then shift.
		hi, lo := bits.Mul64(units, 1e9)
		switch {
		case f.res == 0:
			if hi != 0 {
				return 0, false
			}
			t = lo
		case f.res < 64:
			if hi>>f.res != 0 {
				return 0, false
			}
			t = hi<<(64-f.res) | lo>>f.res
		default:
			t = hi >> (f.res - 64)
		}
	}
	if t > math.MaxInt64 {
		return 0, false
	}
	off, ok := f.offsetNs()
	if !ok {
		return 0, false
	}
	ns = int64(t) + off
	if off > 0 && ns < int64(t) {
		return 0, false // past 2262
	}
	return ns, true
}

// offsetNs is if_tsoffset in nanoseconds; ok is false when it does not fit.
func (f *iface) offsetNs() (int64, bool) {
	if f.tsOffset > math.MaxInt64/1_000_000_000 || f.tsOffset < math.MinInt64/1_000_000_000 {
		return 0, false
	}
	return f.tsOffset * 1e9, true
}

// resolution describes the interface's time unit: "10^-6 s", "2^-32 s".
func (f *iface) resolution() string {
	if f.pow2 {
		return "2^-" + strconv.Itoa(int(f.res)) + " s"
	}
	return "10^-" + strconv.Itoa(int(f.res)) + " s"
}

// pow10 holds every power of ten a uint64 holds.
var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
	1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// pcapngReader reads pcapng: any number of sections, each with its own byte
// order and interfaces.
type pcapngReader struct {
	in        input
	le        bool    // byte order of the current section
	ifaces    []iface // interfaces of the current section
	linkTypes []uint32
	scratch   []byte // body of SHB and IDB blocks
	sections  int
	err       error
	warns     warnings
}

func newPcapng(in input) (*pcapngReader, error) {
	p := &pcapngReader{in: in}
	// Read the first section header now, so a file that is not pcapng after
	// all fails at open time.
	if err := p.readSHB(); err != nil {
		p.err = err
		return nil, err
	}
	return p, nil
}

// Next reads the next packet (EPB, SPB or PB) into r, skipping other blocks.
// r.Data is reused: it is valid until the next call to Next, and empty
// after an error.
func (p *pcapngReader) Next(r *Record) error {
	if p.err != nil {
		r.Data = r.Data[:0]
		return p.err
	}
	for {
		ok, err := p.block(r)
		if err != nil {
			p.err = err
			p.in.release()
			r.Data = r.Data[:0]
			return err
		}
		if ok {
			return nil
		}
	}
}

// block reads one block. It reports whether it was a packet, stored in r.
func (p *pcapngReader) block(r *Record) (bool, error) {
	off := p.in.off
	h, err := p.in.peek(8)
	if err != nil {
		if err == io.EOF && len(h) == 0 {
			return false, io.EOF
		}
		return false, p.in.ioErr(off, "a block header", err)
	}
	typ := u32(h, p.le)
	if typ == pcapngSHB {
		return false, p.readSHB()
	}
	length := u32(h[4:], p.le)
	if err := p.checkLen(off, typ, length, 12); err != nil {
		return false, err
	}
	switch typ {
	case pcapngEPB:
		return true, p.readPacket(r, off, typ, length)
	case pcapngPB:
		return true, p.readPacket(r, off, typ, length)
	case pcapngSPB:
		return true, p.readSPB(r, off, length)
	case pcapngIDB:
		return false, p.readIDB(off, length)
	}
	// NRB, ISB, DSB, custom and unknown blocks: skip by length.
	return false, p.finish(off, length, 0)
}

// checkLen checks a block total length: at least min, a multiple of 4, at
// most MaxRecordLen.
func (p *pcapngReader) checkLen(off int64, typ, length, min uint32) error {
	switch {
	case length > MaxRecordLen:
		return p.in.formatErr(off, ErrRecordTooLong,
			"block type 0x%08x claims a total length of %d bytes, limit is %d; the file is damaged from here", typ, length, MaxRecordLen)
	case length < min:
		return p.in.formatErr(off, ErrBadBlock, "block type 0x%08x has total length %d, want at least %d", typ, length, min)
	case length%4 != 0:
		return p.in.formatErr(off, ErrBadBlock, "block type 0x%08x has total length %d, not a multiple of 4", typ, length)
	}
	return nil
}

// finish skips the rest of a block of which done bytes were consumed, and
// checks that the trailing copy of the total length matches.
func (p *pcapngReader) finish(off int64, length uint32, done int) error {
	if err := p.in.skip(int(length) - 4 - done); err != nil {
		return p.truncated(off, length, err)
	}
	t, err := p.in.peek(4)
	if err != nil {
		return p.truncated(off, length, err)
	}
	if tl := u32(t, p.le); tl != length {
		return p.in.formatErr(off, ErrBadBlock, "block total length %d at the start and %d at the end", length, tl)
	}
	p.in.skip(4)
	return nil
}

func (p *pcapngReader) truncated(off int64, length uint32, err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return p.in.formatErr(off, ErrTruncated, "file ends inside a block of %d bytes (%d present)", length, p.in.off-off)
	}
	return p.in.ioErr(p.in.off, "a block", err)
}

// readPacket reads an enhanced packet block or an obsolete packet block.
// Both have a 20-byte fixed part after the block header: interface (32 bits
// in an EPB; 16 bits and a 16-bit drop count in a PB), timestamp high and
// low, captured length, original length.
func (p *pcapngReader) readPacket(r *Record, off int64, typ, length uint32) error {
	const fixed = 8 + 20
	if err := p.checkLen(off, typ, length, fixed+4); err != nil {
		return err
	}
	h, err := p.in.peek(fixed)
	if err != nil {
		return p.truncated(off, length, err)
	}
	var ifc uint32
	if typ == pcapngPB {
		ifc = uint32(u16(h[8:], p.le))
	} else {
		ifc = u32(h[8:], p.le)
	}
	ts := uint64(u32(h[12:], p.le))<<32 | uint64(u32(h[16:], p.le))
	caplen, origlen := u32(h[20:], p.le), u32(h[24:], p.le)
	if caplen > length-fixed-4 {
		return p.in.formatErr(off, ErrBadBlock,
			"packet block claims %d captured bytes, its block has room for %d", caplen, length-fixed-4)
	}
	if ifc >= uint32(len(p.ifaces)) {
		return p.in.formatErr(off, ErrBadBlock,
			"packet block names interface %d, the section has %d interfaces", ifc, len(p.ifaces))
	}
	f := &p.ifaces[ifc]
	p.in.skip(fixed)
	if r.Data, err = p.in.readInto(r.Data, int(caplen)); err != nil {
		return p.truncated(off, length, err)
	}
	if err := p.finish(off, length, fixed+int(caplen)); err != nil {
		return err
	}
	r.Warned = false
	if caplen > f.snaplen && f.snaplen != 0 && !p.warns.count("caplen_exceeds_snaplen") {
		r.Warned = p.warns.add(off, "caplen_exceeds_snaplen",
			"packet has %d captured bytes, more than the interface %d snaplen %d", caplen, ifc, f.snaplen)
	}
	if caplen > origlen && !p.warns.count("caplen_exceeds_origlen") {
		r.Warned = p.warns.add(off, "caplen_exceeds_origlen",
			"packet has %d captured bytes, more than its original length %d", caplen, origlen) || r.Warned
	}
	r.Ts, r.NoTs = 0, false
	if t, ok := f.ns(ts); ok {
		r.Ts = t
	} else {
		r.NoTs = true
		if !p.warns.count(KindBadTimestamp) {
			r.Warned = p.warns.add(off, KindBadTimestamp,
				"timestamp of %d units of %s (if_tsoffset %d s) on interface %d is outside 1677-09-21..2262-04-11, what packets.ts holds; stored as NULL",
				ts, f.resolution(), f.tsOffset, ifc) || r.Warned
		}
	}
	r.CapLen = int(caplen)
	r.OrigLen = int(origlen)
	r.Iface = int(ifc)
	r.LinkType = f.linkType
	r.Offset = off
	return nil
}

// readSPB reads a simple packet block: original length, then data captured
// on interface 0 truncated to its snaplen; no timestamp (NoTs).
func (p *pcapngReader) readSPB(r *Record, off int64, length uint32) error {
	const fixed = 8 + 4
	if err := p.checkLen(off, pcapngSPB, length, fixed+4); err != nil {
		return err
	}
	if len(p.ifaces) == 0 {
		return p.in.formatErr(off, ErrBadBlock, "simple packet block before any interface description block")
	}
	h, err := p.in.peek(fixed)
	if err != nil {
		return p.truncated(off, length, err)
	}
	origlen := u32(h[8:], p.le)
	f := &p.ifaces[0]
	caplen := min(origlen, length-fixed-4)
	if f.snaplen != 0 {
		caplen = min(caplen, f.snaplen)
	}
	p.in.skip(fixed)
	if r.Data, err = p.in.readInto(r.Data, int(caplen)); err != nil {
		return p.truncated(off, length, err)
	}
	if err := p.finish(off, length, fixed+int(caplen)); err != nil {
		return err
	}
	r.Ts, r.NoTs = 0, true // a simple packet block has no timestamp
	r.Warned = false
	r.CapLen = int(caplen)
	r.OrigLen = int(origlen)
	r.Iface = 0
	r.LinkType = f.linkType
	r.Offset = off
	return nil
}

// readBody reads a whole block of length bytes into p.scratch and returns
// its body (between the total length fields).
func (p *pcapngReader) readBody(off int64, length uint32) ([]byte, error) {
	var err error
	p.scratch, err = p.in.readInto(p.scratch, int(length))
	if err != nil {
		return nil, p.truncated(off, length, err)
	}
	if tl := u32(p.scratch[length-4:], p.le); tl != length {
		return nil, p.in.formatErr(off, ErrBadBlock, "block total length %d at the start and %d at the end", length, tl)
	}
	return p.scratch[8 : length-4], nil
}

// readSHB reads a section header block: it sets the byte order and starts a
// new list of interfaces.
func (p *pcapngReader) readSHB() error {
	off := p.in.off
	h, err := p.in.peek(12)
	if err != nil {
		return p.in.ioErr(off, "a section header block", err)
	}
	switch {
	case u32(h[8:], true) == pcapngBOM:
		p.le = true
	case u32(h[8:], false) == pcapngBOM:
		p.le = false
	default:
		return p.in.formatErr(off+8, ErrBadBlock, "section header byte-order magic is % x, want 1a 2b 3c 4d or 4d 3c 2b 1a", h[8:12])
	}
	length := u32(h[4:], p.le)
	// BOM, version, section length: 16 bytes.
	if err := p.checkLen(off, pcapngSHB, length, 12+16); err != nil {
		return err
	}
	body, err := p.readBody(off, length)
	if err != nil {
		return err
	}
	if major, minor := u16(body[4:], p.le), u16(body[6:], p.le); major != 1 {
		return p.in.formatErr(off, ErrBadBlock, "pcapng version %d.%d, want 1.x", major, minor)
	}
	p.sections++
	p.ifaces = p.ifaces[:0]
	return nil
}

// readIDB reads an interface description block.
func (p *pcapngReader) readIDB(off int64, length uint32) error {
	// link type, reserved, snaplen: 8 bytes.
	if err := p.checkLen(off, pcapngIDB, length, 12+8); err != nil {
		return err
	}
	body, err := p.readBody(off, length)
	if err != nil {
		return err
	}
	f := iface{
		linkType: uint32(u16(body, p.le)),
		snaplen:  u32(body[4:], p.le),
		res:      6,
	}
	opts := body[8:]
	for len(opts) >= 4 {
		code, n := u16(opts, p.le), int(u16(opts[2:], p.le))
		if code == optEndOfOpt {
			break
		}
		if 4+n > len(opts) {
			p.warns.add(off, "pcapng_bad_option",
				"interface option %d claims %d bytes, %d left in the block; options ignored from here", code, n, len(opts)-4)
			break
		}
		v := opts[4 : 4+n]
		switch {
		case code == optTsResol && n == 1:
			f.pow2 = v[0]&0x80 != 0
			f.res = v[0] & 0x7f
		case code == optTsOffset && n == 8:
			f.tsOffset = int64(u64(v, p.le))
		case code == optTsResol, code == optTsOffset:
			p.warns.add(off, "pcapng_bad_option", "interface option %d has length %d", code, n)
		}
		adv := 4 + (n+3)&^3
		if adv >= len(opts) {
			break
		}
		opts = opts[adv:]
	}
	p.ifaces = append(p.ifaces, f)
	if !containsU32(p.linkTypes, f.linkType) {
		p.linkTypes = append(p.linkTypes, f.linkType)
	}
	return nil
}

func containsU32(s []uint32, v uint32) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// Format is "pcapng".
func (p *pcapngReader) Format() string { return p.in.format("pcapng") }

// LinkTypes lists the distinct link types of the interfaces seen so far.
func (p *pcapngReader) LinkTypes() []uint32 { return append([]uint32(nil), p.linkTypes...) }

// Warnings returns the problems met so far that did not stop reading.
func (p *pcapngReader) Warnings() []Warning { return p.warns.get() }

// Sections is the number of section header blocks read so far.
func (p *pcapngReader) Sections() int { return p.sections }

func (p *pcapngReader) BytesRead() int64    { return p.in.BytesRead() }
func (p *pcapngReader) Interrupt(err error) { p.in.interrupt(err) }
func (p *pcapngReader) Close() error        { return p.in.closeAll() }
