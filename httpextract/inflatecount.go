package httpextract

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
)

// counter is the count-only inflater, used when decoded bodies are not
// kept: it decodes every Huffman symbol and validates the stream as
// klauspost/compress does (see inflate.go for that path), but never
// materialises output: a literal counts 1 and a match counts its length
// once its distance is checked against the bytes this member has decoded.
// No window, no copying.
//
// Input is pushed in pieces of any size. Each step (a block header with its
// code tables, one symbol with its extra bits and distance, a trailer, a
// fixed gzip header part) is decoded only once all its bits are there, or
// at the body's end, when running out of input means the body was cut (no
// error, the count so far stands). Bytes of an unfinished step, at most
// maxStep, are carried to the next write in tail; stored block data and
// gzip header fields are consumed as they arrive. Results therefore do not
// depend on how the body is split.
//
// Results equal the klauspost path's (out and err after finish) for every
// input, including how far a cut or corrupt stream counts and when the
// limits trip, with two exceptions: the gzip CRC-32 and zlib Adler-32 of
// the decoded bytes cannot be checked (the gzip ISIZE is), and a code with
// no symbols never decodes, where klauspost v1.20.3 decodes with whatever
// table it built earlier (its huffmanDecoder.init keeps the old entries for
// an empty code; RFC 1951, zlib and Go's compress/flate fail the stream).
type counter struct {
	stage  cstage
	format uint8 // encGzip, or for encDeflate fmtZlib / fmtRaw once detected
	done   bool
	err    string
	out    int64 // decoded bytes
	fed    int64 // body bytes received
	maxOut int64
	ratio  int64

	// Input carried between writes: tail[0] is body byte tailAt, of which
	// tailBit bits are consumed.
	tail    []byte
	tailAt  int64
	tailBit int

	// gzip header parsing, byte by byte.
	firstHeader bool   // the body's first gzip header: any failure is inflate_failed
	gh          uint8  // header part next expected (gh* constants)
	gflags      byte   // FLG
	hcrc        uint32 // CRC-32 of the header bytes so far (for FHCRC)
	left        int    // FEXTRA bytes to skip, or bytes of FNAME/FCOMMENT read

	// Deflate state.
	final       bool
	memberStart int64 // out when the current member (deflate stream) began
	flushAt     int64 // out at which the member's 32 KiB window next fills
	// hi is the bit (from the body's start) up to which klauspost has read
	// input: it reads ahead of the symbols it decodes (maxRead), and that
	// is the compressed size its limit checks use.
	hi         int64
	storedLeft int         // bytes of the stored block still to come
	tab        *codeTables // the block's: fixedTables or dyn
	// maxLit is the bits klauspost reads before a literal/length lookup:
	// for a dynamic block more than the code's shortest length.
	maxLit uint
	// pairAt is the bit from which the dynamic block's literal pairs are
	// worth making (see pairLiterals): they take about as long as
	// decoding 1 KB, and speed up only long blocks.
	pairAt int64
	dyn    codeTables
	clen   [1 << clenRoot]uint32
	lens   [286 + 30]uint8
}

type cstage uint8

const (
	csDetect      cstage = iota // deflate: zlib or raw? (two bytes tell)
	csZlibHeader                // CMF, FLG and a dictionary id
	csGzipHeader                // a member header, part gh
	csBlock                     // a block header (and its code tables)
	csStored                    // stored block data
	csHuffman                   // Huffman coded symbols
	csGzipTrailer               // CRC-32 and ISIZE
	csZlibTrailer               // Adler-32
)

// Container formats the counter distinguishes besides encGzip.
const (
	fmtZlib uint8 = iota + 16
	fmtRaw
)

// gzip header parts (RFC 1952 2.3.1), in order.
const (
	ghFixed   = iota // ID1 ID2 CM FLG MTIME XFL OS
	ghXlen           // FEXTRA length
	ghExtra          // FEXTRA data
	ghName           // FNAME, zero-terminated
	ghComment        // FCOMMENT, zero-terminated
	ghHcrc           // FHCRC, then the reserved flag check
)

const (
	gzFlagHdrCrc  = 1 << 1
	gzFlagExtra   = 1 << 2
	gzFlagName    = 1 << 3
	gzFlagComment = 1 << 4
	// gzMaxString is klauspost's buffer for FNAME and FCOMMENT: a string
	// with no zero byte in it is a header error.
	gzMaxString = 512
)

const (
	windowSize = 32 << 10
	// maxStep bounds the bytes one step needs: a dynamic block header is
	// at most 3+14+19*3 bits plus 316 code lengths of at most 7 bits each
	// (repeat codes cover three or more lengths with at most 14 bits), so
	// 287 bytes from its first bit. A step that stops short leaves fewer.
	maxStep = 300
	// joinChunk is how much of a write is appended to a carried tail at a
	// time, so the tail never holds more than maxStep+joinChunk bytes.
	joinChunk = 1 << 10
	// pairAfter is the compressed bytes into a dynamic block after which
	// its literal pairs are made.
	pairAfter = 4 << 10
)

// step is the outcome of decoding one step.
type step uint8

const (
	stepOK   step = iota // decoded; go on
	stepNeed             // more input needed; the reader is at the first unconsumed bit
	stepStop             // decoding ended: done is set
)

// reset prepares for a new body.
func (c *counter) reset(enc uint8, maxOut, ratio int64) {
	c.format = enc
	c.stage = csDetect
	if enc == encGzip {
		c.stage = csGzipHeader
	}
	c.done = enc != encGzip && enc != encDeflate
	c.err = ""
	c.out, c.fed = 0, 0
	c.maxOut, c.ratio = maxOut, ratio
	if c.tail == nil {
		c.tail = make([]byte, 0, maxStep+joinChunk)
	}
	c.tail, c.tailAt, c.tailBit = c.tail[:0], 0, 0
	c.firstHeader, c.gh, c.left = true, ghFixed, 0
}

// write decodes as much of the body as the bytes so far allow.
func (c *counter) write(data []byte) {
	at := c.fed
	c.fed += int64(len(data))
	// Decode the carried tail joined with the start of data until the
	// decoder is past the tail's bytes; then decode data in place.
	for len(c.tail) > 0 && len(data) > 0 && !c.done {
		old := len(c.tail)
		n := min(len(data), joinChunk)
		c.tail = append(c.tail, data[:n]...)
		p := c.run(c.tail, c.tailAt, c.tailBit, false)
		if p>>3 < old {
			c.carry(c.tail, c.tailAt, p)
			data, at = data[n:], at+int64(n)
			continue
		}
		used := p>>3 - old
		data, at = data[used:], at+int64(used)
		c.tail, c.tailAt, c.tailBit = c.tail[:0], at, p&7
	}
	if c.done || len(data) == 0 {
		return
	}
	c.carry(data, at, c.run(data, at, c.tailBit, false))
}

// finish decodes the rest: the body has ended.
func (c *counter) finish() {
	if c.done {
		return
	}
	if c.fed == 0 {
		c.done = true // empty body: nothing to decode
		return
	}
	c.run(c.tail, c.tailAt, c.tailBit, true) // ends decoding
}

// carry keeps in[p/8:] (bit p of in, which starts at body byte at) for the
// next write, unless decoding has ended; in may be the tail itself.
func (c *counter) carry(in []byte, at int64, p int) {
	if c.done {
		c.tail = c.tail[:0]
		return
	}
	c.tail = append(c.tail[:0], in[p>>3:]...)
	c.tailAt, c.tailBit = at+int64(p>>3), p&7
}

// run decodes from bit bit of in (body byte at onwards) until it needs more
// input or decoding ends, and returns the bit it stopped at. At eof,
// running out of input ends decoding.
func (c *counter) run(in []byte, at int64, bit int, eof bool) int {
	r := bitReader{in: in, at: at}
	r.seek(bit)
	for !c.done {
		var s step
		switch c.stage {
		case csDetect:
			s = c.detect(&r, eof)
		case csZlibHeader:
			s = c.zlibHeader(&r)
		case csGzipHeader:
			s = c.gzipHeader(&r)
		case csBlock:
			s = c.blockHeader(&r)
		case csStored:
			s = c.stored(&r)
		case csHuffman:
			s = c.huffman(&r)
		case csGzipTrailer:
			s = c.gzipTrailer(&r)
		case csZlibTrailer:
			s = c.zlibTrailer(&r)
		}
		if s == stepNeed {
			if eof {
				c.runDry()
			}
			break
		}
	}
	return r.pos()
}

// runDry ends a body that stopped inside a step. A gzip or zlib header that
// opens the body is an error (klauspost fails to set up its reader);
// anywhere else the body was cut short, which klauspost reports as
// io.ErrUnexpectedEOF and the klauspost path takes as the end.
func (c *counter) runDry() {
	if c.stage == csZlibHeader || c.stage == csGzipHeader && c.firstHeader {
		c.fail(ErrInflateFailed)
		return
	}
	if c.check(c.fed) {
		c.done = true
	}
}

func (c *counter) fail(kind string) {
	c.done = true
	if c.err == "" {
		c.err = kind
	}
}

// check applies the limits as the klauspost path does each time its
// decoder hands over output: there, at every 32 KiB of a member's output,
// at a sync flush (an empty stored block), at the end of a member and at an
// error or the end of input, with read the compressed bytes it had read by
// then. It reports whether decoding may go on.
func (c *counter) check(read int64) bool {
	if c.maxOut > 0 && c.out > c.maxOut {
		c.out = c.maxOut
		c.fail(ErrInflateLimit)
		return false
	}
	if c.ratio > 0 && c.out > 1<<16 && c.out > c.ratio*max(read, 1) {
		c.fail(ErrInflateLimit)
		return false
	}
	return true
}

// corrupt fails the stream, after the limit check on what decoded before.
func (c *counter) corrupt(read int64) step {
	if c.check(read) {
		c.fail(ErrInflateFailed)
	}
	return stepStop
}

// readTo returns the compressed bytes klauspost has read once it has read
// up to bit b.
func (c *counter) readTo(b int64) int64 { return (max(c.hi, b) + 7) >> 3 }

// detect tells zlib from raw deflate as the klauspost path does: a zlib
// header is two bytes whose big-endian value is a multiple of 31 with
// compression method 8.
func (c *counter) detect(r *bitReader, eof bool) step {
	in := r.in[r.i:]
	if len(in) < 2 && !eof {
		return stepNeed
	}
	if len(in) >= 2 && in[0]&0x0f == 8 && (uint16(in[0])<<8|uint16(in[1]))%31 == 0 {
		c.format, c.stage = fmtZlib, csZlibHeader
	} else {
		c.format = fmtRaw
		c.beginMember(r)
	}
	return stepOK
}

// zlibHeader checks CMF/FLG as klauspost's zlib.Reader.Reset: a window
// over 32 KiB is an error, and so is a preset dictionary unless its id is
// the Adler-32 of no bytes (klauspost compares it with its nil dictionary).
func (c *counter) zlibHeader(r *bitReader) step {
	in := r.in[r.i:]
	if len(in) < 2 {
		return stepNeed
	}
	if in[0]>>4 > 7 {
		c.fail(ErrInflateFailed)
		return stepStop
	}
	n := 2
	if in[1]&0x20 != 0 {
		if len(in) < 6 {
			return stepNeed
		}
		if binary.BigEndian.Uint32(in[2:]) != 1 {
			c.fail(ErrInflateFailed)
			return stepStop
		}
		n = 6
	}
	r.i += n
	c.beginMember(r)
	return stepOK
}

// gzipHeader parses a member header as klauspost's gzip.Reader does,
// including the header CRC-16 and, last, the reserved flags. The header
// after a member is read before the klauspost path sees that member's last
// output, so the limit check waits for it.
func (c *counter) gzipHeader(r *bitReader) step {
	for {
		in := r.in[r.i:]
		switch c.gh {
		case ghFixed:
			if len(in) < 10 {
				return stepNeed
			}
			if in[0] != 0x1f || in[1] != 0x8b || in[2] != 8 {
				r.i += 10
				return c.badHeader(r)
			}
			c.gflags = in[3]
			c.hcrc = crc32.ChecksumIEEE(in[:10])
			r.i += 10
			c.gh = ghXlen
		case ghXlen:
			if c.gflags&gzFlagExtra == 0 {
				c.gh = ghName
				continue
			}
			if len(in) < 2 {
				return stepNeed
			}
			c.hcrc = crc32.Update(c.hcrc, crc32.IEEETable, in[:2])
			c.left = int(binary.LittleEndian.Uint16(in))
			r.i += 2
			c.gh = ghExtra
		case ghExtra:
			n := min(c.left, len(in))
			c.hcrc = crc32.Update(c.hcrc, crc32.IEEETable, in[:n])
			r.i += n
			c.left -= n
			if c.left > 0 {
				return stepNeed
			}
			c.gh = ghName
		case ghName, ghComment:
			flag := byte(gzFlagName)
			if c.gh == ghComment {
				flag = gzFlagComment
			}
			if c.gflags&flag == 0 {
				c.gh++
				continue
			}
			n := min(len(in), gzMaxString-c.left)
			end := bytes.IndexByte(in[:n], 0)
			if end < 0 {
				c.hcrc = crc32.Update(c.hcrc, crc32.IEEETable, in[:n])
				r.i += n
				c.left += n
				if c.left == gzMaxString {
					return c.badHeader(r)
				}
				return stepNeed
			}
			c.hcrc = crc32.Update(c.hcrc, crc32.IEEETable, in[:end+1])
			r.i += end + 1
			c.left = 0
			c.gh++
		case ghHcrc:
			if c.gflags&gzFlagHdrCrc != 0 {
				if len(in) < 2 {
					return stepNeed
				}
				r.i += 2
				if binary.LittleEndian.Uint16(in) != uint16(c.hcrc) {
					return c.badHeader(r)
				}
			}
			if c.gflags>>5 != 0 {
				return c.badHeader(r)
			}
			c.gh = ghFixed
			if !c.check(r.at + int64(r.i)) {
				return stepStop
			}
			c.firstHeader = false
			c.beginMember(r)
			return stepOK
		}
	}
}

func (c *counter) badHeader(r *bitReader) step {
	return c.corrupt(r.at + int64(r.i))
}

// gzipTrailer checks ISIZE (the CRC-32 would need the decoded bytes).
func (c *counter) gzipTrailer(r *bitReader) step {
	in := r.in[r.i:]
	if len(in) < 8 {
		return stepNeed
	}
	r.i += 8
	if binary.LittleEndian.Uint32(in[4:]) != uint32(c.out-c.memberStart) {
		return c.corrupt(r.at + int64(r.i))
	}
	c.stage = csGzipHeader // another member, or the end
	return stepOK
}

// zlibTrailer skips the Adler-32, which would need the decoded bytes;
// klauspost ignores whatever follows it.
func (c *counter) zlibTrailer(r *bitReader) step {
	if len(r.in)-r.i < 4 {
		return stepNeed
	}
	r.i += 4
	if c.check(r.at + int64(r.i)) {
		c.done = true
	}
	return stepStop
}

// beginMember starts a deflate stream at the reader's (byte) position.
func (c *counter) beginMember(r *bitReader) {
	c.stage = csBlock
	c.final = false
	c.memberStart = c.out
	c.flushAt = c.out + windowSize
	c.hi = r.bit()
}

// endBlock moves past a finished block: to the next one, or after the last
// to the trailer (byte aligned, as klauspost never reads past the final
// block's last byte).
func (c *counter) endBlock(r *bitReader) step {
	if !c.final {
		c.stage = csBlock
		return stepOK
	}
	r.align()
	switch c.format {
	case encGzip:
		c.stage = csGzipTrailer
	case fmtZlib:
		c.stage = csZlibTrailer
	default:
		if c.check(r.at + int64(r.i)) {
			c.done = true // raw deflate: klauspost ignores what follows
		}
		return stepStop
	}
	return stepOK
}

// emit counts n decoded bytes. When the member's window fills, klauspost
// hands it over and the limits are checked with read compressed bytes.
func (c *counter) emit(n, read int64) bool {
	if c.out+n < c.flushAt {
		c.out += n
		return true
	}
	rest := c.out + n - c.flushAt
	c.out = c.flushAt
	c.flushAt += windowSize
	if !c.check(read) {
		return false
	}
	c.out += rest
	return true
}

// blockHeader decodes a block header: for a stored block its LEN/NLEN, for
// a dynamic one its code tables.
func (c *counter) blockHeader(r *bitReader) step {
	start := r.pos()
	r.fill()
	if r.nb < 3 {
		return stepNeed
	}
	c.final = r.bb&1 == 1
	kind := r.bb >> 1 & 3
	r.drop(3)
	switch kind {
	case 0:
		return c.storedHeader(r, start)
	case 1:
		c.tab, c.maxLit = &fixedTables, fixedTables.litRead
		c.hi = max(c.hi, r.bit())
		c.stage = csHuffman
		return stepOK
	case 2:
		return c.dynamicHeader(r, start)
	}
	return c.corrupt(c.readTo(r.bit()))
}

// storedHeader reads LEN and NLEN, which start at the next byte.
func (c *counter) storedHeader(r *bitReader, start int) step {
	r.align()
	in := r.in[r.i:]
	if len(in) < 4 {
		r.seek(start)
		return stepNeed
	}
	r.i += 4
	n := binary.LittleEndian.Uint16(in)
	if binary.LittleEndian.Uint16(in[2:]) != ^n {
		return c.corrupt(r.at + int64(r.i))
	}
	c.hi = r.bit()
	if n == 0 {
		// A sync flush: klauspost hands over what is pending, unless the
		// block is final (then it does at the member's end).
		if !c.final && !c.check(r.at+int64(r.i)) {
			return stepStop
		}
		return c.endBlock(r)
	}
	c.storedLeft = int(n)
	c.stage = csStored
	return stepOK
}

// stored counts stored bytes as they arrive.
func (c *counter) stored(r *bitReader) step {
	n := min(c.storedLeft, len(r.in)-r.i)
	for n > 0 {
		k := int(min(int64(n), c.flushAt-c.out))
		r.i += k
		n -= k
		c.storedLeft -= k
		if !c.emit(int64(k), r.at+int64(r.i)) {
			return stepStop
		}
	}
	if c.storedLeft > 0 {
		return stepNeed
	}
	c.hi = r.bit()
	return c.endBlock(r)
}

// codeOrder is the order of the code length code lengths (RFC 1951 3.2.7).
var codeOrder = [19]uint8{16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15}

// dynamicHeader reads HLIT, HDIST, HCLEN and the code lengths, with
// klauspost's checks in its order, and builds the block's tables. Running
// out of input returns to the block's start.
func (c *counter) dynamicHeader(r *bitReader, start int) step {
	need := func() step {
		r.seek(start)
		return stepNeed
	}
	r.fill()
	if r.nb < 14 {
		return need()
	}
	nlit := int(r.bb&31) + 257
	ndist := int(r.bb>>5&31) + 1
	nclen := int(r.bb>>10&15) + 4
	if nlit > 286 || ndist > 30 {
		return c.corrupt(c.readTo(r.bit() + 14))
	}
	r.drop(14)
	var cl [19]uint8
	for i := range nclen {
		r.fill()
		if r.nb < 3 {
			return need()
		}
		cl[codeOrder[i]] = uint8(r.bb & 7)
		r.drop(3)
	}
	clenRead, ok := build(c.clen[:], cl[:], clenSym[:], clenKind)
	if !ok {
		return c.corrupt(c.readTo(r.bit()))
	}
	lens := c.lens[:nlit+ndist]
	for i := 0; i < len(lens); {
		// At most 7+7 bits: after fill, r.nb < 14 only at the end of input.
		r.fill()
		if r.nb < clenRead {
			return need()
		}
		e := c.clen[r.bb&(1<<clenRoot-1)]
		n := uint(e & 0xff)
		if n == 0 {
			return c.corrupt(c.readTo(r.bit() + int64(clenRead)))
		}
		if r.nb < n {
			return need()
		}
		r.drop(n)
		x := e >> 16
		if x < 16 {
			lens[i] = uint8(x)
			i++
			continue
		}
		rep, nb, v := 3, uint(2), uint8(0)
		switch x {
		case 16:
			if i == 0 {
				return c.corrupt(c.readTo(r.bit()))
			}
			v = lens[i-1]
		case 17:
			nb = 3
		default:
			rep, nb = 11, 7
		}
		if r.nb < nb {
			return need()
		}
		rep += int(r.bb & (1<<nb - 1))
		r.drop(nb)
		if i+rep > len(lens) {
			return c.corrupt(c.readTo(r.bit()))
		}
		for range rep {
			lens[i] = v
			i++
		}
	}
	d := &c.dyn
	var okLit, okDist bool
	d.litRead, okLit = build(d.lit[:], lens[:nlit], litSym[:], litKind)
	d.distRead, okDist = build(d.dist[:], lens[nlit:], distSym[:], distKind)
	if !okLit || !okDist {
		return c.corrupt(c.readTo(r.bit()))
	}
	c.pairAt = r.bit() + pairAfter*8
	// klauspost reads at least the end-of-block code's length before a
	// literal/length lookup, and 10 bits more (the smallest next block)
	// unless the block is final.
	c.maxLit = max(d.litRead, uint(lens[symEOB]))
	if !c.final {
		c.maxLit += 10
	}
	c.tab = d
	c.hi = max(c.hi, r.bit())
	c.stage = csHuffman
	return stepOK
}

// huffman decodes symbols until the block ends, input runs short, or
// decoding stops, making the literal pairs of a dynamic block once it has
// gone on past pairAt.
func (c *counter) huffman(r *bitReader) step {
	for c.stage == csHuffman {
		if r.bit() >= c.pairAt && c.tab == &c.dyn {
			pairLiterals(&c.dyn.lit)
			c.pairAt = math.MaxInt64
		}
		c.fast(r)
		if s := c.symbol(r); s != stepOK {
			return s
		}
	}
	return stepOK
}

// symbol decodes one literal/length symbol and, for a length, its distance,
// reading input exactly as klauspost does: before each code lookup it
// needs the table's maxRead bits, and it fails on an unused bit pattern,
// on length symbols 286/287, on distance codes 30/31 and on a distance past
// the member's output, in that order along the symbol's bits.
func (c *counter) symbol(r *bitReader) step {
	start := r.pos()
	r.fill()
	// r.nb is what is left of the input, or at least 49 bits: enough for
	// every need below (a symbol is at most 15+5+15+13 bits; a lookup
	// needs at most 15+10).
	if r.nb < c.maxLit {
		return stepNeed
	}
	startBit := r.bit()
	e := lookup(c.tab.lit[:], r.bb, &litKind)
	n := uint(e >> 8 & 15)
	if n == 0 {
		return c.corrupt(c.readTo(startBit + int64(c.maxLit)))
	}
	if r.nb < n {
		return stepNeed
	}
	hi := startBit + int64(max(n, c.maxLit))
	r.drop(n)
	if e&litLiteral != 0 {
		return c.count(1, hi, r)
	}
	if e&litSpecial != 0 {
		if e>>16&0x1fff == symEOB {
			c.hi = max(c.hi, hi)
			return c.endBlock(r)
		}
		return c.corrupt(c.readTo(hi)) // length symbol 286 or 287
	}
	extra := uint(e >> 12 & 15)
	if r.nb < extra {
		r.seek(start)
		return stepNeed
	}
	length := int64(e>>16&0x1fff) + int64(r.bb&(1<<extra-1))
	r.drop(extra)

	if r.nb < c.tab.distRead {
		r.seek(start)
		return stepNeed
	}
	d := lookup(c.tab.dist[:], r.bb, &distKind)
	n = uint(d >> 8 & 15)
	if n == 0 {
		return c.corrupt(c.readTo(max(hi, r.bit()+int64(c.tab.distRead))))
	}
	if r.nb < n {
		r.seek(start)
		return stepNeed
	}
	r.drop(n)
	if d&distSpecial != 0 {
		return c.corrupt(c.readTo(max(hi, r.bit()))) // distance code 30 or 31
	}
	extra = uint(d >> 12 & 15)
	if r.nb < extra {
		r.seek(start)
		return stepNeed
	}
	dist := int64(d>>16) - (1<<extra - 1) + int64(r.bb&(1<<extra-1))
	r.drop(extra)
	if dist > c.out-c.memberStart {
		return c.corrupt(c.readTo(max(hi, r.bit())))
	}
	return c.count(length, hi, r)
}

// count emits the n bytes of the symbol just decoded; hi is how far
// klauspost read for it.
func (c *counter) count(n, hi int64, r *bitReader) step {
	if !c.emit(n, c.readTo(max(hi, r.bit()))) {
		return stepStop
	}
	return stepOK
}

// fast decodes literals and matches while at least 8 input bytes remain
// (so every symbol's bits, and the lookahead klauspost needs, are there)
// and no symbol can reach the end of the member's window (where the limits
// are checked). It leaves anything else to symbol, undecoded: a block end,
// errors, a window end, a code longer than its table's root or a length
// code whose extra bits are not folded in (both rare), and in a member's
// first window a distance code whose range reaches past the output.
//
// After a refill all 64 bits of bb are input, and a symbol takes at most
// 48, so the next symbol's root entry is looked up before the next refill:
// the lookup does not wait for the refill's load.
func (c *counter) fast(r *bitReader) {
	p, bb, nb := r.in[r.i:], r.bb, r.nb // p: input not loaded yet
	// room is what may still be counted before a symbol could reach the
	// window's end. In the member's first window, its output so far is
	// windowSize-258-room, which a distance must not exceed: a code whose
	// largest distance plus room is beyond far is left to symbol.
	room := c.flushAt - 258 - c.out
	if room <= 0 || len(p) < 8 {
		return
	}
	far := int64(1 << 62)
	if c.flushAt == c.memberStart+windowSize {
		far = windowSize - 258
	}
	t := c.tab
	bb |= binary.LittleEndian.Uint64(p) << (nb & 63)
	p = p[(63-nb)&63>>3:]
	nb |= 56
	e := t.lit[bb&(1<<litRoot-1)]
	for {
		// A literal looks up the last distance entry, 0: no bits, no
		// check. Not branching on literal or length is faster, as which
		// comes next is unpredictable.
		n := e & 63 // consumed bits, at most 15+5
		lit := uint64(e >> 31)
		rest := bb >> n
		d := t.dist[rest&(1<<distRoot-1)|-lit&(distSize-1)]
		// Not the end of block, a subtable, extra bits to read, a bad or
		// possibly too far distance.
		if e&(litSpecial|litLink|0xf<<12) != 0 || d&(distSpecial|distLink) != 0 || int64(d>>16)+room > far {
			break
		}
		room -= int64(e >> 16 & 0x1fff)
		dn := d & distConsume
		bb = rest >> dn
		nb -= uint(n + dn)
		if room <= 0 || len(p) < 8 {
			break
		}
		e = t.lit[bb&(1<<litRoot-1)]
		// nb >= 8 here. Shifting by nb-8, not nb, keeps the compiler from
		// holding nb in CX, which the shifts by code lengths need.
		bb |= binary.LittleEndian.Uint64(p) << 8 << ((nb - 8) & 63)
		p = p[(63-nb)&63>>3:]
		nb |= 56
	}
	r.i, r.bb, r.nb = len(r.in)-len(p), bb, nb
	c.out = c.flushAt - 258 - room
}

// bitReader reads in (body bytes from at), least significant bit first.
// Bits of bb above nb are zero or the input's next bits, so a table lookup
// near the end of input sees zeros past it.
type bitReader struct {
	in []byte
	at int64
	i  int    // next byte of in to load
	bb uint64 // loaded bits
	nb uint   // number of loaded bits
}

// pos is the bit position in in.
func (r *bitReader) pos() int { return r.i*8 - int(r.nb) }

// bit is the bit position from the body's start.
func (r *bitReader) bit() int64 { return r.at*8 + int64(r.pos()) }

// seek moves to bit p of in.
func (r *bitReader) seek(p int) {
	r.i, r.bb, r.nb = p>>3, 0, 0
	if k := uint(p & 7); k != 0 {
		r.bb = uint64(r.in[r.i]) >> k
		r.nb = 8 - k
		r.i++
	}
}

// fill loads bytes while fewer than 56 bits are loaded and input remains.
func (r *bitReader) fill() {
	for r.nb < 56 && r.i < len(r.in) {
		r.bb |= uint64(r.in[r.i]) << r.nb
		r.i++
		r.nb += 8
	}
}

func (r *bitReader) drop(n uint) {
	r.bb >>= n
	r.nb -= n
}

// align skips to the next byte boundary and unloads whole bytes.
func (r *bitReader) align() {
	r.i -= int(r.nb >> 3)
	r.bb, r.nb = 0, 0
}
