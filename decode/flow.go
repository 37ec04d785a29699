package decode

import (
	"encoding/binary"
	"math/bits"
)

// Mixing constants (wyhash's primes).
const (
	hashK0 = 0xa0761d6478bd642f
	hashK1 = 0xe7037ed1a0b428db
	hashK2 = 0x8ebc6af09c88c6e3
	hashK3 = 0x589965cc75374cc3
)

// mum is wyhash's multiply-and-fold mixing step.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// FlowHash returns a hash of (source IP, destination IP, IP protocol,
// source port, destination port) that is the same for both directions of a
// flow (A->B == B->A), for sharding flows across workers. The two endpoints
// are put in a canonical order before hashing, so the hash keeps full
// 64-bit mixing rather than the weaker sum or xor of two halves. IPv4
// addresses hash as their IPv4-mapped IPv6 form. Frames without IP hash
// their (zero) tuple alike.
func (p *Packet) FlowHash() uint64 {
	a, b := p.SrcIP.As16(), p.DstIP.As16()
	a0, a1 := binary.LittleEndian.Uint64(a[:8]), binary.LittleEndian.Uint64(a[8:])
	b0, b1 := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	pa, pb := p.SrcPort, p.DstPort
	if a0 > b0 || (a0 == b0 && (a1 > b1 || (a1 == b1 && pa > pb))) {
		a0, a1, b0, b1, pa, pb = b0, b1, a0, a1, pb, pa
	}
	h := mum(a0^hashK0, a1^hashK1)
	h = mum(h^b0^hashK2, b1^hashK3)
	t := uint64(pa)<<32 | uint64(pb)<<16 | uint64(p.IPProto)
	return mum(h^t^hashK1, hashK2^uint64(p.IPVersion))
}

// flagLetters lists the TCP flag letters from FIN upwards (FSRPAUEC).
const flagLetters = "FSRPAUEC"

// FlagsString appends the set TCP flags of p to buf in the order FSRPAUEC
// (SYN+ACK gives "SA") and returns the extended buffer. NS is not printed.
func (p *Packet) FlagsString(buf []byte) []byte {
	for i := 0; i < len(flagLetters); i++ {
		if p.TCPFlags&(1<<i) != 0 {
			buf = append(buf, flagLetters[i])
		}
	}
	return buf
}

// flagsText holds FlagsText's strings for all 256 flag bytes, built once.
var flagsText = func() (t [256]string) {
	var buf [8]byte
	for f := range t {
		p := Packet{TCPFlags: uint16(f)}
		t[f] = string(p.FlagsString(buf[:0]))
	}
	return t
}()

// FlagsText returns the FSRPAUEC letters of flags (as FlagsString) from a
// precomputed table, without allocating. NS (bit 8) is ignored.
func FlagsText(flags uint16) string {
	return flagsText[flags&0xFF]
}
