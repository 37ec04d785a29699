package tcpsession

import (
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"net/netip"
)

// IP protocol numbers used by the tracker.
const (
	protoICMP   = 1
	protoTCP    = 6
	protoUDP    = 17
	protoICMPv6 = 58
	protoSCTP   = 132
)

// icmpPorts maps an ICMP type and code to the "ports" Zeek and the
// Community ID spec use: the source port is the type; the destination port
// is the counterpart type for request/response pairs, else the code
// (oneWay is then true).
func icmpPorts(v6 bool, typ, code uint8) (sport, dport uint16, oneWay bool) {
	sport = uint16(typ)
	var c int
	if v6 {
		switch typ {
		case 128:
			c = 129
		case 129:
			c = 128
		case 133:
			c = 134
		case 134:
			c = 133
		case 135:
			c = 136
		case 136:
			c = 135
		case 130:
			c = 131
		case 131:
			c = 130
		case 139:
			c = 140
		case 140:
			c = 139
		case 144:
			c = 145
		case 145:
			c = 144
		default:
			return sport, uint16(code), true
		}
	} else {
		switch typ {
		case 8:
			c = 0
		case 0:
			c = 8
		case 13:
			c = 14
		case 14:
			c = 13
		case 15:
			c = 16
		case 16:
			c = 15
		case 10:
			c = 9
		case 9:
			c = 10
		case 17:
			c = 18
		case 18:
			c = 17
		default:
			return sport, uint16(code), true
		}
	}
	return sport, uint16(c), false
}

// CommunityID returns the Community ID v1 string
// (https://github.com/corelight/community-id-spec) for a flow. For ICMP and
// ICMPv6, sport and dport are the ICMP type and code; the spec's type
// mapping is applied here. hasPorts is false for protocols without ports
// (then sport and dport are ignored). It allocates the result string.
func CommunityID(seed uint16, src, dst netip.Addr, proto uint8, sport, dport uint16, hasPorts bool) string {
	oneWay := false
	if proto == protoICMP || proto == protoICMPv6 {
		sport, dport, oneWay = icmpPorts(proto == protoICMPv6, uint8(sport), uint8(dport))
	}
	src, dst = src.Unmap(), dst.Unmap()
	if !oneWay {
		c := src.Compare(dst)
		if c > 0 || (c == 0 && hasPorts && sport > dport) {
			src, dst = dst, src
			sport, dport = dport, sport
		}
	}
	var buf [2 + 16 + 16 + 2 + 4]byte
	b := buf[:0]
	b = binary.BigEndian.AppendUint16(b, seed)
	b = append(b, src.AsSlice()...)
	b = append(b, dst.AsSlice()...)
	b = append(b, proto, 0)
	if hasPorts {
		b = binary.BigEndian.AppendUint16(b, sport)
		b = binary.BigEndian.AppendUint16(b, dport)
	}
	sum := sha1.Sum(b)
	return "1:" + base64.StdEncoding.EncodeToString(sum[:])
}
