package httpextract

// Huffman decoding tables of the count-only inflater (inflatecount.go).
//
// A table is indexed by the next input bits, least significant first: a
// root table of 1<<root entries, then subtables for codes longer than root
// bits, each reached from a link entry in the root (as zlib's
// inflate_table). Entries are uint32s:
//
//	bits 0-7   bits the fast loop consumes: the code and its extra bits
//	           (a literal pair: both codes)
//	bits 8-11  code length (of the first code of a pair); 0 marks an
//	           unused bit pattern
//	bits 12-15 extra bits, or subtable index bits for a link
//	bits 16-   value: literal count (1 or 2), length base (3-258), symbol
//	           (256, 286, 287), the largest distance of a distance code
//	           (its base plus all extra bits set: 1-32768), code length
//	           symbol (0-18), or a link's subtable offset
//
// with flags in bits 29-31 for literal/length codes and in bits 5-6 for
// distance codes (whose consumed bits fit in bits 0-4). Where a length code
// and its extra bits fit in the root, the root has an entry for each value
// of the extra bits, holding the length, with the extra bits counted in the
// code length: decoding the code and then its extra bits needs the same
// input, so the result is the same, with no extra bits to extract.
//
// A code is only accepted when klauspost/compress/flate accepts it: complete,
// or empty, or a single code of length 1 (zlib's degenerate case); the bit
// patterns such codes leave unused decode as failures.
const (
	litRoot  = 11
	distRoot = 10
	clenRoot = 7 // code length codes are at most 7 bits: no subtables

	litConsume = 0xff
	litSpecial = 1 << 29 // end of block, symbol 286/287, or unused
	litLink    = 1 << 30
	litLiteral = 1 << 31

	// Table sizes: the root, plus room for the subtables of any code the
	// builder accepts (a subtable of 2^k entries serves at least k+1 codes,
	// so 286 codes of at most 15 bits need fewer than 1024 entries past an
	// 11-bit root, and 30 codes fewer than 512 past a 10-bit one). The
	// distance table's last entry is never written and stays 0: the fast
	// loop looks it up for literals (see counter.fast).
	litSize  = 1<<litRoot + 1024
	distSize = 2 << distRoot

	distConsume = 0x1f
	distSpecial = 1 << 5 // code 30/31, or unused
	distLink    = 1 << 6

	symEOB = 256
)

// codeTables holds the tables of a block's literal/length and distance
// codes, together so that one pointer reaches both in the decoding loop.
// The *Read values are the bits klauspost reads before a lookup with a
// table (the code's shortest length), which decide whether a stream cut
// short still decodes a symbol.
type codeTables struct {
	lit      [litSize]uint32
	dist     [distSize]uint32
	litRead  uint
	distRead uint
}

// tableKind gives a table's root, link flag and unused entry, and whether
// extra bits are folded into root entries.
type tableKind struct {
	root     uint
	linkFlag uint32
	unused   uint32
	fold     bool
}

var (
	litKind  = tableKind{root: litRoot, linkFlag: litLink, unused: litSpecial, fold: true}
	distKind = tableKind{root: distRoot, linkFlag: distLink, unused: distSpecial}
	clenKind = tableKind{root: clenRoot}
)

// Per-symbol entries without their code lengths (build adds those).
var (
	litSym  [288]uint32
	distSym [32]uint32
	clenSym [19]uint32
	// Fixed Huffman codes (RFC 1951 3.2.6). klauspost reads 7 bits before a
	// fixed literal/length lookup and exactly 5 for a fixed distance.
	fixedTables codeTables
)

func init() {
	for s := range 256 {
		litSym[s] = litLiteral | 1<<16
	}
	litSym[symEOB] = litSpecial | symEOB<<16
	for s := 257; s < 286; s++ {
		base, extra := lengthCode(s)
		litSym[s] = uint32(base)<<16 | uint32(extra)<<12 | uint32(extra)
	}
	litSym[286] = litSpecial | 286<<16
	litSym[287] = litSpecial | 287<<16
	for d := range 30 {
		base, extra := distCode(d)
		distSym[d] = uint32(base+1<<extra-1)<<16 | uint32(extra)<<12 | uint32(extra)
	}
	distSym[30] = distSpecial | 30<<16
	distSym[31] = distSpecial | 31<<16
	for s := range clenSym {
		clenSym[s] = uint32(s) << 16
	}

	var lens [288]uint8
	for s := range lens {
		switch {
		case s < 144:
			lens[s] = 8
		case s < 256:
			lens[s] = 9
		case s < 280:
			lens[s] = 7
		default:
			lens[s] = 8
		}
	}
	fixedTables.litRead, _ = build(fixedTables.lit[:], lens[:], litSym[:], litKind)
	for d := range 32 {
		lens[d] = 5
	}
	fixedTables.distRead, _ = build(fixedTables.dist[:], lens[:32], distSym[:], distKind)
}

// lengthCode returns the base length and extra bits of length symbol s
// (257-285, RFC 1951 3.2.5).
func lengthCode(s int) (base, extra int) {
	switch {
	case s < 265:
		return s - 254, 0
	case s == 285:
		return 258, 0
	}
	extra = (s - 261) / 4
	return 3 + (4+(s-261)%4)<<extra, extra
}

// distCode returns the base distance and extra bits of distance code d (0-29).
func distCode(d int) (base, extra int) {
	if d < 4 {
		return d + 1, 0
	}
	extra = (d - 2) / 2
	return 1 + (2+d%2)<<extra, extra
}

// build makes t decode the canonical code with the given lengths (0: symbol
// unused), sym holding each symbol's entry without its length, and returns
// the code's shortest length. It fails for a code klauspost rejects:
// over-subscribed, or incomplete other than a single code of length 1. An
// empty code builds a table that fails on every lookup, where klauspost
// may instead decode with a stale earlier table (see doc.go).
func build(t []uint32, lengths []uint8, sym []uint32, k tableKind) (minLen uint, ok bool) {
	var count [16]int
	maxLen := 0
	for _, n := range lengths {
		if n == 0 {
			continue
		}
		count[n]++
		if minLen == 0 || uint(n) < minLen {
			minLen = uint(n)
		}
		maxLen = max(maxLen, int(n))
	}
	// code ends as the number of maxLen-bit patterns the code covers.
	code := 0
	for n := int(minLen); n <= maxLen && maxLen > 0; n++ {
		code = code<<1 + count[n]
	}
	if maxLen > 0 && code != 1<<maxLen && !(code == 1 && maxLen == 1) {
		return 0, false
	}
	root := t[:1<<k.root]
	if code != 1<<maxLen { // empty or degenerate: some patterns stay unused
		for i := range root {
			root[i] = k.unused
		}
		if maxLen == 0 {
			return 0, true
		}
	}

	// Symbols in canonical order: by code length, then symbol.
	var offs [17]int
	for n := 1; n < 16; n++ {
		offs[n+1] = offs[n] + count[n]
	}
	var sorted [288]uint16
	for s, n := range lengths {
		if n != 0 {
			sorted[offs[n]] = uint16(s)
			offs[n]++
		}
	}
	nsym := offs[15] // offs[n] is now where length n ends

	// Walk the codes in canonical order with rev the current code
	// bit-reversed (input order), filling each code's entries: every
	// pattern whose low bits are the code. Codes longer than root go to
	// the subtable of their low root bits, created when those change.
	var (
		rev    uint32 // current code, bit-reversed
		sub    = 0    // offset of the current subtable (0: root)
		subLen = k.root
		drop   uint // bits the current subtable's index skips
		low    = ^uint32(0)
		next   = len(root) // where the next subtable goes
	)
	mask := uint32(len(root) - 1)
	left := count // codes of each length not placed yet
	for i := 0; i < nsym; i++ {
		s := sorted[i]
		n := uint(lengths[s])
		if n > k.root && rev&mask != low {
			// Open a subtable: as wide as the longest code below this prefix.
			sub = next
			drop = k.root
			subLen = n - drop
			room := 1 << subLen
			for subLen+drop < uint(maxLen) {
				room -= left[subLen+drop]
				if room <= 0 {
					break
				}
				subLen++
				room <<= 1
			}
			low = rev & mask
			next += 1 << subLen
			t[low] = k.linkFlag | uint32(subLen)<<12 | uint32(sub)<<16
		}
		e := sym[s] + uint32(n)*(1+1<<8) // consumed bits and code length
		if x := uint(e >> 12 & 15); k.fold && x > 0 && n+x <= k.root {
			foldExtra(root, rev, n, x, e)
		} else {
			tab := root
			if sub != 0 {
				tab = t[sub : sub+1<<subLen]
			}
			replicate(tab, uint(rev>>drop), 1<<(n-drop), e)
		}
		left[n]--
		// Next code: increment rev as a bit-reversed n-bit number.
		inc := uint32(1) << (n - 1)
		for rev&inc != 0 {
			inc >>= 1
		}
		if inc != 0 {
			rev = rev&(inc-1) + inc
		} else {
			rev = 0
		}
	}
	return minLen, true
}

// replicate sets t[j], t[j+step], ... to e.
func replicate(t []uint32, j, step uint, e uint32) {
	for ; j < uint(len(t)); j += step {
		t[j] = e
	}
}

// foldExtra fills the root entries of an n-bit length code rev followed by
// each value v of its x extra bits: length base+v, code length n+x.
func foldExtra(root []uint32, rev uint32, n, x uint, e uint32) {
	e = e&^(0xf<<12) + uint32(x)<<8 // no extra bits left; code length n+x
	for v := range uint32(1) << x {
		replicate(root, uint(rev|v<<n), 1<<(n+x), e+v<<16)
	}
}

// pairLiterals lets one root entry of a literal/length table count two
// literals when both codes fit in the root bits: counting does not need
// their values. The slow path still reads one code (bits 8-11).
func pairLiterals(t *[litSize]uint32) {
	// Descending, so that t[i>>n] (a smaller index) is still a single.
	// Branch-free: whether an entry pairs is unpredictable.
	for i := uint32(1 << litRoot); i > 0; i-- {
		e := t[i-1]
		n := e & litConsume
		next := t[(i-1)>>(n&31)&(1<<litRoot-1)]
		n2 := next & litConsume
		// Both literals (bit 31), and n+n2 <= litRoot.
		pair := ((e & next) >> 31) & ((n + n2 - litRoot - 1) >> 31)
		t[i-1] = e + pair*(n2+1<<16)
	}
}

// lookup returns the entry for the next bits in bb; bits past the input's
// end must be zero, so that an entry longer than the bits available
// reports the need for more (codes are prefix-free).
func lookup(t []uint32, bb uint64, k *tableKind) uint32 {
	e := t[bb&(1<<k.root-1)]
	if e&k.linkFlag != 0 {
		e = t[e>>16&0x1fff+uint32(bb>>k.root)&(1<<(e>>12&15)-1)]
	}
	return e
}
