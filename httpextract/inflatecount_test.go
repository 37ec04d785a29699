package httpextract

import (
	"bytes"
	stdflate "compress/flate"
	stdgzip "compress/gzip"
	stdzlib "compress/zlib"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// The count-only inflater is checked against the klauspost path by a
// differential test over generated streams and by FuzzInflateCount. The
// expected result comes from reference, which replays what the klauspost
// path (inflater.pump) does with the whole body, but member by member, so
// that a failure caused only by the CRC-32/Adler-32 of the decoded bytes
// (which the counter cannot check) can be set aside.

// library is one implementation of the three decoders.
type library struct {
	gzip  func() gzipReader
	zlib  func(io.Reader) (io.ReadCloser, error)
	flate func(io.Reader) io.ReadCloser
}

type gzipReader interface {
	io.Reader
	Reset(io.Reader) error
	Multistream(bool)
}

var (
	klauspost = library{
		gzip:  func() gzipReader { return new(gzip.Reader) },
		zlib:  zlib.NewReader,
		flate: flate.NewReader,
	}
	// stdlib serves to recognise klauspost's empty-code behaviour (doc.go).
	stdlib = library{
		gzip:  func() gzipReader { return new(stdgzip.Reader) },
		zlib:  stdzlib.NewReader,
		flate: stdflate.NewReader,
	}
)

// outcome of decoding one body.
type outcome struct {
	out int64
	err string
}

func (r outcome) String() string { return fmt.Sprintf("(%d, %q)", r.out, r.err) }

// reference decodes body with lib as the klauspost path does when the whole
// body has been staged: 32 KiB reads, the limits checked after each, the
// end of input taken as the end of the body. crcOnly reports that a
// checksum failure was ignored because the decoded size was right. If
// checks is not nil, it receives the decoded and compressed byte counts of
// every limit check.
func reference(lib library, enc uint8, body []byte, maxOut, ratio int64, checks *[][2]int64) (res outcome, crcOnly bool) {
	if len(body) == 0 {
		return outcome{}, false
	}
	src := bytes.NewReader(body)
	read := func() int64 { return int64(len(body) - src.Len()) }
	var rd io.Reader
	var gz gzipReader
	switch {
	case enc == encGzip:
		gz = lib.gzip()
		if gz.Reset(src) != nil {
			return outcome{0, ErrInflateFailed}, false
		}
		gz.Multistream(false)
		rd = gz
	case len(body) >= 2 && body[0]&0x0f == 8 && binary.BigEndian.Uint16(body)%31 == 0:
		zr, err := lib.zlib(src)
		if err != nil {
			return outcome{0, ErrInflateFailed}, false
		}
		rd = zr
	default:
		rd = lib.flate(src)
	}
	buf := make([]byte, zScratch)
	var member int64
	fail := func(kind string) {
		if res.err == "" {
			res.err = kind
		}
	}
	for {
		n, err := rd.Read(buf)
		member += int64(n)
		if errors.Is(err, gzip.ErrChecksum) || errors.Is(err, zlib.ErrChecksum) {
			// The CRC-32 or Adler-32 is wrong; a wrong gzip ISIZE is
			// still an error.
			if gz == nil || binary.LittleEndian.Uint32(body[read()-4:]) == uint32(member) {
				crcOnly = true
				err = io.EOF
			}
		}
		next := false
		if err == io.EOF && gz != nil {
			// Multistream: the next header is read before this output
			// is handed over.
			member = 0
			if err = gz.Reset(src); err == nil {
				gz.Multistream(false)
				next = true
			}
		}
		if n > 0 {
			if maxOut > 0 && res.out+int64(n) > maxOut {
				n = int(maxOut - res.out)
				fail(ErrInflateLimit)
			}
			res.out += int64(n)
			if checks != nil {
				*checks = append(*checks, [2]int64{res.out, read()})
			}
			if ratio > 0 && res.out > 1<<16 && res.out > ratio*max(read(), 1) {
				fail(ErrInflateLimit)
			}
		}
		switch {
		case err == io.EOF || err == io.ErrUnexpectedEOF:
			return res, crcOnly
		case err != nil:
			fail(ErrInflateFailed)
		case n == 0 && !next:
			return res, crcOnly
		}
		if res.err != "" {
			return res, crcOnly
		}
	}
}

// klauspostPath decodes body with the inflater's klauspost path, whole.
func klauspostPath(enc uint8, body []byte, maxOut, ratio int64) outcome {
	var z inflater
	z.reset(enc, maxOut, ratio, func([]byte) {})
	z.write(body)
	z.finish()
	return outcome{z.out, z.err}
}

// countPath decodes body with the counter, in pieces chosen by rng, on the
// reused inflater z.
func countPath(z *inflater, enc uint8, body []byte, maxOut, ratio int64, rng *rand.Rand) outcome {
	z.reset(enc, maxOut, ratio, nil)
	pieceMax := []int{1, 3, 17, 300, 1460, 70000, len(body) + 1}[rng.IntN(7)]
	for len(body) > 0 {
		n := min(len(body), 1+rng.IntN(pieceMax))
		z.write(body[:n])
		body = body[n:]
		if cap(z.cnt.tail) > maxStep+joinChunk {
			panic(fmt.Sprintf("counter carries %d bytes", cap(z.cnt.tail)))
		}
	}
	z.finish()
	return outcome{z.out, z.err}
}

// diffStats counts the outcomes of differential checks.
type diffStats struct {
	runs, failed, limited, crcOnly, emptyCode int
}

// differ checks the counter against the klauspost path on one body and
// returns a description of the mismatch, or "".
func differ(z *inflater, enc uint8, body []byte, maxOut, ratio int64, rng *rand.Rand, st *diffStats) string {
	want, crcOnly := reference(klauspost, enc, body, maxOut, ratio, nil)
	if !crcOnly && len(body) <= zLowWater {
		// The reference is the klauspost path, which stages such a body
		// whole (longer ones meet its look-ahead limit, see inflate.go).
		if got := klauspostPath(enc, body, maxOut, ratio); got != want {
			return fmt.Sprintf("reference %v, klauspost path %v", want, got)
		}
	}
	got := countPath(z, enc, body, maxOut, ratio, rng)
	st.runs++
	switch got.err {
	case ErrInflateFailed:
		st.failed++
	case ErrInflateLimit:
		st.limited++
	}
	if crcOnly {
		st.crcOnly++
	}
	if got == want {
		return ""
	}
	// klauspost decodes with a stale table where a code has no symbols:
	// then the counter fails where Go's compress/flate does.
	if alt, _ := reference(stdlib, enc, body, maxOut, ratio, nil); got.err == ErrInflateFailed && got == alt {
		st.emptyCode++
		return ""
	}
	return fmt.Sprintf("counter %v, klauspost %v (crc only %v)", got, want, crcOnly)
}

// Generated content.

// vocabulary returns n made-up words, built from syllables, short ones first.
func vocabulary(rng *rand.Rand, n int) []string {
	syl := strings.Fields("a an ar be ca co de di el en er es fo ga in is la le li ma me mo na ne no on or pa pe ra re ri ro sa se si so ta te ti to tu un ur va ve")
	ws := make([]string, n)
	for i := range ws {
		var b strings.Builder
		for k := 1 + min(i/200, 3) - rng.IntN(2); k >= 0; k-- {
			b.WriteString(syl[rng.IntN(len(syl))])
		}
		ws[i] = b.String()
	}
	return ws
}

// prose returns about n bytes of sentences whose words follow Zipf's law,
// like natural language text.
func prose(rng *rand.Rand, n int) []byte {
	words := vocabulary(rng, 4000)
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))
	var b bytes.Buffer
	for b.Len() < n {
		for k := 8 + rng.IntN(18); k > 0; k-- {
			w := words[zipf.Uint64()]
			if b.Len() == 0 || b.Bytes()[b.Len()-1] == ' ' && b.Bytes()[b.Len()-2] == '.' {
				w = strings.ToUpper(w[:1]) + w[1:]
			}
			b.WriteString(w)
			if k > 1 && rng.IntN(10) == 0 {
				b.WriteByte(',')
			}
			b.WriteByte(' ')
		}
		b.Truncate(b.Len() - 1)
		b.WriteString(". ")
		if rng.IntN(6) == 0 {
			b.WriteString("\n\n")
		}
	}
	return b.Bytes()
}

// page returns about n bytes of HTML: boilerplate, then listing cards from
// a template with varying text, ids and prices, as web pages are made.
func page(rng *rand.Rand, n int) []byte {
	words := vocabulary(rng, 2000)
	zipf := rand.NewZipf(rng, 1.1, 2, uint64(len(words)-1))
	phrase := func(k int) string {
		ws := make([]string, k)
		for i := range ws {
			ws[i] = words[zipf.Uint64()]
		}
		return strings.Join(ws, " ")
	}
	var b bytes.Buffer
	b.WriteString(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>` + phrase(4) + `</title><link rel="stylesheet" href="/static/css/main.4f3a2b1c.css">
<script async src="/static/js/analytics.js"></script></head>
<body class="page page-listing"><header class="site-header"><nav class="nav"><ul class="nav-list">
`)
	for range 12 {
		p := phrase(1 + rng.IntN(2))
		fmt.Fprintf(&b, "<li class=\"nav-item\"><a class=\"nav-link\" href=\"/%s/\">%s</a></li>\n", strings.ReplaceAll(p, " ", "-"), p)
	}
	b.WriteString("</ul></nav></header>\n<main class=\"content\"><div class=\"grid\">\n")
	for b.Len() < n {
		id := 10000 + rng.IntN(90000)
		title := phrase(2 + rng.IntN(4))
		slug := strings.ReplaceAll(title, " ", "-")
		fmt.Fprintf(&b, `<div class="card" data-id="%d">
  <a href="/products/%s-%d" class="card-link"><img src="/img/products/%d.jpg" alt="%s" loading="lazy" width="300" height="200"></a>
  <div class="card-body">
    <h3 class="card-title"><a href="/products/%s-%d">%s</a></h3>
    <p class="card-text">%s.</p>
    <span class="price">$%d.%02d</span> <span class="rating" title="%d.%d out of 5">%d reviews</span>
  </div>
</div>
`, id, slug, id, id, title, slug, id, title, phrase(6+rng.IntN(20)), rng.IntN(200), rng.IntN(100), 1+rng.IntN(4), rng.IntN(10), rng.IntN(3000))
	}
	b.WriteString("</div></main><footer class=\"site-footer\"><p>&copy; 2024</p></footer></body></html>\n")
	return b.Bytes()
}

// content returns n bytes of a kind chosen by rng.
func content(rng *rand.Rand, n int) []byte {
	switch rng.IntN(5) {
	case 0:
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	case 1:
		return bytes.Repeat([]byte{byte(rng.IntN(3))}, n) // a bomb's content
	case 2:
		b := prose(rng, n)[:n]
		for i := 0; i+64 < n; i += 1 + rng.IntN(4096) {
			copy(b[i:], bytes.Repeat([]byte{'z'}, rng.IntN(64))) // runs
		}
		return b
	default:
		return page(rng, n)[:n]
	}
}

// writeFlate compresses data into w at level with klauspost or Go's flate,
// in pieces with an occasional sync flush (an empty stored block).
func writeFlate(rng *rand.Rand, w io.Writer, data []byte, level int) {
	var fw interface {
		io.WriteCloser
		Flush() error
	}
	if rng.IntN(2) == 0 {
		fw, _ = flate.NewWriter(w, level)
	} else {
		fw, _ = stdflate.NewWriter(w, level)
	}
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(1<<16))
		fw.Write(data[:n])
		data = data[n:]
		if rng.IntN(4) == 0 {
			fw.Flush()
		}
	}
	fw.Close()
}

var levels = []int{-2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9}

// gzipMember returns one gzip member of data with a random header.
func gzipMember(rng *rand.Rand, data []byte) []byte {
	var b bytes.Buffer
	flg := byte(0)
	if rng.IntN(2) == 0 {
		flg = byte(rng.IntN(32))
		if rng.IntN(10) == 0 {
			flg |= 1 << (5 + rng.IntN(3)) // reserved
		}
	}
	hdr := []byte{0x1f, 0x8b, 8, flg, 1, 2, 3, 4, 0, 3}
	strLen := func() int { return []int{0, 1, 510, 511, 512, rng.IntN(600)}[rng.IntN(6)] }
	if flg&gzFlagExtra != 0 {
		x := make([]byte, []int{0, 1, rng.IntN(40), rng.IntN(3000)}[rng.IntN(4)])
		hdr = binary.LittleEndian.AppendUint16(hdr, uint16(len(x)))
		hdr = append(hdr, x...)
	}
	if flg&gzFlagName != 0 {
		hdr = append(append(hdr, bytes.Repeat([]byte{'n'}, strLen())...), 0)
	}
	if flg&gzFlagComment != 0 {
		hdr = append(append(hdr, bytes.Repeat([]byte{'c'}, strLen())...), 0)
	}
	if flg&gzFlagHdrCrc != 0 {
		sum := uint16(crc32.ChecksumIEEE(hdr))
		if rng.IntN(10) == 0 {
			sum++
		}
		hdr = binary.LittleEndian.AppendUint16(hdr, sum)
	}
	b.Write(hdr)
	writeFlate(rng, &b, data, levels[rng.IntN(len(levels))])
	tr := binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(data))
	b.Write(binary.LittleEndian.AppendUint32(tr, uint32(len(data))))
	return b.Bytes()
}

// zlibStream returns data as zlib, sometimes with another window size (CINFO)
// or with FDICT (dictionary id 1 or another).
func zlibStream(rng *rand.Rand, data []byte) []byte {
	var b bytes.Buffer
	w, _ := stdzlib.NewWriterLevel(&b, levels[rng.IntN(len(levels))])
	w.Write(data)
	w.Close()
	s := b.Bytes()
	if rng.IntN(8) == 0 { // any window size, valid or not
		s[0] = s[0]&0x0f | byte(rng.IntN(16))<<4
		s[1] &^= 31
		s[1] += byte(31 - (uint16(s[0])<<8|uint16(s[1]))%31)
	}
	if rng.IntN(5) == 0 {
		cmf := s[0]
		flg := (s[1] | 0x20) &^ 31
		flg += byte(31 - (uint16(cmf)<<8|uint16(flg))%31)
		id := uint32(1)
		if rng.IntN(2) == 0 {
			id = rng.Uint32()
		}
		s = append(binary.BigEndian.AppendUint32([]byte{cmf, flg}, id), s[2:]...)
	}
	return s
}

// stream returns a compressed body of about n decoded bytes.
func stream(rng *rand.Rand, n int) (uint8, []byte) {
	switch rng.IntN(3) {
	case 0:
		var b []byte
		for m := 1 + rng.IntN(3); m > 0; m-- {
			b = append(b, gzipMember(rng, content(rng, rng.IntN(n+1)))...)
		}
		return encGzip, b
	case 1:
		return encDeflate, zlibStream(rng, content(rng, n))
	}
	var b bytes.Buffer
	writeFlate(rng, &b, content(rng, n), levels[rng.IntN(len(levels))])
	return encDeflate, b.Bytes()
}

// limits returns maxOut and ratio for body: none, a size cap, a low ratio,
// the defaults, or limits at the edge of one of the klauspost path's limit
// checks (see edgeLimits).
func limits(rng *rand.Rand, enc uint8, body []byte) (int64, int64) {
	switch rng.IntN(6) {
	case 0:
		return 0, 0
	case 1:
		return 1 + rng.Int64N(1<<18), 0
	case 2:
		return 0, 1 + rng.Int64N(20)
	case 3:
		o := DefaultOptions()
		return o.MaxDecompressed, o.MaxRatio
	}
	edges := edgeLimits(enc, body)
	if len(edges) == 0 {
		return 0, 0
	}
	e := edges[rng.IntN(len(edges))]
	return e[0], e[1]
}

// edgeLimits returns, for each of the klauspost path's limit checks on
// body, (maxOut, ratio) pairs where the verdict turns on that check: a cap
// one byte either side of its output, the largest ratio its output exceeds
// and the smallest it does not. Counting one compressed byte more or less
// than klauspost has read, or checking at another point, then changes the
// outcome.
func edgeLimits(enc uint8, body []byte) [][2]int64 {
	var checks [][2]int64
	reference(klauspost, enc, body, 0, 0, &checks)
	var edges [][2]int64
	for _, c := range checks {
		out, read := c[0], max(c[1], 1)
		edges = append(edges, [2]int64{max(1, out-1), 0}, [2]int64{out, 0}, [2]int64{out + 1, 0})
		if out > 1<<16 {
			edges = append(edges, [2]int64{0, max(1, (out-1)/read)}, [2]int64{0, (out + read - 1) / read})
		}
	}
	return edges
}

// mutate returns a damaged copy of body.
func mutate(rng *rand.Rand, body []byte) []byte {
	b := bytes.Clone(body)
	if len(b) == 0 {
		return b
	}
	for k := 1 + rng.IntN(3); k > 0; k-- {
		i := rng.IntN(len(b))
		switch rng.IntN(4) {
		case 0:
			b[i] = byte(rng.Uint32())
		case 1:
			b = append(b[:i:i], b[i+1:]...)
		case 2:
			b = append(b[:i:i], append([]byte{byte(rng.Uint32())}, b[i:]...)...)
		default:
			b[i] ^= 1 << rng.IntN(8)
		}
		if len(b) == 0 {
			break
		}
	}
	return b
}

func TestInflateCountDifferential(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var z inflater // reused: tables survive across bodies
	var st diffStats
	check := func(what string, enc uint8, body []byte) {
		t.Helper()
		maxOut, ratio := limits(rng, enc, body)
		if msg := differ(&z, enc, body, maxOut, ratio, rng, &st); msg != "" {
			t.Fatalf("%s (enc %d, maxOut %d, ratio %d, %d bytes %x): %s", what, enc, maxOut, ratio, len(body), body[:min(len(body), 64)], msg)
		}
	}
	streams := 300
	if testing.Short() {
		streams = 60
	}
	for s := range streams {
		size := []int{0, 1, 50, 1000, 20000, 300000}[s%6]
		if s%12 == 11 {
			size = 3 << 20
		}
		enc, body := stream(rng, size)
		check("whole", enc, body)
		cuts, mutations := 20, 30
		switch {
		case len(body) <= 600:
			for i := range body {
				check(fmt.Sprintf("cut at %d", i), enc, body[:i])
			}
		case size > 1<<20:
			cuts, mutations = 2, 3
		}
		if len(body) > 600 {
			for range cuts {
				check("cut", enc, body[:rng.IntN(len(body))])
			}
		}
		for range mutations {
			check("mutated", enc, mutate(rng, body))
		}
		check("trailing garbage", enc, append(bytes.Clone(body), content(rng, rng.IntN(30))...))
	}
	// Bombs in gzip members and zlib, at every limit edge: the check at a
	// member's end comes after the next header or the trailer is read.
	for range 6 {
		var body []byte
		for range 3 {
			body = append(body, gzipMember(rng, make([]byte, 1<<16+rng.IntN(1<<17)))...)
		}
		for _, e := range edgeLimits(encGzip, body) {
			if msg := differ(&z, encGzip, body, e[0], e[1], rng, &st); msg != "" {
				t.Fatalf("gzip bomb (maxOut %d, ratio %d): %s", e[0], e[1], msg)
			}
		}
	}
	zbomb := zlibStream(rng, make([]byte, 1<<18))
	for _, e := range edgeLimits(encDeflate, zbomb) {
		if msg := differ(&z, encDeflate, zbomb, e[0], e[1], rng, &st); msg != "" {
			t.Fatalf("zlib bomb (maxOut %d, ratio %d): %s", e[0], e[1], msg)
		}
	}
	for _, c := range craftedStreams() {
		check(c.name, encDeflate, c.body)
		// Raw, and as zlib (the Adler-32 is not checked).
		for _, body := range [][]byte{c.body, append(append([]byte{0x78, 0x9c}, c.body...), 0, 0, 0, 0)} {
			for _, e := range edgeLimits(encDeflate, body) {
				if msg := differ(&z, encDeflate, body, e[0], e[1], rng, &st); msg != "" {
					t.Fatalf("%s (maxOut %d, ratio %d): %s", c.name, e[0], e[1], msg)
				}
			}
		}
		for i := range c.body {
			check(c.name+" cut", encDeflate, c.body[:i])
		}
		for range 50 {
			check(c.name+" mutated", encDeflate, mutate(rng, c.body))
		}
	}
	t.Logf("%d bodies: %d failed, %d limited, %d with only a checksum wrong, %d on an empty code", st.runs, st.failed, st.limited, st.crcOnly, st.emptyCode)
}

// bitWriter writes deflate bits for hand-made streams.
type bitWriter struct {
	b  []byte
	v  uint64
	nv uint
}

func (w *bitWriter) bits(v uint64, n uint) {
	w.v |= v << w.nv
	w.nv += n
	for w.nv >= 8 {
		w.b = append(w.b, byte(w.v))
		w.v >>= 8
		w.nv -= 8
	}
}

// code writes a Huffman code, most significant bit first.
func (w *bitWriter) code(c uint64, n uint) {
	for i := int(n) - 1; i >= 0; i-- {
		w.bits(c>>uint(i)&1, 1)
	}
}

func (w *bitWriter) bytes() []byte {
	if w.nv > 0 {
		return append(w.b, byte(w.v))
	}
	return w.b
}

// dynamic writes a dynamic block header whose code length code gives
// symbols 0-15 four bits each (the code of length l is l), then the lengths.
func (w *bitWriter) dynamic(final bool, lit, dist []uint8) {
	w.bits(map[bool]uint64{false: 4, true: 5}[final], 3)
	w.bits(uint64(len(lit)-257), 5)
	w.bits(uint64(len(dist)-1), 5)
	w.bits(15, 4)
	for _, s := range codeOrder {
		w.bits(map[bool]uint64{false: 0, true: 4}[s < 16], 3)
	}
	for _, l := range append(bytes.Clone(lit), dist...) {
		w.code(uint64(l), 4)
	}
}

type crafted struct {
	name string
	body []byte
}

// craftedStreams returns raw deflate streams that reach klauspost's rules
// directly. Codes: with literals 'a', 'b', EOB and length 3 (257) two bits
// each, their codes are 0-3 in that order.
func craftedStreams() []crafted {
	lit := make([]uint8, 258)
	lit['a'], lit['b'], lit[symEOB], lit[257] = 2, 2, 2, 2
	var cs []crafted
	add := func(name string, f func(w *bitWriter)) {
		var w bitWriter
		f(&w)
		cs = append(cs, crafted{name, w.bytes()})
	}
	add("empty distance code in a later block", func(w *bitWriter) {
		w.dynamic(false, lit, []uint8{1, 1})
		w.code(0, 2)
		w.code(1, 2)
		w.code(3, 2)
		w.code(1, 1)
		w.code(2, 2)
		w.dynamic(true, lit, []uint8{0})
		w.code(3, 2)
		w.code(1, 1)
		w.code(2, 2)
	})
	add("empty distance code unused", func(w *bitWriter) {
		w.dynamic(true, lit, []uint8{0})
		w.code(0, 2)
		w.code(2, 2)
	})
	add("single distance code of length 1", func(w *bitWriter) {
		w.dynamic(true, lit, []uint8{1})
		w.code(0, 2)
		w.code(3, 2)
		w.code(0, 1) // distance 1
		w.code(3, 2)
		w.code(1, 1) // unused pattern
		w.code(2, 2)
	})
	add("no end-of-block code", func(w *bitWriter) {
		l := bytes.Clone(lit)
		l[symEOB], l['c'] = 0, 2
		w.dynamic(true, l, []uint8{1, 1})
		for range 20 {
			w.code(1, 2)
		}
	})
	add("incomplete literal code", func(w *bitWriter) {
		l := bytes.Clone(lit)
		l[257] = 0
		w.dynamic(true, l, []uint8{1, 1})
	})
	add("over-subscribed distance code", func(w *bitWriter) {
		w.dynamic(true, lit, []uint8{1, 1, 1})
	})
	add("HLIT 287", func(w *bitWriter) { w.dynamic(true, make([]uint8, 287), []uint8{1}) })
	add("HDIST 31", func(w *bitWriter) { w.dynamic(true, lit, make([]uint8, 31)) })
	add("repeat first", func(w *bitWriter) {
		w.bits(5, 3)
		w.bits(0, 5)
		w.bits(0, 5)
		w.bits(0, 4) // four code length code lengths: 16, 17, 18, 0
		for range 4 {
			w.bits(2, 3)
		}
		w.code(0, 2) // 16 with nothing before it
		w.bits(0, 2)
	})
	add("repeat past the end", func(w *bitWriter) {
		w.bits(5, 3)
		w.bits(0, 5)
		w.bits(0, 5)
		w.bits(0, 4)
		for range 4 {
			w.bits(2, 3)
		}
		for range 3 {
			w.code(2, 2) // 18: 11 + 127 zeros
			w.bits(127, 7)
		}
	})
	add("fixed: 286, distance 30, too far, reserved type", func(w *bitWriter) {
		w.bits(2, 3)        // fixed, not final
		w.code(0x30+'a', 8) // a
		w.code(0, 7)        // EOB
		w.bits(2, 3)
		w.code(0x30+'a', 8)
		w.code(0xc0+6, 8) // 286
		w.bits(2, 3)
		w.code(1, 7)  // length 3
		w.code(30, 5) // distance code 30
		w.bits(2, 3)
		w.code(1, 7)
		w.code(4, 5) // distance 5-6: too far
		w.bits(0, 1)
		w.bits(7, 3) // type 3
	})
	// Bombs: 'a', then matches of 258 at distance 1 (3 bits each), and
	// something after them, so that the limit checks before and at the
	// end see a high ratio. Codes: 'a' 0, EOB 1, 257 2, 285 3.
	bomb := make([]uint8, 286)
	bomb['a'], bomb[symEOB], bomb[257], bomb[285] = 2, 2, 2, 2
	matches := func(w *bitWriter, n int) {
		w.code(0, 2)
		for range n {
			w.code(3, 2)
			w.code(0, 1)
		}
	}
	for k := range 8 { // every bit alignment of what follows
		add(fmt.Sprintf("bomb %d, then reserved block type", k), func(w *bitWriter) {
			w.dynamic(false, bomb, []uint8{1, 1})
			matches(w, 300+k)
			w.code(1, 2)
			w.bits(6, 3)
			w.bits(0, 13)
		})
		add(fmt.Sprintf("bomb %d, then unused distance pattern", k), func(w *bitWriter) {
			w.dynamic(true, bomb, []uint8{1})
			matches(w, 300+k)
			w.code(3, 2)
			w.code(1, 1)
			w.bits(0, 13)
		})
	}
	add("bombs between sync flushes", func(w *bitWriter) {
		for i := range 4 {
			w.dynamic(false, bomb, []uint8{1, 1})
			matches(w, 50+i*70)
			w.code(1, 2)
			w.bits(0, 3)
			w.bits(0, (8-w.nv)%8)
			w.bits(0xffff0000, 32)
		}
		w.bits(3, 3)
		w.code(0x30+'a', 8)
		w.code(0, 7)
	})
	add("bomb, then a final empty stored block", func(w *bitWriter) {
		w.dynamic(false, bomb, []uint8{1, 1})
		matches(w, 300)
		w.code(1, 2)
		w.bits(1, 3)
		w.bits(0, (8-w.nv)%8)
		w.bits(0xffff0000, 32)
	})
	add("fixed bomb, then 286", func(w *bitWriter) {
		w.bits(3, 3)
		w.code(0x30+'a', 8)
		for range 300 {
			w.code(0xc0+5, 8)
			w.code(0, 5)
		}
		w.code(0xc0+6, 8)
		w.bits(0, 13)
	})
	add("stored blocks", func(w *bitWriter) {
		w.bits(0, 3)
		w.bits(0, 5)
		w.bits(3, 16)
		w.bits(^uint64(3)&0xffff, 16)
		w.bits(0x636261, 24)
		w.bits(0, 3)
		w.bits(0, 5)
		w.bits(0, 16)
		w.bits(0xffff, 16) // sync flush
		w.bits(1, 3)
		w.bits(0, 5)
		w.bits(1, 16)
		w.bits(1, 16) // NLEN wrong
		w.bits(0, 8)
	})
	return cs
}

// TestInflateCountEmptyCode pins the divergence: a match in a block whose
// distance code is empty fails, as in Go's compress/flate, where klauspost
// decodes it with the previous block's distance code.
func TestInflateCountEmptyCode(t *testing.T) {
	body := craftedStreams()[0].body
	var z inflater
	got := countPath(&z, encDeflate, body, 0, 0, rand.New(rand.NewPCG(1, 1)))
	alt, _ := reference(stdlib, encDeflate, body, 0, 0, nil)
	if got != (outcome{5, ErrInflateFailed}) || got != alt {
		t.Errorf("counter %v, compress/flate %v, want (5, %q)", got, alt, ErrInflateFailed)
	}
}

// FuzzInflateCount runs the differential check on arbitrary bytes: the
// first byte picks the encoding, the limits and how the body is split.
func FuzzInflateCount(f *testing.F) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 40 {
		enc, body := stream(rng, []int{0, 10, 300, 5000}[rng.IntN(4)])
		f.Add(append([]byte{byte(rng.IntN(256))&^1 | (enc - encGzip)}, body...))
	}
	for _, c := range craftedStreams() {
		f.Add(append([]byte{encDeflate - encGzip}, c.body...))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) == 0 {
			return
		}
		var z inflater
		enc := in[0]&1 + encGzip
		var maxOut, ratio int64
		body := in[1:]
		seed := crc32.ChecksumIEEE(body)
		switch in[0] >> 1 & 3 {
		case 1:
			maxOut = int64(in[0]>>3) * 97
		case 2:
			ratio = int64(in[0]>>3) + 1
		case 3:
			maxOut, ratio = limits(rand.New(rand.NewPCG(uint64(seed), uint64(in[0]))), enc, body)
		}
		for split := range 2 {
			var st diffStats
			if msg := differ(&z, enc, body, maxOut, ratio, rand.New(rand.NewPCG(uint64(seed), uint64(split))), &st); msg != "" {
				t.Fatal(msg)
			}
		}
	})
}

// BenchmarkInflateCount compares the counter with the klauspost path on
// 4 MB of text and of HTML gzipped at levels 1, 6 and 9, fed in 1460-byte
// segments; MB/s are of compressed input.
func BenchmarkInflateCount(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, kind := range []string{"text", "html"} {
		data := prose(rng, 4<<20)
		if kind == "html" {
			data = page(rng, 4<<20)
		}
		for _, level := range []int{1, 6, 9} {
			var buf bytes.Buffer
			w, _ := stdgzip.NewWriterLevel(&buf, level)
			w.Write(data)
			w.Close()
			gz := buf.Bytes()
			for _, path := range []string{"count", "klauspost"} {
				b.Run(fmt.Sprintf("%s/%d/%s", kind, level, path), func(b *testing.B) {
					var keep func([]byte)
					if path == "klauspost" {
						keep = func([]byte) {}
					}
					var z inflater
					b.SetBytes(int64(len(gz)))
					b.ReportAllocs()
					for b.Loop() {
						z.reset(encGzip, 0, 0, keep)
						for off := 0; off < len(gz); off += 1460 {
							z.write(gz[off:min(off+1460, len(gz))])
						}
						z.finish()
						if z.out != int64(len(data)) || z.err != "" {
							b.Fatalf("decoded %d bytes, error %q", z.out, z.err)
						}
					}
					b.ReportMetric(float64(len(data))/float64(len(gz)), "ratio")
				})
			}
		}
	}
}

// TestLiteralPairs checks the literal pair entries of random codes against
// decoding the two literals one at a time, and that pairs are formed.
func TestLiteralPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	pairs := 0
	for range 200 {
		// A random complete code over 286 symbols: split leaves at random.
		lens := make([]uint8, 286)
		leaves := []int{0}
		lens[0] = 0
		depth := map[int]uint8{0: 0}
		for len(leaves) < 286 {
			k := rng.IntN(len(leaves))
			s := leaves[k]
			if depth[s] >= 15 {
				continue
			}
			depth[s]++
			ns := len(leaves)
			depth[ns] = depth[s]
			leaves = append(leaves, ns)
		}
		perm := rng.Perm(286)
		for s := range leaves {
			lens[perm[s]] = depth[s]
		}
		var single, paired codeTables
		if _, ok := build(single.lit[:], lens, litSym[:], litKind); !ok {
			t.Fatal("complete code rejected")
		}
		paired.lit = single.lit
		pairLiterals(&paired.lit)
		for i := range 1 << litRoot {
			e := paired.lit[i]
			if e == single.lit[i] {
				continue
			}
			pairs++
			first := single.lit[i]
			n := first & litConsume
			second := single.lit[i>>n]
			if first&second&litLiteral == 0 || e&litConsume != n+second&litConsume || e>>16&3 != 2 || e>>8&15 != first>>8&15 {
				t.Fatalf("entry %#x: pair %#x of %#x and %#x", i, e, first, second)
			}
		}
	}
	if pairs == 0 {
		t.Fatal("no literal pairs")
	}
}
