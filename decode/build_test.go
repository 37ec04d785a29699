package decode

import "encoding/binary"

// Builders for hand-made frames. Each returns a fresh slice; tests that need
// a broken field build a good frame and overwrite bytes.

var (
	macA = []byte{0x02, 0, 0, 0, 0, 0x0a}
	macB = []byte{0x02, 0, 0, 0, 0, 0x0b}
	ip4A = []byte{192, 0, 2, 1}
	ip4B = []byte{198, 51, 100, 2}
	ip6A = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	ip6B = []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2}
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// eth is an Ethernet II header from macA to macB.
func eth(et uint16) []byte { return cat(macB, macA, u16(et)) }

// vlanTag is one 802.1Q-style tag body: TCI then the next ethertype.
func vlanTag(id, next uint16) []byte { return cat(u16(id), u16(next)) }

// mpls is one MPLS label stack entry.
func mpls(label uint32, bos bool) []byte {
	v := label<<12 | 64
	if bos {
		v |= 1 << 8
	}
	return u32(v)
}

// ipv4 builds an IPv4 header (with opts, a multiple of 4 bytes) and payload.
func ipv4(proto uint8, opts, payload []byte) []byte {
	hl := 20 + len(opts)
	h := make([]byte, 20, hl)
	h[0] = 0x40 | byte(hl/4)
	binary.BigEndian.PutUint16(h[2:], uint16(hl+len(payload)))
	binary.BigEndian.PutUint16(h[4:], 0x1234)
	h[6] = 0x40 // DF
	h[8] = 64
	h[9] = proto
	copy(h[12:], ip4A)
	copy(h[16:], ip4B)
	return cat(h, opts, payload)
}

// ipv6 builds an IPv6 header with next header nh and payload (extension
// headers included in payload).
func ipv6(nh uint8, payload []byte) []byte {
	h := make([]byte, 40)
	h[0] = 0x60
	binary.BigEndian.PutUint16(h[4:], uint16(len(payload)))
	h[6] = nh
	h[7] = 63
	copy(h[8:], ip6A)
	copy(h[24:], ip6B)
	return cat(h, payload)
}

// ext6 is an IPv6 hop-by-hop/routing/destination options header of 8 bytes.
func ext6(next uint8) []byte { return []byte{next, 0, 1, 4, 0, 0, 0, 0} }

// frag6 is an IPv6 fragment header.
func frag6(next uint8, offset uint16, more bool, id uint32) []byte {
	fo := offset &^ 7
	if more {
		fo |= 1
	}
	return cat([]byte{next, 0}, u16(fo), u32(id))
}

// tcp builds a TCP header (opts padded by the caller to 4 bytes) + payload.
func tcp(sport, dport uint16, flags uint8, opts, payload []byte) []byte {
	h := make([]byte, 20)
	binary.BigEndian.PutUint16(h, sport)
	binary.BigEndian.PutUint16(h[2:], dport)
	binary.BigEndian.PutUint32(h[4:], 1000)
	binary.BigEndian.PutUint32(h[8:], 2000)
	h[12] = byte((20+len(opts))/4) << 4
	h[13] = flags
	binary.BigEndian.PutUint16(h[14:], 65535)
	return cat(h, opts, payload)
}

func udp(sport, dport uint16, payload []byte) []byte {
	return cat(u16(sport), u16(dport), u16(uint16(8+len(payload))), u16(0), payload)
}

// set returns b after f has modified it in place.
func set(b []byte, f func(b []byte)) []byte { f(b); return b }

// Common TCP option lists.
var (
	synOpts = []byte{
		2, 4, 0x05, 0xb4, // MSS 1460
		4, 2, // SACK permitted
		8, 10, 0, 0, 0, 1, 0, 0, 0, 0, // timestamps 1, 0
		1,       // NOP
		3, 3, 7, // window scale 7
	}
	sackOpts = []byte{
		1, 1, 5, 18, 0, 0, 0x10, 0, 0, 0, 0x20, 0, 0, 0, 0x30, 0, 0, 0, 0x40, 0,
	}
)
