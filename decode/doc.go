// Package decode turns one captured frame into a flat Packet: link layer,
// the outermost IP header and the transport header. It is the
// `decode` arrow in pcapq's `source -> decode -> tcpsession -> httpextract ->
// schema (Arrow) -> query (DuckDB)`.
//
// The package is pure Go (no cgo, no gopacket at run time) and is built for
// the per-packet loop:
//
//   - Decode(lt, data, origLen, p) resets p and decodes in place. Callers reuse
//     one Packet for every frame; Decode does not allocate (a test asserts
//     testing.AllocsPerRun == 0 over real frames).
//   - Decoding never fails. The first problem met (a truncated header, a bad
//     length, a malformed TCP option list, an unknown link type) is recorded
//     in p.Warn, a Kind* constant named after Zeek's weird.log where Zeek has
//     a name, with p.WarnOffset, the byte offset in the frame; everything
//     decoded before the problem is kept.
//   - Every chain the input controls has a limit: MaxVLANTags,
//     MaxMPLSLabels, MaxIPv6ExtHdrs, MaxNFLOGTLVs.
//
// Ownership: p.Payload is a sub-slice of the data passed to Decode, not a
// copy. It is valid only as long as that buffer is; with a zero-copy reader
// that is until the next read. Copy what must outlive the frame.
//
// Lengths follow tshark. p.PayloadLen is the transport payload length the
// headers declare (tcp.len, udp.length-8), computed from the IP lengths, so
// Ethernet padding is never payload; when the IP total length is 0 (TSO,
// Linux BIG TCP) it comes from the frame's length on the wire. len(p.Payload)
// is smaller than p.PayloadLen when the snap length cut the frame, and in
// the first fragment of a UDP datagram (its UDP length counts the whole
// datagram, as tshark's udp.length). For ICMP the 8-byte ICMP header is not
// payload; for later fragments and protocols without a decoder (GRE, ESP,
// ...) Payload is the whole IP payload.
//
// A TCP or UDP header cut short keeps its ports (HasPorts) as tshark shows
// them; HasTCP needs the 20-byte fixed header, as Zeek does. The warning
// says why it is short: truncated_header when the snap length cut it,
// excessively_small_fragment when a first fragment with more to come ends
// inside it (the header continues in the next fragment).
//
// Link types: Ethernet II and 802.3 LLC/SNAP, 802.1Q/802.1ad VLAN tags, MPLS
// (IP guessed from the first nibble after the bottom of the stack; EtherType
// then holds the guessed 0x0800/0x86DD), BSD NULL and LOOP, raw IP (12, 14,
// 101, 228, 229), Cisco HDLC, Linux SLL and SLL2, and NFLOG. Network: IPv4,
// IPv6 with extension headers, ARP and RARP. Transport: TCP (MSS, window
// scale capped at 14 as RFC 7323 says, SACK, timestamps), UDP, SCTP ports,
// ICMP and ICMPv6 type/code, for unfragmented datagrams and first fragments.
// Tunnels (GRE, IP-in-IP, VXLAN) and the headers quoted in ICMP errors are
// not followed: the Packet describes the outermost IP header.
//
// FlowHash gives both directions of a flow the same value for sharding
// flows across workers; FlagsString and FlagsText print TCP flags the way
// tcpdump-style tools do (FSRPAUEC).
package decode
