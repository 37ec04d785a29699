package decode

import "net/netip"

// LinkType is a LINKTYPE_ value as stored in pcap and pcapng headers
// (https://www.tcpdump.org/linktypes.html).
type LinkType uint32

// Link types the decoder understands. Any other value still yields a
// Packet (with no decoded fields) and the warning KindUnsupportedLinkType.
const (
	LinkNull     LinkType = 0   // BSD loopback: 4-byte host-order address family
	LinkEthernet LinkType = 1   // Ethernet II and 802.3 (LLC/SNAP)
	LinkRaw12    LinkType = 12  // raw IP (DLT_RAW on OpenBSD)
	LinkRaw14    LinkType = 14  // raw IP (DLT_RAW on BSD/OS)
	LinkRaw      LinkType = 101 // raw IPv4 or IPv6, version from the first nibble
	LinkCHDLC    LinkType = 104 // Cisco HDLC
	LinkLoop     LinkType = 108 // OpenBSD loopback: 4-byte network-order family
	LinkSLL      LinkType = 113 // Linux cooked capture v1
	LinkNFLOG    LinkType = 239 // Linux netfilter NFLOG (TLVs, host byte order)
	LinkIPv4     LinkType = 228 // raw IPv4
	LinkIPv6     LinkType = 229 // raw IPv6
	LinkSLL2     LinkType = 276 // Linux cooked capture v2
)

// TCP flag bits as stored in Packet.TCPFlags.
const (
	FlagFIN uint16 = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
	FlagECE
	FlagCWR
	FlagNS
)

// Warning kinds, named after Zeek's weird.log where Zeek has a name.
const (
	KindUnsupportedLinkType = "unsupported_link_type"
	KindTruncatedHeader     = "truncated_header"      // a header was cut by the snap length or the record
	KindBadIPHeaderLength   = "bad_ip_header_length"  // IHL < 5 or beyond the data
	KindBadIPVersion        = "bad_ip_version"        // version nibble does not match the link/ethertype
	KindBadTCPHeaderLength  = "bad_TCP_header_len"    // data offset < 5 or beyond the data
	KindBadTCPOptions       = "bad_TCP_options"       // malformed option list (decoding stops at the bad option)
	KindIPv6ExtTooDeep      = "ipv6_ext_header_limit" // more extension headers than the decoder follows
	KindTooManyVLANTags     = "too_many_vlan_tags"
	KindTooManyMPLSLabels   = "too_many_mpls_labels"
)

// Packet is one decoded frame. The decoder overwrites every field on each
// call (Reset), so one Packet can be reused for every frame without
// allocation. Payload is a sub-slice of the frame data passed to Decode and
// is valid only as long as that buffer is.
//
// Fields that do not apply to a frame are zero and their Has* flag is false;
// the Arrow/DuckDB layer turns those into NULL.
type Packet struct {
	LinkType LinkType
	CapLen   int // bytes captured (len of the data given to Decode)
	OrigLen  int // bytes on the wire, from the record header

	// Link layer.
	HasEth    bool
	EthSrc    [6]byte
	EthDst    [6]byte
	HasVLAN   bool
	VLAN      uint16 // outer 802.1Q / 802.1ad VLAN id (12 bits)
	VLANTPID  uint16 // tag protocol id of the outer tag: 0x8100, 0x88A8 or 0x9100 (0 without VLAN)
	VLANDepth uint8  // number of VLAN tags seen
	MPLSDepth uint8  // number of MPLS labels seen
	EtherType uint16 // final ethertype after VLAN/MPLS (0 when there is none, e.g. raw IP)

	// ARP (EtherType 0x0806) and RARP (0x8035), Ethernet/IPv4 only.
	HasARP    bool
	ARPOp     uint16
	ARPSender netip.Addr
	ARPTarget netip.Addr

	// Network layer (the outermost IP header; tunnels are not followed).
	IPVersion    uint8 // 0 (none), 4 or 6
	SrcIP        netip.Addr
	DstIP        netip.Addr
	IPProto      uint8 // transport protocol: IPv4 protocol, or IPv6 next header after extension headers
	TTL          uint8 // IPv4 TTL or IPv6 hop limit
	HasIPID      bool  // IPv4 always; IPv6 only when a fragment header is present
	IPID         uint32
	IsFragment   bool   // IPv4 MF set or offset != 0; IPv6 fragment header present (atomic fragments included)
	FragOffset   uint16 // in bytes
	MoreFrags    bool
	IPOffset     int // byte offset of the (outermost) IP header in the frame
	IPHeaderLen  int // IPv4 IHL*4; IPv6 40 + extension headers
	IPTotalLen   int // IPv4 total length / IPv6 40+payload length, as the header says (0 when absent, e.g. TSO)
	IPPayloadLen int // bytes after the IP (and extension) headers per the header, clamped to what the header allows; Ethernet padding excluded

	// Transport layer. Only decoded for the first fragment (offset 0).
	HasPorts     bool // TCP or UDP (or SCTP) header seen
	SrcPort      uint16
	DstPort      uint16
	HasTCP       bool
	TCPFlags     uint16 // Flag* bits
	Seq          uint32
	Ack          uint32
	Win          uint16 // raw window field, not scaled
	TCPHeaderLen int
	MSS          uint16 // 0 when absent
	WScale       int8   // -1 when absent
	SACKPerm     bool
	HasTS        bool
	TSVal        uint32
	TSEcr        uint32
	NumSACK      uint8
	SACK         [4][2]uint32 // left, right edges of SACK blocks
	HasICMP      bool         // ICMP or ICMPv6
	ICMPType     uint8
	ICMPCode     uint8

	// PayloadLen is the transport payload length the headers declare
	// (tshark's tcp.len / udp.length-8), Ethernet padding excluded. When the
	// IP total length is 0 (TSO captures) it is derived from the captured
	// length, as tshark does.
	PayloadLen int
	// Payload is the part of the transport payload present in the capture
	// (len(Payload) <= PayloadLen when the snap length cut the frame).
	Payload []byte

	// Warn is the first problem met while decoding (a Kind* constant) or "".
	// Decoding never fails: it keeps what it decoded before the problem.
	Warn string
	// WarnOffset is the byte offset within the frame where the problem was found.
	WarnOffset int
}
