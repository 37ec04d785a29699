package decode

import "testing"

// BenchmarkDecode measures one Decode call per frame on typical frames:
// Ethernet/IPv4/TCP with SYN options and payload, Ethernet/IPv4/UDP,
// Ethernet/IPv6/TCP, and 802.1Q/IPv4/TCP.
func BenchmarkDecode(b *testing.B) {
	payload := make([]byte, 1000)
	cases := []struct {
		name  string
		frame []byte
	}{
		{"tcp", cat(eth(0x0800), ipv4(6, nil, tcp(1234, 80, 0x18, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, payload)))},
		{"udp", cat(eth(0x0800), ipv4(17, nil, udp(53, 5353, payload[:100])))},
		{"ipv6", cat(eth(0x86dd), ipv6(6, tcp(1234, 80, 0x18, []byte{1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, payload)))},
		{"vlan", cat(eth(0x8100), vlanTag(100, 0x0800), ipv4(6, nil, tcp(1234, 80, 0x10, nil, payload)))},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			var p Packet
			b.ReportAllocs()
			b.SetBytes(int64(len(c.frame)))
			for b.Loop() {
				Decode(LinkEthernet, c.frame, len(c.frame), &p)
			}
			if !p.HasPorts {
				b.Fatal("frame not decoded")
			}
		})
	}
}

func BenchmarkFlowHash(b *testing.B) {
	var p Packet
	f := cat(eth(0x0800), tcp4())
	Decode(LinkEthernet, f, len(f), &p)
	b.ReportAllocs()
	var h uint64
	for b.Loop() {
		h += p.FlowHash()
	}
	_ = h
}
