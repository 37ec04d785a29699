package decode

import (
	"encoding/binary"
	"net/netip"
)

// Warning kinds added by the decoder implementation (the contract kinds are
// in packet.go).
const (
	KindTruncatedIP      = "truncated_IP"   // IP total length larger than the frame on the wire (clamped)
	KindBadIPLength      = "bad_IP_length"  // IP total length smaller than the IP header(s)
	KindBadUDPLength     = "bad_UDP_length" // UDP length < 8 or larger than the IP payload (a first fragment's may be larger)
	KindBadNFLOGTLV      = "bad_NFLOG_TLV"  // NFLOG TLV length < 4 or beyond the data
	KindTooManyNFLOGTLVs = "too_many_NFLOG_TLVs"
	// KindSmallFragment: a first fragment with more to come ends inside
	// its TCP or UDP header (RFC 1858's tiny fragment); the fields it
	// holds are kept. Zeek logs this weird for every non-last fragment
	// under 64 bytes; the decoder sees only first fragments, and names
	// only those that split the transport header.
	KindSmallFragment = "excessively_small_fragment"
)

// Limits on how far the decoder follows input-controlled chains. Each is
// well above what real traffic uses; beyond it the decoder stops and warns.
const (
	MaxVLANTags     = 8  // 802.1Q / 802.1ad tags followed
	MaxMPLSLabels   = 16 // MPLS labels followed
	MaxIPv6ExtHdrs  = 8  // IPv6 extension headers followed
	MaxNFLOGTLVs    = 64 // NFLOG TLVs walked looking for the payload
	maxTCPWScale    = 14 // RFC 7323 2.3: larger shifts are treated as 14
	linkTypeMask    = 0x03FFFFFF
	etherTypeIPv4   = 0x0800
	etherTypeIPv6   = 0x86DD
	etherTypeARP    = 0x0806
	etherTypeRARP   = 0x8035
	etherTypeVLAN   = 0x8100
	etherTypeQinQ   = 0x88A8
	etherTypeQinQ2  = 0x9100
	etherTypeMPLS   = 0x8847
	etherTypeMPLSMC = 0x8848
)

// IP protocol numbers the decoder looks into.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// Reset clears every field, ready for the next frame.
func (p *Packet) Reset() {
	*p = Packet{WScale: -1}
}

// warn records the first problem met; later ones are dropped.
func (p *Packet) warn(kind string, off int) {
	if p.Warn == "" {
		p.Warn = kind
		p.WarnOffset = off
	}
}

func be16(b []byte) uint16 { return binary.BigEndian.Uint16(b) }
func be32(b []byte) uint32 { return binary.BigEndian.Uint32(b) }

// Decode decodes one frame of link type lt into p, overwriting every field.
// data is the captured frame and origLen its length on the wire (from the
// record header; a value below len(data) is taken as len(data)).
//
// Decode never fails, never panics and never allocates: on a problem it sets
// p.Warn and p.WarnOffset and keeps what it decoded before the problem.
// p.Payload aliases data; copy it if it must outlive data.
//
// The upper bits of a pcap link type field (FCS length, reserved bits) are
// ignored, as libpcap's LT_LINKTYPE does; p.LinkType keeps the value given.
func Decode(lt LinkType, data []byte, origLen int, p *Packet) {
	p.Reset()
	p.LinkType = lt
	p.CapLen = len(data)
	p.OrigLen = origLen
	wire := origLen
	if wire < len(data) {
		wire = len(data)
	}
	switch lt & linkTypeMask {
	case LinkEthernet:
		decodeEthernet(p, data, wire)
	case LinkRaw, LinkRaw12, LinkRaw14:
		decodeIP(p, data, 0, wire)
	case LinkIPv4:
		decodeIPv4(p, data, 0, wire)
	case LinkIPv6:
		decodeIPv6(p, data, 0, wire)
	case LinkNull:
		if len(data) < 4 {
			p.warn(KindTruncatedHeader, 0)
			return
		}
		// Host byte order of the capturing machine: the family values are
		// small, so a value with upper bits set was written the other way
		// round (Wireshark's packet-null.c does the same).
		af := binary.LittleEndian.Uint32(data)
		if af&0xFFFF0000 != 0 {
			af = be32(data)
		}
		decodeFamily(p, data, 4, wire, af)
	case LinkLoop:
		if len(data) < 4 {
			p.warn(KindTruncatedHeader, 0)
			return
		}
		decodeFamily(p, data, 4, wire, be32(data))
	case LinkCHDLC:
		if len(data) < 4 {
			p.warn(KindTruncatedHeader, 0)
			return
		}
		decodeEtherType(p, data, 4, wire, be16(data[2:]))
	case LinkSLL:
		if len(data) < 16 {
			p.warn(KindTruncatedHeader, 0)
			return
		}
		decodeEtherType(p, data, 16, wire, be16(data[14:]))
	case LinkSLL2:
		if len(data) < 20 {
			p.warn(KindTruncatedHeader, 0)
			return
		}
		decodeEtherType(p, data, 20, wire, be16(data))
	case LinkNFLOG:
		decodeNFLOG(p, data)
	default:
		p.warn(KindUnsupportedLinkType, 0)
	}
}

// decodeFamily dispatches on a BSD address family (DLT_NULL, DLT_LOOP).
// IPv6 has different AF_INET6 values on different BSDs (24, 28, 30).
func decodeFamily(p *Packet, data []byte, off, wire int, af uint32) {
	switch af {
	case 2:
		decodeIPv4(p, data, off, wire)
	case 24, 28, 30:
		decodeIPv6(p, data, off, wire)
	}
}

func decodeEthernet(p *Packet, data []byte, wire int) {
	if len(data) < 14 {
		p.warn(KindTruncatedHeader, 0)
		return
	}
	p.HasEth = true
	copy(p.EthDst[:], data[0:6])
	copy(p.EthSrc[:], data[6:12])
	et := be16(data[12:])
	if et > 1500 {
		decodeEtherType(p, data, 14, wire, et)
		return
	}
	// 802.3 length field: only LLC/SNAP with OUI 0 (an encapsulated
	// ethertype, RFC 1042) carries something we decode.
	if len(data) < 17 {
		p.warn(KindTruncatedHeader, 14)
		return
	}
	if data[14] != 0xAA || data[15] != 0xAA || data[16] != 0x03 {
		return
	}
	if len(data) < 22 {
		p.warn(KindTruncatedHeader, 14)
		return
	}
	if data[17]|data[18]|data[19] != 0 {
		return
	}
	decodeEtherType(p, data, 22, wire, be16(data[20:]))
}

// decodeEtherType follows VLAN tags and MPLS labels from data[off:], then
// decodes the network layer named by et.
func decodeEtherType(p *Packet, data []byte, off, wire int, et uint16) {
	for et == etherTypeVLAN || et == etherTypeQinQ || et == etherTypeQinQ2 {
		if p.VLANDepth >= MaxVLANTags {
			p.EtherType = et
			p.warn(KindTooManyVLANTags, off)
			return
		}
		if len(data) < off+4 {
			p.EtherType = et
			p.warn(KindTruncatedHeader, off)
			return
		}
		if p.VLANDepth == 0 {
			p.HasVLAN = true
			p.VLAN = be16(data[off:]) & 0x0FFF
			p.VLANTPID = et
		}
		p.VLANDepth++
		et = be16(data[off+2:])
		off += 4
	}
	if et == etherTypeMPLS || et == etherTypeMPLSMC {
		for {
			if p.MPLSDepth >= MaxMPLSLabels {
				p.EtherType = et
				p.warn(KindTooManyMPLSLabels, off)
				return
			}
			if len(data) < off+4 {
				p.EtherType = et
				p.warn(KindTruncatedHeader, off)
				return
			}
			p.MPLSDepth++
			bos := data[off+2]&1 != 0
			off += 4
			if bos {
				break
			}
		}
		// MPLS does not say what follows the stack: guess from the first
		// nibble as Zeek and Wireshark do.
		if len(data) <= off {
			p.EtherType = et
			p.warn(KindTruncatedHeader, off)
			return
		}
		switch data[off] >> 4 {
		case 4:
			et = etherTypeIPv4
		case 6:
			et = etherTypeIPv6
		default:
			p.EtherType = et
			return
		}
	}
	p.EtherType = et
	switch et {
	case etherTypeIPv4:
		decodeIPv4(p, data, off, wire)
	case etherTypeIPv6:
		decodeIPv6(p, data, off, wire)
	case etherTypeARP, etherTypeRARP:
		decodeARP(p, data, off)
	}
}

func decodeARP(p *Packet, data []byte, off int) {
	if len(data) < off+8 {
		p.warn(KindTruncatedHeader, off)
		return
	}
	b := data[off:]
	p.HasARP = true
	p.ARPOp = be16(b[6:])
	// Addresses only for Ethernet hardware / IPv4 protocol addresses.
	if be16(b) != 1 || be16(b[2:]) != etherTypeIPv4 || b[4] != 6 || b[5] != 4 {
		return
	}
	if len(b) < 28 {
		p.warn(KindTruncatedHeader, off)
		return
	}
	p.ARPSender = netip.AddrFrom4([4]byte(b[14:18]))
	p.ARPTarget = netip.AddrFrom4([4]byte(b[24:28]))
}

// decodeNFLOG walks the NFLOG TLVs to NFULA_PAYLOAD. TLV length and type
// are in the capturing host's byte order, which the file does not carry
// to us: the byte order is picked from the first TLV (little endian unless
// only big endian gives a sane length) and kept for the rest.
func decodeNFLOG(p *Packet, data []byte) {
	if len(data) < 4 {
		p.warn(KindTruncatedHeader, 0)
		return
	}
	family := data[0]
	var bo binary.ByteOrder = binary.LittleEndian
	if len(data) >= 8 {
		le := int(binary.LittleEndian.Uint16(data[4:]))
		be := int(be16(data[4:]))
		if (le < 4 || le > len(data)-4) && be >= 4 && be <= len(data)-4 {
			bo = binary.BigEndian
		}
	}
	off := 4
	for n := 0; off < len(data); n++ {
		if n >= MaxNFLOGTLVs {
			p.warn(KindTooManyNFLOGTLVs, off)
			return
		}
		if len(data)-off < 4 {
			p.warn(KindTruncatedHeader, off)
			return
		}
		l := int(bo.Uint16(data[off:]))
		typ := bo.Uint16(data[off+2:]) & 0x7FFF // drop NLA_F_NESTED/NLA_F_NET_BYTEORDER
		if l < 4 || l > len(data)-off {
			p.warn(KindBadNFLOGTLV, off)
			return
		}
		if typ == 9 { // NFULA_PAYLOAD
			end := off + l
			switch family {
			case 2: // AF_INET
				decodeIPv4(p, data[:end], off+4, end)
			case 10: // AF_INET6
				decodeIPv6(p, data[:end], off+4, end)
			default:
				decodeIP(p, data[:end], off+4, end)
			}
			return
		}
		off += (l + 3) &^ 3
	}
}

// decodeIP decodes an IPv4 or IPv6 header chosen by the version nibble.
func decodeIP(p *Packet, data []byte, off, wire int) {
	if len(data) <= off {
		p.warn(KindTruncatedHeader, off)
		return
	}
	switch data[off] >> 4 {
	case 4:
		decodeIPv4(p, data, off, wire)
	case 6:
		decodeIPv6(p, data, off, wire)
	default:
		p.warn(KindBadIPVersion, off)
	}
}

// ipLength works out how many bytes of the datagram at data[off:] the
// header allows, given the total length the header claims (0 = absent, as
// in TSO/BIG TCP captures: take everything on the wire, as tshark does).
// The result is clamped to the bytes on the wire, excluding what follows
// the datagram (Ethernet padding, FCS).
func ipLength(p *Packet, claimed, off, wire int) int {
	avail := wire - off
	if claimed == 0 {
		return avail
	}
	if claimed > avail {
		p.warn(KindTruncatedIP, off)
		return avail
	}
	return claimed
}

func decodeIPv4(p *Packet, data []byte, off, wire int) {
	if len(data)-off < 20 {
		p.warn(KindTruncatedHeader, off)
		return
	}
	b := data[off:]
	if b[0]>>4 != 4 {
		p.warn(KindBadIPVersion, off)
		return
	}
	p.IPVersion = 4
	p.IPOffset = off
	p.TTL = b[8]
	p.IPProto = b[9]
	p.HasIPID = true
	p.IPID = uint32(be16(b[4:]))
	p.SrcIP = netip.AddrFrom4([4]byte(b[12:16]))
	p.DstIP = netip.AddrFrom4([4]byte(b[16:20]))
	frag := be16(b[6:])
	p.MoreFrags = frag&0x2000 != 0
	p.FragOffset = (frag & 0x1FFF) * 8
	p.IsFragment = p.MoreFrags || p.FragOffset != 0
	ihl := int(b[0]&0x0F) * 4
	p.IPHeaderLen = ihl
	if ihl < 20 || ihl > len(b) {
		p.warn(KindBadIPHeaderLength, off)
		return
	}
	p.IPTotalLen = int(be16(b[2:]))
	tot := ipLength(p, p.IPTotalLen, off, wire)
	if tot < ihl {
		p.warn(KindBadIPLength, off)
		return
	}
	p.IPPayloadLen = tot - ihl
	end := off + tot
	if end > len(data) {
		end = len(data)
	}
	decodeTransport(p, data, off+ihl, end)
}

func decodeIPv6(p *Packet, data []byte, off, wire int) {
	if len(data)-off < 40 {
		p.warn(KindTruncatedHeader, off)
		return
	}
	b := data[off:]
	if b[0]>>4 != 6 {
		p.warn(KindBadIPVersion, off)
		return
	}
	p.IPVersion = 6
	p.IPOffset = off
	p.TTL = b[7]
	p.SrcIP = netip.AddrFrom16([16]byte(b[8:24]))
	p.DstIP = netip.AddrFrom16([16]byte(b[24:40]))
	plen := int(be16(b[4:]))
	if plen != 0 {
		p.IPTotalLen = 40 + plen
	}
	tot := ipLength(p, p.IPTotalLen, off, wire)
	nh := b[6]
	hl := 40
	p.IPProto = nh
	for n := 0; ; n++ {
		if nh != 0 && nh != 43 && nh != 44 && nh != 51 && nh != 60 {
			break
		}
		if n >= MaxIPv6ExtHdrs {
			p.IPHeaderLen = hl
			p.warn(KindIPv6ExtTooDeep, off+hl)
			return
		}
		if len(b)-hl < 8 {
			p.IPHeaderLen = hl
			p.warn(KindTruncatedHeader, off+hl)
			return
		}
		h := b[hl:]
		var l int
		switch nh {
		case 44: // fragment
			l = 8
			fo := be16(h[2:])
			p.IsFragment = true
			p.FragOffset = fo &^ 7
			p.MoreFrags = fo&1 != 0
			p.HasIPID = true
			p.IPID = be32(h[4:])
		case 51: // AH counts 4-byte words minus 2
			l = (int(h[1]) + 2) * 4
		default: // hop-by-hop, routing, destination options: 8-byte units minus 1
			l = (int(h[1]) + 1) * 8
		}
		if len(b)-hl < l {
			p.IPHeaderLen = hl
			p.warn(KindTruncatedHeader, off+hl)
			return
		}
		nh = h[0]
		hl += l
		p.IPProto = nh
	}
	p.IPHeaderLen = hl
	if tot < hl {
		p.warn(KindBadIPLength, off)
		return
	}
	p.IPPayloadLen = tot - hl
	end := off + tot
	if end > len(data) {
		end = len(data)
	}
	decodeTransport(p, data, off+hl, end)
}

// decodeTransport decodes the transport header at data[off:end] (the
// captured part of the IP payload, p.IPPayloadLen bytes long on the wire).
// Later fragments and protocols without a decoder get the IP payload as
// their payload.
func decodeTransport(p *Packet, data []byte, off, end int) {
	b := data[off:end]
	if p.FragOffset != 0 {
		p.PayloadLen = p.IPPayloadLen
		p.Payload = b
		return
	}
	switch {
	case p.IPProto == protoTCP:
		decodeTCP(p, b, off)
	case p.IPProto == protoUDP:
		decodeUDP(p, b, off)
	case p.IPProto == protoSCTP:
		if len(b) < 12 {
			p.warn(KindTruncatedHeader, off)
			return
		}
		p.HasPorts = true
		p.SrcPort = be16(b)
		p.DstPort = be16(b[2:])
		setPayload(p, b, 12)
	case p.IPProto == protoICMP && p.IPVersion == 4, p.IPProto == protoICMPv6 && p.IPVersion == 6:
		if len(b) < 4 {
			p.warn(KindTruncatedHeader, off)
			return
		}
		p.HasICMP = true
		p.ICMPType = b[0]
		p.ICMPCode = b[1]
		// The 8-byte ICMP header (type, code, checksum and the
		// type-specific word) is not payload.
		setPayload(p, b, 8)
	default:
		p.PayloadLen = p.IPPayloadLen
		p.Payload = b
	}
}

// setPayload sets the payload after a hl-byte transport header.
func setPayload(p *Packet, b []byte, hl int) {
	if p.IPPayloadLen < hl {
		return
	}
	p.PayloadLen = p.IPPayloadLen - hl
	if len(b) > hl {
		p.Payload = b[hl:]
	}
}

// firstFragment reports whether the datagram being decoded is the first
// of several fragments: its transport header describes the whole
// datagram, of which this frame holds only the start.
func (p *Packet) firstFragment() bool { return p.MoreFrags && p.FragOffset == 0 }

// shortHeader records a transport header that ends before its fixed part
// does: the first fragment of a datagram whose header continues in the
// next fragment (when the whole fragment was captured), or else a
// capture cut by the snap length. The ports are kept when present (the
// first 4 bytes of TCP and UDP, as tshark shows them).
func shortHeader(p *Packet, b []byte, off int) {
	if len(b) >= 4 {
		p.HasPorts = true
		p.SrcPort = be16(b)
		p.DstPort = be16(b[2:])
	}
	if p.firstFragment() && len(b) == p.IPPayloadLen {
		p.warn(KindSmallFragment, off)
		return
	}
	p.warn(KindTruncatedHeader, off)
}

func decodeUDP(p *Packet, b []byte, off int) {
	if len(b) < 8 {
		// The length field is missing: the IP length gives it, as for a
		// bad UDP length below.
		if p.IPPayloadLen >= 8 {
			p.PayloadLen = p.IPPayloadLen - 8
		}
		shortHeader(p, b, off)
		return
	}
	p.HasPorts = true
	p.SrcPort = be16(b)
	p.DstPort = be16(b[2:])
	ulen := int(be16(b[4:]))
	switch {
	case ulen >= 8 && (ulen <= p.IPPayloadLen || p.firstFragment()):
		// A first fragment's UDP length counts the whole datagram
		// (tshark's udp.length); Payload is the part in this frame.
		p.PayloadLen = ulen - 8
	case ulen == 0 && (p.IPTotalLen == 0 || p.IPVersion == 6):
		// Jumbogram or TSO: the IP layer gives the length.
		if p.IPPayloadLen >= 8 {
			p.PayloadLen = p.IPPayloadLen - 8
		}
	default:
		p.warn(KindBadUDPLength, off+4)
		if p.IPPayloadLen >= 8 {
			p.PayloadLen = p.IPPayloadLen - 8
		}
	}
	n := len(b) - 8
	if n > p.PayloadLen {
		n = p.PayloadLen
	}
	if n > 0 {
		p.Payload = b[8 : 8+n]
	}
}

func decodeTCP(p *Packet, b []byte, off int) {
	if len(b) < 20 {
		// The ports only: Zeek ignores a TCP header shorter than 20
		// bytes, and HasTCP stays false so the flow tracker does too.
		shortHeader(p, b, off)
		return
	}
	p.HasPorts = true
	p.HasTCP = true
	p.SrcPort = be16(b)
	p.DstPort = be16(b[2:])
	p.Seq = be32(b[4:])
	p.Ack = be32(b[8:])
	p.TCPFlags = uint16(b[13]) | uint16(b[12]&1)<<8
	p.Win = be16(b[14:])
	thl := int(b[12]>>4) * 4
	p.TCPHeaderLen = thl
	if thl < 20 || thl > p.IPPayloadLen {
		if thl >= 20 && p.firstFragment() {
			// The options continue in the next fragment: keep those here.
			if len(b) == p.IPPayloadLen {
				p.warn(KindSmallFragment, off)
			} else {
				p.warn(KindTruncatedHeader, off)
			}
			decodeTCPOptions(p, b[20:], off+20)
			return
		}
		p.warn(KindBadTCPHeaderLength, off+12)
		return
	}
	p.PayloadLen = p.IPPayloadLen - thl
	if thl > len(b) {
		// Snap length cut the options: decode those we have.
		decodeTCPOptions(p, b[20:], off+20)
		p.warn(KindTruncatedHeader, off)
		return
	}
	decodeTCPOptions(p, b[20:thl], off+20)
	p.Payload = b[thl:]
}

// decodeTCPOptions reads the options it knows; a malformed list stops the
// walk with KindBadTCPOptions, keeping what was read before.
func decodeTCPOptions(p *Packet, o []byte, off int) {
	for i := 0; i < len(o); {
		kind := o[i]
		if kind == 0 { // end of option list
			return
		}
		if kind == 1 { // NOP
			i++
			continue
		}
		if len(o)-i < 2 {
			p.warn(KindBadTCPOptions, off+i)
			return
		}
		l := int(o[i+1])
		if l < 2 || l > len(o)-i {
			p.warn(KindBadTCPOptions, off+i)
			return
		}
		v := o[i+2 : i+l]
		switch kind {
		case 2:
			if l != 4 {
				p.warn(KindBadTCPOptions, off+i)
				return
			}
			p.MSS = be16(v)
		case 3:
			if l != 3 {
				p.warn(KindBadTCPOptions, off+i)
				return
			}
			p.WScale = int8(min(v[0], maxTCPWScale))
		case 4:
			if l != 2 {
				p.warn(KindBadTCPOptions, off+i)
				return
			}
			p.SACKPerm = true
		case 5:
			if l < 10 || (l-2)%8 != 0 {
				p.warn(KindBadTCPOptions, off+i)
				return
			}
			for j := 0; j+8 <= len(v) && p.NumSACK < uint8(len(p.SACK)); j += 8 {
				p.SACK[p.NumSACK] = [2]uint32{be32(v[j:]), be32(v[j+4:])}
				p.NumSACK++
			}
		case 8:
			if l != 10 {
				p.warn(KindBadTCPOptions, off+i)
				return
			}
			p.HasTS = true
			p.TSVal = be32(v)
			p.TSEcr = be32(v[4:])
		}
		i += l
	}
}
