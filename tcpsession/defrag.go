package tcpsession

import (
	"encoding/binary"
	"net/netip"
	"sort"

	"github.com/pcapq/pcapq/decode"
)

// DefragOptions bound a Defragmenter.
type DefragOptions struct {
	MaxPending int   // datagrams being reassembled at once; past it the oldest is dropped
	MaxBytes   int64 // fragment bytes held across all pending datagrams
	Timeout    int64 // capture time (ns) after the first fragment before a datagram is dropped
}

// DefaultDefragOptions returns Linux-like bounds (30 s, as ipfrag_time).
func DefaultDefragOptions() DefragOptions {
	return DefragOptions{MaxPending: 4096, MaxBytes: 16 << 20, Timeout: 30e9}
}

// DefragStats counts what a Defragmenter did.
type DefragStats struct {
	Fragments   int64 // fragments given to Add
	Reassembled int64 // datagrams completed
	TimedOut    int64 // datagrams dropped by the timeout
	Evicted     int64 // datagrams dropped by MaxPending / MaxBytes
	Overlaps    int64 // fragments overlapping earlier ones (IPv4: first copy wins; IPv6: datagram dropped, RFC 5722)
	TooBig      int64 // datagrams that would exceed 65535 bytes (dropped)
	Malformed   int64 // fragments whose headers could not be parsed
}

const maxDatagram = 65535

type fragKey struct {
	src, dst netip.Addr
	id       uint32
	proto    uint8 // IPv4 protocol (0 for IPv6)
	v6       bool
}

type fragPiece struct {
	off  int
	data []byte
}

type fragDatagram struct {
	key    fragKey
	first  int64  // capture time of the first fragment seen
	header []byte // IPv4 header / IPv6 unfragmentable part, from the offset-0 fragment
	nhOff  int    // IPv6: offset in header of the next-header byte that named the fragment header
	nextH  uint8  // IPv6: next header after the fragment header
	pieces []fragPiece
	total  int // payload length, known once the last fragment (MF=0) is seen; -1 before
	bytes  int64
	bad    bool
}

// Defragmenter reassembles IPv4 and IPv6 fragments, with bounded memory
// and a timeout measured in capture time. It is not safe for concurrent use.
type Defragmenter struct {
	opts  DefragOptions
	pend  map[fragKey]*fragDatagram
	order []*fragDatagram // by first fragment time, for timeouts and eviction
	bytes int64
	buf   []byte
	stats DefragStats
}

// NewDefragmenter returns a Defragmenter with the given bounds (zero
// fields take the DefaultDefragOptions values).
func NewDefragmenter(opts DefragOptions) *Defragmenter {
	d := DefaultDefragOptions()
	if opts.MaxPending <= 0 {
		opts.MaxPending = d.MaxPending
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = d.MaxBytes
	}
	if opts.Timeout <= 0 {
		opts.Timeout = d.Timeout
	}
	return &Defragmenter{opts: opts, pend: make(map[fragKey]*fragDatagram)}
}

// Stats returns the counters so far.
func (d *Defragmenter) Stats() DefragStats { return d.stats }

// Add takes one fragment (p.IsFragment is true) captured at ts. ipPacket
// must be the raw IP packet of the frame: the IP header through the end of
// the IP payload (the frame minus its link-layer header and trailer); it is
// copied, so it need only be valid during the call.
//
// When the fragment completes a datagram, Add returns the whole IP packet
// (IPv4: header with MF=0, offset 0, corrected total length and checksum;
// IPv6: the fragment header removed, payload length corrected) and true;
// decode it with decode.Decode(decode.LinkRaw, ...). The returned slice is
// owned by the Defragmenter and valid until the next call to Add.
func (d *Defragmenter) Add(ts int64, p *decode.Packet, ipPacket []byte) (datagram []byte, done bool) {
	d.stats.Fragments++
	d.expire(ts)
	var (
		k       fragKey
		off     int
		more    bool
		payload []byte
		header  []byte
		nhOff   int
		nextH   uint8
		ok      bool
	)
	switch {
	case len(ipPacket) >= 20 && ipPacket[0]>>4 == 4:
		hl := int(ipPacket[0]&0x0f) * 4
		tl := int(binary.BigEndian.Uint16(ipPacket[2:]))
		if hl < 20 || tl < hl || tl > len(ipPacket) {
			break
		}
		fo := binary.BigEndian.Uint16(ipPacket[6:])
		off = int(fo&0x1fff) * 8
		more = fo&0x2000 != 0
		src, _ := netip.AddrFromSlice(ipPacket[12:16])
		dst, _ := netip.AddrFromSlice(ipPacket[16:20])
		k = fragKey{src: src, dst: dst, id: uint32(binary.BigEndian.Uint16(ipPacket[4:])), proto: ipPacket[9]}
		payload = ipPacket[hl:tl]
		header = ipPacket[:hl]
		ok = true
	case len(ipPacket) >= 40 && ipPacket[0]>>4 == 6:
		end := 40 + int(binary.BigEndian.Uint16(ipPacket[4:]))
		if end > len(ipPacket) {
			break
		}
		nh, pos, nhAt := ipPacket[6], 40, 6
		for i := 0; i < 16 && nh != 44; i++ {
			switch nh {
			case 0, 43, 60: // hop-by-hop, routing, destination options
				if pos+8 > end {
					pos = end + 1
					break
				}
				nhAt = pos
				nh = ipPacket[pos]
				pos += 8 + int(ipPacket[pos+1])*8
			default:
				pos = end + 1
			}
			if pos > end {
				break
			}
		}
		if nh != 44 || pos+8 > end {
			break
		}
		fh := ipPacket[pos : pos+8]
		fo := binary.BigEndian.Uint16(fh[2:])
		off = int(fo &^ 7)
		more = fo&1 != 0
		src, _ := netip.AddrFromSlice(ipPacket[8:24])
		dst, _ := netip.AddrFromSlice(ipPacket[24:40])
		k = fragKey{src: src, dst: dst, id: binary.BigEndian.Uint32(fh[4:]), v6: true}
		payload = ipPacket[pos+8 : end]
		header = ipPacket[:pos]
		nhOff, nextH = nhAt, fh[0]
		ok = true
	}
	if !ok {
		d.stats.Malformed++
		return nil, false
	}
	if off+len(payload) > maxDatagram {
		d.stats.TooBig++
		if g := d.pend[k]; g != nil {
			d.drop(g)
		}
		return nil, false
	}
	if off == 0 && !more {
		// Atomic fragment (IPv6) : nothing to wait for.
		return d.build(header, nhOff, nextH, k.v6, [][]byte{payload}, len(payload)), true
	}
	g := d.pend[k]
	if g == nil {
		for len(d.pend) >= d.opts.MaxPending && len(d.order) > 0 {
			d.stats.Evicted++
			d.drop(d.order[0])
		}
		g = &fragDatagram{key: k, first: ts, total: -1}
		d.pend[k] = g
		d.order = append(d.order, g)
	}
	if off == 0 {
		g.header = append(g.header[:0], header...)
		g.nhOff, g.nextH = nhOff, nextH
	}
	if !more {
		end := off + len(payload)
		if g.total >= 0 && g.total != end {
			g.bad = true
		}
		g.total = end
	}
	// Insert sorted; detect overlaps.
	i := sort.Search(len(g.pieces), func(i int) bool { return g.pieces[i].off >= off })
	overlap := (i > 0 && g.pieces[i-1].off+len(g.pieces[i-1].data) > off) ||
		(i < len(g.pieces) && off+len(payload) > g.pieces[i].off)
	if overlap {
		d.stats.Overlaps++
		if k.v6 {
			g.bad = true
		}
	}
	piece := fragPiece{off: off, data: append([]byte(nil), payload...)}
	g.pieces = append(g.pieces, fragPiece{})
	copy(g.pieces[i+1:], g.pieces[i:])
	g.pieces[i] = piece
	g.bytes += int64(len(payload))
	d.bytes += int64(len(payload))
	for d.bytes > d.opts.MaxBytes && len(d.order) > 0 {
		d.stats.Evicted++
		victim := d.order[0]
		d.drop(victim)
		if victim == g {
			return nil, false
		}
	}
	if g.bad {
		if k.v6 || g.total >= 0 && g.total != off+len(payload) && !more {
			d.drop(g)
		}
		return nil, false
	}
	if g.total < 0 || g.header == nil {
		return nil, false
	}
	// Complete? Walk the pieces (first copy wins on overlap).
	covered := 0
	for _, pc := range g.pieces {
		if pc.off > covered {
			return nil, false
		}
		covered = max(covered, pc.off+len(pc.data))
	}
	if covered < g.total {
		return nil, false
	}
	parts := make([][]byte, 0, len(g.pieces))
	covered = 0
	for _, pc := range g.pieces {
		if e := pc.off + len(pc.data); e > covered {
			parts = append(parts, pc.data[covered-pc.off:min(len(pc.data), g.total-pc.off)])
			covered = e
		}
		if covered >= g.total {
			break
		}
	}
	out := d.build(g.header, g.nhOff, g.nextH, k.v6, parts, g.total)
	d.drop(g)
	d.stats.Reassembled++
	return out, true
}

// build writes header + payload parts into d.buf with corrected lengths.
func (d *Defragmenter) build(header []byte, nhOff int, nextH uint8, v6 bool, parts [][]byte, total int) []byte {
	b := append(d.buf[:0], header...)
	for _, p := range parts {
		b = append(b, p...)
	}
	d.buf = b
	if v6 {
		binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
		b[nhOff] = nextH
		return b
	}
	hl := len(header)
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	b[6] &= 0x40 // keep DF, clear MF and the offset
	b[7] = 0
	b[10], b[11] = 0, 0
	var sum uint32
	for i := 0; i+1 < hl; i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	for sum > 0xffff {
		sum = sum>>16 + sum&0xffff
	}
	binary.BigEndian.PutUint16(b[10:], ^uint16(sum))
	return b
}

func (d *Defragmenter) drop(g *fragDatagram) {
	if d.pend[g.key] != g {
		return
	}
	delete(d.pend, g.key)
	d.bytes -= g.bytes
	for i, o := range d.order {
		if o == g {
			d.order = append(d.order[:i], d.order[i+1:]...)
			break
		}
	}
}

func (d *Defragmenter) expire(ts int64) {
	for len(d.order) > 0 && d.order[0].first+d.opts.Timeout < ts {
		d.stats.TimedOut++
		d.drop(d.order[0])
	}
}
