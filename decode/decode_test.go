package decode

import (
	"encoding/binary"
	"net/netip"
	"testing"
)

var (
	addrA4 = netip.AddrFrom4([4]byte(ip4A))
	addrB4 = netip.AddrFrom4([4]byte(ip4B))
	addrA6 = netip.AddrFrom16([16]byte(ip6A))
	addrB6 = netip.AddrFrom16([16]byte(ip6B))
)

// tcp4 is IPv4/TCP with the SYN options and a 5-byte payload.
func tcp4() []byte { return ipv4(6, nil, tcp(1234, 80, 0x02, synOpts, []byte("hello"))) }

// nflogTLV builds one NFLOG TLV in byte order bo, padded to 4 bytes.
func nflogTLV(bo binary.AppendByteOrder, typ uint16, v []byte) []byte {
	b := bo.AppendUint16(nil, uint16(4+len(v)))
	b = bo.AppendUint16(b, typ)
	b = append(b, v...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// checks used by the table: each returns "" or what is wrong.
type check func(p *Packet) string

func want(ok bool, msg string) string {
	if ok {
		return ""
	}
	return msg
}

// isTCP4 checks the fields of tcp4().
func isTCP4(p *Packet) string {
	switch {
	case p.IPVersion != 4 || p.SrcIP != addrA4 || p.DstIP != addrB4:
		return "IPv4 addresses"
	case !p.HasTCP || p.SrcPort != 1234 || p.DstPort != 80 || p.Seq != 1000 || p.Ack != 2000:
		return "TCP ports/seq/ack"
	case p.TCPFlags != FlagSYN || p.TCPHeaderLen != 40:
		return "TCP flags/header length"
	case p.MSS != 1460 || p.WScale != 7 || !p.SACKPerm || !p.HasTS || p.TSVal != 1 || p.TSEcr != 0:
		return "TCP options"
	case p.PayloadLen != 5 || string(p.Payload) != "hello":
		return "payload"
	case p.TTL != 64 || p.IPProto != 6 || p.IPID != 0x1234 || p.IPHeaderLen != 20 || p.IPTotalLen != 65 || p.IPPayloadLen != 45:
		return "IPv4 header fields"
	}
	return ""
}

func isTCP6(p *Packet) string {
	switch {
	case p.IPVersion != 6 || p.SrcIP != addrA6 || p.DstIP != addrB6 || p.TTL != 63:
		return "IPv6 header"
	case !p.HasTCP || p.SrcPort != 1234 || p.DstPort != 80 || p.PayloadLen != 5 || string(p.Payload) != "hello":
		return "TCP"
	}
	return ""
}

func TestDecode(t *testing.T) {
	le, be := binary.LittleEndian, binary.BigEndian
	tests := []struct {
		name    string
		lt      LinkType
		frame   []byte
		origLen int // 0: len(frame)
		warn    string
		check   check
	}{
		{name: "ethernet/ipv4/tcp", lt: LinkEthernet, frame: cat(eth(0x0800), tcp4()), check: func(p *Packet) string {
			if s := isTCP4(p); s != "" {
				return s
			}
			return want(p.HasEth && p.EthSrc == [6]byte(macA) && p.EthDst == [6]byte(macB) && p.EtherType == 0x0800 && !p.HasVLAN, "ethernet")
		}},
		{name: "ethernet padding is not payload", lt: LinkEthernet,
			frame: cat(eth(0x0800), ipv4(6, nil, tcp(1, 2, 0x10, nil, nil)), make([]byte, 6)),
			check: func(p *Packet) string {
				return want(p.PayloadLen == 0 && len(p.Payload) == 0 && p.IPPayloadLen == 20, "padding counted")
			}},
		{name: "snap length cut the payload", lt: LinkEthernet, frame: cat(eth(0x0800), tcp4())[:14+20+40+2], origLen: 14 + 65,
			check: func(p *Packet) string {
				return want(p.PayloadLen == 5 && string(p.Payload) == "he" && p.Warn == "", "want PayloadLen 5, Payload he")
			}},
		{name: "802.3 LLC/SNAP", lt: LinkEthernet,
			frame: cat(macB, macA, u16(8+65), []byte{0xaa, 0xaa, 0x03, 0, 0, 0}, u16(0x0800), tcp4()), check: isTCP4},
		{name: "802.3 LLC without SNAP", lt: LinkEthernet,
			frame: cat(macB, macA, u16(3), []byte{0x42, 0x42, 0x03}, make([]byte, 40)),
			check: func(p *Packet) string { return want(p.HasEth && p.IPVersion == 0, "nothing past LLC") }},
		{name: "SNAP with a non-zero OUI", lt: LinkEthernet,
			frame: cat(macB, macA, u16(8+65), []byte{0xaa, 0xaa, 0x03, 0, 0, 0x0c}, u16(0x2000), tcp4()),
			check: func(p *Packet) string { return want(p.IPVersion == 0, "decoded past a vendor OUI") }},
		{name: "802.1Q", lt: LinkEthernet, frame: cat(eth(0x8100), vlanTag(0x2000|42, 0x0800), tcp4()), check: func(p *Packet) string {
			return want(isTCP4(p) == "" && p.HasVLAN && p.VLAN == 42 && p.VLANDepth == 1 && p.VLANTPID == 0x8100 && p.EtherType == 0x0800, "vlan 42")
		}},
		{name: "802.1ad QinQ", lt: LinkEthernet, frame: cat(eth(0x88a8), vlanTag(200, 0x8100), vlanTag(2001, 0x0800), tcp4()), check: func(p *Packet) string {
			return want(isTCP4(p) == "" && p.VLAN == 200 && p.VLANDepth == 2 && p.VLANTPID == 0x88a8, "outer vlan 200, depth 2")
		}},
		{name: "0x9100 QinQ", lt: LinkEthernet, frame: cat(eth(0x9100), vlanTag(7, 0x8100), vlanTag(8, 0x0800), tcp4()), check: func(p *Packet) string {
			return want(isTCP4(p) == "" && p.VLAN == 7 && p.VLANDepth == 2, "outer vlan 7")
		}},
		{name: "too many VLAN tags", lt: LinkEthernet, warn: KindTooManyVLANTags,
			frame: cat(eth(0x8100), repeat(vlanTag(5, 0x8100), MaxVLANTags+1), tcp4()),
			check: func(p *Packet) string {
				return want(p.VLAN == 5 && p.VLANDepth == MaxVLANTags && p.WarnOffset == 14+4*MaxVLANTags && p.IPVersion == 0, "stops at the limit")
			}},
		{name: "truncated VLAN tag", lt: LinkEthernet, warn: KindTruncatedHeader, frame: cat(eth(0x8100), []byte{0, 1})},
		{name: "MPLS to IPv4", lt: LinkEthernet, frame: cat(eth(0x8847), mpls(100, false), mpls(200, true), tcp4()), check: func(p *Packet) string {
			return want(isTCP4(p) == "" && p.MPLSDepth == 2 && p.EtherType == 0x0800, "two labels then IPv4")
		}},
		{name: "VLAN then MPLS to IPv6", lt: LinkEthernet,
			frame: cat(eth(0x8100), vlanTag(9, 0x8848), mpls(16, true), ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello")))),
			check: func(p *Packet) string {
				return want(isTCP6(p) == "" && p.MPLSDepth == 1 && p.VLAN == 9 && p.EtherType == 0x86dd, "vlan, label, IPv6")
			}},
		{name: "MPLS with a non-IP payload", lt: LinkEthernet, frame: cat(eth(0x8847), mpls(3, true), make([]byte, 30)),
			check: func(p *Packet) string {
				return want(p.MPLSDepth == 1 && p.IPVersion == 0 && p.EtherType == 0x8847, "no guess")
			}},
		{name: "too many MPLS labels", lt: LinkEthernet, warn: KindTooManyMPLSLabels,
			frame: cat(eth(0x8847), repeat(mpls(1, false), MaxMPLSLabels+1), tcp4()),
			check: func(p *Packet) string {
				return want(p.MPLSDepth == MaxMPLSLabels && p.IPVersion == 0, "stops at the limit")
			}},
		{name: "ARP request", lt: LinkEthernet,
			frame: cat(eth(0x0806), u16(1), u16(0x0800), []byte{6, 4}, u16(1), macA, ip4A, make([]byte, 6), ip4B, make([]byte, 18)),
			check: func(p *Packet) string {
				return want(p.HasARP && p.ARPOp == 1 && p.ARPSender == addrA4 && p.ARPTarget == addrB4 && p.IPVersion == 0, "arp who-has")
			}},
		{name: "truncated ARP", lt: LinkEthernet, warn: KindTruncatedHeader,
			frame: cat(eth(0x0806), u16(1), u16(0x0800), []byte{6, 4}, u16(2), macA, ip4A),
			check: func(p *Packet) string { return want(p.HasARP && p.ARPOp == 2 && !p.ARPSender.IsValid(), "op kept") }},
		{name: "truncated ethernet", lt: LinkEthernet, warn: KindTruncatedHeader, frame: macB,
			check: func(p *Packet) string { return want(!p.HasEth && p.CapLen == 6, "nothing decoded") }},
		{name: "link type with FCS bits set", lt: 0x30000001, frame: cat(eth(0x0800), tcp4()), check: isTCP4},
		{name: "unsupported link type", lt: 160, warn: KindUnsupportedLinkType, frame: cat(eth(0x0800), tcp4()),
			check: func(p *Packet) string {
				return want(!p.HasEth && p.IPVersion == 0 && p.LinkType == 160, "nothing decoded")
			}},

		{name: "SLL", lt: LinkSLL, frame: cat(u16(0), u16(1), u16(6), macA, []byte{0, 0}, u16(0x0800), tcp4()), check: func(p *Packet) string {
			return want(isTCP4(p) == "" && !p.HasEth && p.EtherType == 0x0800, "sll")
		}},
		{name: "SLL2 IPv6", lt: LinkSLL2,
			frame: cat(u16(0x86dd), u16(0), u32(1), u16(1), []byte{0, 6}, macA, []byte{0, 0}, ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello")))),
			check: isTCP6},
		{name: "truncated SLL2", lt: LinkSLL2, warn: KindTruncatedHeader, frame: make([]byte, 19)},
		{name: "NULL little endian IPv4", lt: LinkNull, frame: cat([]byte{2, 0, 0, 0}, tcp4()), check: isTCP4},
		{name: "NULL big endian IPv4", lt: LinkNull, frame: cat([]byte{0, 0, 0, 2}, tcp4()), check: isTCP4},
		{name: "NULL IPv6 (30)", lt: LinkNull, frame: cat([]byte{30, 0, 0, 0}, ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello")))), check: isTCP6},
		{name: "NULL IPv6 (24) big endian", lt: LinkNull, frame: cat([]byte{0, 0, 0, 24}, ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello")))), check: isTCP6},
		{name: "NULL unknown family", lt: LinkNull, frame: cat([]byte{7, 0, 0, 0}, tcp4()),
			check: func(p *Packet) string { return want(p.IPVersion == 0, "decoded an unknown family") }},
		{name: "LOOP IPv4", lt: LinkLoop, frame: cat(u32(2), tcp4()), check: isTCP4},
		{name: "LOOP IPv6", lt: LinkLoop, frame: cat(u32(28), ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello")))), check: isTCP6},
		{name: "raw 101 IPv4", lt: LinkRaw, frame: tcp4(), check: isTCP4},
		{name: "raw 101 IPv6", lt: LinkRaw, frame: ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello"))), check: isTCP6},
		{name: "raw 12", lt: LinkRaw12, frame: tcp4(), check: isTCP4},
		{name: "raw 14", lt: LinkRaw14, frame: tcp4(), check: isTCP4},
		{name: "raw 101 bad version", lt: LinkRaw, warn: KindBadIPVersion, frame: set(tcp4(), func(b []byte) { b[0] = 0x55 })},
		{name: "LINKTYPE_IPV4", lt: LinkIPv4, frame: tcp4(), check: isTCP4},
		{name: "LINKTYPE_IPV4 holding IPv6", lt: LinkIPv4, warn: KindBadIPVersion, frame: ipv6(59, nil)},
		{name: "LINKTYPE_IPV6", lt: LinkIPv6, frame: ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello"))), check: isTCP6},
		{name: "Cisco HDLC", lt: LinkCHDLC, frame: cat([]byte{0x0f, 0}, u16(0x0800), tcp4()), check: isTCP4},
		{name: "NFLOG little endian", lt: LinkNFLOG,
			frame: cat([]byte{2, 0, 0, 0}, nflogTLV(le, 1, make([]byte, 4)), nflogTLV(le, 10, []byte("prefix")), nflogTLV(le, 9, tcp4())),
			check: isTCP4},
		{name: "NFLOG big endian", lt: LinkNFLOG,
			frame: cat([]byte{10, 0, 0, 0}, nflogTLV(be, 1, make([]byte, 4)), nflogTLV(be, 9, ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello"))))),
			check: isTCP6},
		{name: "NFLOG without payload", lt: LinkNFLOG, frame: cat([]byte{2, 0, 0, 0}, nflogTLV(le, 1, make([]byte, 4))),
			check: func(p *Packet) string { return want(p.IPVersion == 0, "no payload TLV") }},
		{name: "NFLOG zero-length TLV", lt: LinkNFLOG, warn: KindBadNFLOGTLV, frame: cat([]byte{2, 0, 0, 0}, nflogTLV(le, 1, make([]byte, 4)), make([]byte, 8))},
		{name: "NFLOG too many TLVs", lt: LinkNFLOG, warn: KindTooManyNFLOGTLVs,
			frame: cat([]byte{2, 0, 0, 0}, repeat(nflogTLV(le, 1, nil), MaxNFLOGTLVs+1), nflogTLV(le, 9, tcp4()))},

		// IPv4.
		{name: "IPv4 IHL below 5", lt: LinkRaw, warn: KindBadIPHeaderLength, frame: set(tcp4(), func(b []byte) { b[0] = 0x44 }),
			check: func(p *Packet) string { return want(p.SrcIP == addrA4 && !p.HasTCP, "addresses kept, no transport") }},
		{name: "IPv4 IHL beyond the data", lt: LinkRaw, warn: KindBadIPHeaderLength, frame: set(tcp4()[:30], func(b []byte) { b[0] = 0x4f })},
		{name: "IPv4 options", lt: LinkRaw, frame: ipv4(6, []byte{0x94, 4, 0, 0}, tcp(1234, 80, 0x02, synOpts, []byte("hello"))),
			check: func(p *Packet) string {
				return want(p.IPHeaderLen == 24 && p.HasTCP && p.PayloadLen == 5 && p.MSS == 1460, "router alert option skipped")
			}},
		{name: "IPv4 total length 0 (TSO)", lt: LinkEthernet,
			frame: cat(eth(0x0800), set(tcp4(), func(b []byte) { b[2], b[3] = 0, 0 })),
			check: func(p *Packet) string {
				return want(p.IPTotalLen == 0 && p.PayloadLen == 5 && string(p.Payload) == "hello", "length from the frame")
			}},
		{name: "IPv4 total length 0 with snap length cut", lt: LinkEthernet, origLen: 14 + 2000,
			frame: cat(eth(0x0800), set(tcp4(), func(b []byte) { b[2], b[3] = 0, 0 })),
			check: func(p *Packet) string {
				return want(p.PayloadLen == 2000-60 && len(p.Payload) == 5, "length from the wire length")
			}},
		{name: "IPv4 total length below IHL", lt: LinkRaw, warn: KindBadIPLength, frame: set(tcp4(), func(b []byte) { b[2], b[3] = 0, 10 }),
			check: func(p *Packet) string { return want(p.IPTotalLen == 10 && !p.HasTCP, "no transport") }},
		{name: "IPv4 total length beyond the wire", lt: LinkRaw, warn: KindTruncatedIP, frame: set(tcp4(), func(b []byte) { b[2], b[3] = 0, 200 }),
			check: func(p *Packet) string {
				return want(p.IPTotalLen == 200 && p.IPPayloadLen == 45 && p.PayloadLen == 5, "clamped to the frame")
			}},
		{name: "IPv4 first fragment", lt: LinkRaw, frame: set(tcp4(), func(b []byte) { b[6] = 0x20 }),
			check: func(p *Packet) string {
				return want(p.IsFragment && p.MoreFrags && p.FragOffset == 0 && p.HasTCP && p.PayloadLen == 5, "transport decoded")
			}},
		{name: "IPv4 later fragment", lt: LinkRaw, frame: set(tcp4(), func(b []byte) { b[6], b[7] = 0, 185 }),
			check: func(p *Packet) string {
				return want(p.IsFragment && !p.MoreFrags && p.FragOffset == 1480 && !p.HasTCP && !p.HasPorts && p.PayloadLen == 45 && len(p.Payload) == 45, "no transport")
			}},
		{name: "truncated IPv4", lt: LinkRaw, warn: KindTruncatedHeader, frame: tcp4()[:19]},

		// IPv6.
		{name: "IPv6 extension headers and atomic fragment", lt: LinkRaw,
			frame: ipv6(0, cat(ext6(60), ext6(44), frag6(6, 0, false, 0xdeadbeef), tcp(1234, 80, 0x18, nil, []byte("hello")))),
			check: func(p *Packet) string {
				if s := isTCP6(p); s != "" {
					return s
				}
				return want(p.IPProto == 6 && p.IPHeaderLen == 64 && p.IsFragment && !p.MoreFrags && p.HasIPID && p.IPID == 0xdeadbeef, "ext headers")
			}},
		{name: "IPv6 AH", lt: LinkRaw, frame: ipv6(51, cat([]byte{6, 4, 0, 0}, make([]byte, 20), tcp(1234, 80, 0x18, nil, []byte("hello")))),
			check: func(p *Packet) string { return want(isTCP6(p) == "" && p.IPHeaderLen == 64, "AH is (4+2)*4 bytes") }},
		{name: "IPv6 later fragment", lt: LinkRaw, frame: ipv6(44, cat(frag6(6, 1232, true, 7), make([]byte, 16))),
			check: func(p *Packet) string {
				return want(p.IsFragment && p.MoreFrags && p.FragOffset == 1232 && !p.HasTCP && p.PayloadLen == 16, "no transport")
			}},
		{name: "IPv6 too many extension headers", lt: LinkRaw, warn: KindIPv6ExtTooDeep,
			frame: ipv6(60, cat(repeat(ext6(60), MaxIPv6ExtHdrs), ext6(6), tcp(1234, 80, 0x18, nil, nil))),
			check: func(p *Packet) string {
				return want(p.WarnOffset == 40+8*MaxIPv6ExtHdrs && !p.HasTCP, "stops at the limit")
			}},
		{name: "IPv6 extension header beyond the data", lt: LinkRaw, warn: KindTruncatedHeader,
			frame: ipv6(60, []byte{6, 2, 0, 0, 0, 0, 0, 0})},
		{name: "IPv6 payload length 0 (jumbo/TSO)", lt: LinkRaw,
			frame: set(ipv6(6, tcp(1234, 80, 0x18, nil, []byte("hello"))), func(b []byte) { b[4], b[5] = 0, 0 }),
			check: func(p *Packet) string { return want(p.IPTotalLen == 0 && p.PayloadLen == 5, "length from the frame") }},

		// Transport.
		{name: "TCP SACK blocks", lt: LinkRaw, frame: ipv4(6, nil, tcp(1, 2, 0x10, sackOpts, nil)),
			check: func(p *Packet) string {
				return want(p.NumSACK == 2 && p.SACK[0] == [2]uint32{0x1000, 0x2000} && p.SACK[1] == [2]uint32{0x3000, 0x4000}, "two SACK blocks")
			}},
		{name: "TCP option with length 0", lt: LinkRaw, warn: KindBadTCPOptions,
			frame: ipv4(6, nil, tcp(1234, 80, 0x12, []byte{2, 4, 1, 0, 3, 0, 0, 0}, []byte("x"))),
			check: func(p *Packet) string {
				return want(p.HasTCP && p.SrcPort == 1234 && p.TCPFlags == FlagSYN|FlagACK && p.MSS == 256 && p.WScale == -1 && p.PayloadLen == 1 && p.WarnOffset == 20+24, "header kept")
			}},
		{name: "TCP option running past the header", lt: LinkRaw, warn: KindBadTCPOptions,
			frame: ipv4(6, nil, tcp(1234, 80, 0x02, []byte{1, 1, 8, 10}, nil))},
		{name: "TCP MSS with a wrong length", lt: LinkRaw, warn: KindBadTCPOptions,
			frame: ipv4(6, nil, tcp(1234, 80, 0x02, []byte{2, 3, 5, 0}, nil))},
		{name: "TCP window scale above 14", lt: LinkRaw, frame: ipv4(6, nil, tcp(1234, 80, 0x02, []byte{3, 3, 200, 0}, nil)),
			check: func(p *Packet) string { return want(p.WScale == 14, "capped at 14") }},
		{name: "TCP data offset below 5", lt: LinkRaw, warn: KindBadTCPHeaderLength,
			frame: ipv4(6, nil, set(tcp(1234, 80, 0x11, nil, []byte("abc")), func(b []byte) { b[12] = 0x40 })),
			check: func(p *Packet) string {
				return want(p.HasTCP && p.DstPort == 80 && p.TCPFlags == FlagFIN|FlagACK && p.PayloadLen == 0, "ports and flags kept")
			}},
		{name: "TCP data offset beyond the segment", lt: LinkRaw, warn: KindBadTCPHeaderLength,
			frame: ipv4(6, nil, set(tcp(1234, 80, 0x10, nil, nil), func(b []byte) { b[12] = 0xf0 }))},
		{name: "TCP NS and all flags", lt: LinkRaw, frame: ipv4(6, nil, set(tcp(1, 2, 0xff, nil, nil), func(b []byte) { b[12] |= 1 })),
			check: func(p *Packet) string { return want(p.TCPFlags == 0x1ff, "9 flag bits") }},
		{name: "TCP options cut by the snap length", lt: LinkEthernet, warn: KindTruncatedHeader, origLen: 14 + 65,
			frame: cat(eth(0x0800), tcp4())[:14+20+24],
			check: func(p *Packet) string {
				return want(p.HasTCP && p.MSS == 1460 && p.PayloadLen == 5 && len(p.Payload) == 0, "options seen so far, payload length kept")
			}},
		{name: "truncated TCP", lt: LinkRaw, warn: KindTruncatedHeader, frame: tcp4()[:30], origLen: 65,
			check: func(p *Packet) string { return want(!p.HasTCP && p.IPVersion == 4, "IP kept") }},
		{name: "UDP", lt: LinkRaw, frame: ipv4(17, nil, udp(53, 5353, []byte("query"))),
			check: func(p *Packet) string {
				return want(p.HasPorts && !p.HasTCP && p.SrcPort == 53 && p.DstPort == 5353 && p.PayloadLen == 5 && string(p.Payload) == "query", "udp")
			}},
		{name: "UDP length below the IP payload", lt: LinkRaw,
			frame: ipv4(17, nil, set(udp(53, 53, []byte("query")), func(b []byte) { b[5] = 10 })),
			check: func(p *Packet) string {
				return want(p.PayloadLen == 2 && string(p.Payload) == "qu", "udp length rules")
			}},
		{name: "UDP length beyond the IP payload", lt: LinkRaw, warn: KindBadUDPLength,
			frame: ipv4(17, nil, set(udp(53, 53, []byte("query")), func(b []byte) { b[5] = 99 })),
			check: func(p *Packet) string { return want(p.PayloadLen == 5, "IP length rules") }},
		{name: "UDP over IPv6", lt: LinkRaw, frame: ipv6(17, udp(1, 2, []byte("x"))),
			check: func(p *Packet) string { return want(p.HasPorts && p.PayloadLen == 1, "udp6") }},
		{name: "SCTP", lt: LinkRaw, frame: ipv4(132, nil, cat(u16(2905), u16(2906), make([]byte, 8), []byte("chunk"))),
			check: func(p *Packet) string {
				return want(p.HasPorts && !p.HasTCP && p.SrcPort == 2905 && p.DstPort == 2906 && p.PayloadLen == 5, "sctp")
			}},
		{name: "ICMP echo", lt: LinkRaw, frame: ipv4(1, nil, cat([]byte{8, 0, 0, 0, 0, 1, 0, 1}, []byte("ping"))),
			check: func(p *Packet) string {
				return want(p.HasICMP && p.ICMPType == 8 && !p.HasPorts && p.PayloadLen == 4 && string(p.Payload) == "ping", "icmp")
			}},
		{name: "ICMPv6 echo", lt: LinkRaw, frame: ipv6(58, []byte{128, 0, 0, 0, 0, 1, 0, 1}),
			check: func(p *Packet) string { return want(p.HasICMP && p.ICMPType == 128 && p.PayloadLen == 0, "icmpv6") }},
		{name: "ICMPv6 number inside IPv4 is not ICMP", lt: LinkRaw, frame: ipv4(58, nil, []byte{128, 0, 0, 0}),
			check: func(p *Packet) string { return want(!p.HasICMP && p.PayloadLen == 4, "proto 58 over IPv4") }},
		{name: "GRE is not followed", lt: LinkRaw, frame: ipv4(47, nil, cat([]byte{0, 0, 0x08, 0}, tcp4())),
			check: func(p *Packet) string {
				return want(p.IPProto == 47 && !p.HasTCP && p.PayloadLen == 4+65, "outer header only")
			}},
	}
	var p Packet
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			orig := tt.origLen
			if orig == 0 {
				orig = len(tt.frame)
			}
			// Dirty the packet first: Decode must reset every field.
			Decode(LinkEthernet, cat(eth(0x8100), vlanTag(3, 0x0800), tcp4()), 0, &p)
			Decode(tt.lt, tt.frame, orig, &p)
			if p.Warn != tt.warn {
				t.Errorf("Warn = %q at %d, want %q", p.Warn, p.WarnOffset, tt.warn)
			}
			if tt.check != nil {
				if s := tt.check(&p); s != "" {
					t.Errorf("%s; got %+v", s, p)
				}
			}
			checkInvariants(t, tt.frame, &p)
		})
	}
}

func repeat(b []byte, n int) []byte {
	var out []byte
	for range n {
		out = append(out, b...)
	}
	return out
}

// checkInvariants holds for every frame: the payload lies inside the frame,
// is no longer than PayloadLen, and a warning offset points into it.
func checkInvariants(t testing.TB, data []byte, p *Packet) {
	t.Helper()
	if len(p.Payload) > p.PayloadLen && p.Warn == "" {
		t.Errorf("len(Payload) %d > PayloadLen %d without a warning", len(p.Payload), p.PayloadLen)
	}
	if len(p.Payload) > 0 {
		// Payload must be a sub-slice of data.
		inside := false
		for i := range data {
			if &data[i] == &p.Payload[0] {
				inside = len(p.Payload) <= len(data)-i
				break
			}
		}
		if !inside {
			t.Errorf("Payload is not a sub-slice of the frame")
		}
	}
	if p.Warn != "" && (p.WarnOffset < 0 || p.WarnOffset > len(data)) {
		t.Errorf("WarnOffset %d outside the %d-byte frame", p.WarnOffset, len(data))
	}
	if p.Warn == "" && p.WarnOffset != 0 {
		t.Errorf("WarnOffset %d without a warning", p.WarnOffset)
	}
	if p.PayloadLen < 0 || p.IPPayloadLen < 0 {
		t.Errorf("negative length: PayloadLen %d, IPPayloadLen %d", p.PayloadLen, p.IPPayloadLen)
	}
	if p.CapLen != len(data) {
		t.Errorf("CapLen %d, frame %d bytes", p.CapLen, len(data))
	}
}
