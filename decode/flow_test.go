package decode

import (
	"math"
	"net/netip"
	"testing"
)

func TestFlowHashSymmetric(t *testing.T) {
	v4 := ipv4(6, nil, tcp(1234, 80, 0x02, nil, nil))
	v6 := ipv6(17, udp(5353, 53, nil))
	var p, q Packet
	for _, f := range [][]byte{v4, v6} {
		Decode(LinkRaw, f, 0, &p)
		q = p
		q.SrcIP, q.DstIP, q.SrcPort, q.DstPort = p.DstIP, p.SrcIP, p.DstPort, p.SrcPort
		if p.FlowHash() != q.FlowHash() {
			t.Errorf("A->B %x != B->A %x", p.FlowHash(), q.FlowHash())
		}
		// Same addresses, ports swapped on one side only: a different flow.
		r := p
		r.SrcPort, r.DstPort = p.DstPort, p.SrcPort
		if r.FlowHash() == p.FlowHash() {
			t.Errorf("swapping only the ports kept the hash")
		}
		r = p
		r.IPProto++
		if r.FlowHash() == p.FlowHash() {
			t.Errorf("protocol not hashed")
		}
	}
	// Same address both ends (loopback): the port order decides.
	p = Packet{SrcIP: netip.MustParseAddr("127.0.0.1"), DstIP: netip.MustParseAddr("127.0.0.1"), SrcPort: 1, DstPort: 2, IPProto: 6, IPVersion: 4}
	q = p
	q.SrcPort, q.DstPort = 2, 1
	if p.FlowHash() != q.FlowHash() {
		t.Errorf("loopback flow not symmetric")
	}
}

// TestFlowHashDistribution shards 64k client flows to one server (the
// worst realistic case: only the client port and last address byte vary)
// over 8 and 64 workers and checks the buckets are near uniform.
func TestFlowHashDistribution(t *testing.T) {
	var p Packet
	p.IPVersion, p.IPProto, p.DstPort = 4, 6, 443
	p.DstIP = netip.MustParseAddr("10.0.0.1")
	for _, shards := range []int{8, 64} {
		counts := make([]int, shards)
		n := 0
		for host := 0; host < 16; host++ {
			p.SrcIP = netip.AddrFrom4([4]byte{192, 168, 1, byte(host)})
			for port := 32768; port < 32768+4096; port++ {
				p.SrcPort = uint16(port)
				counts[p.FlowHash()%uint64(shards)]++
				n++
			}
		}
		exp := float64(n) / float64(shards)
		chi2 := 0.0
		for _, c := range counts {
			d := float64(c) - exp
			chi2 += d * d / exp
		}
		// chi-square with shards-1 degrees of freedom: mean shards-1,
		// sd sqrt(2(shards-1)); 6 sd is far beyond chance.
		limit := float64(shards-1) + 6*math.Sqrt(2*float64(shards-1))
		if chi2 > limit {
			t.Errorf("%d shards: chi2 %.1f > %.1f, counts %v", shards, chi2, limit, counts)
		}
	}
}

func TestFlags(t *testing.T) {
	tests := []struct {
		flags uint16
		want  string
	}{
		{0, ""},
		{FlagSYN, "S"},
		{FlagSYN | FlagACK, "SA"},
		{FlagFIN | FlagPSH | FlagACK, "FPA"},
		{FlagRST | FlagACK, "RA"},
		{FlagSYN | FlagECE | FlagCWR, "SEC"},
		{0x1FF, "FSRPAUEC"},
		{FlagNS | FlagACK, "A"},
	}
	for _, tt := range tests {
		p := Packet{TCPFlags: tt.flags}
		if got := string(p.FlagsString(nil)); got != tt.want {
			t.Errorf("FlagsString(%#x) = %q, want %q", tt.flags, got, tt.want)
		}
		if got := FlagsText(tt.flags); got != tt.want {
			t.Errorf("FlagsText(%#x) = %q, want %q", tt.flags, got, tt.want)
		}
	}
	buf := make([]byte, 0, 8)
	p := Packet{TCPFlags: 0x1ff}
	if n := testing.AllocsPerRun(100, func() {
		buf = p.FlagsString(buf[:0])
		_ = FlagsText(p.TCPFlags)
		_ = p.FlowHash()
	}); n != 0 {
		t.Errorf("FlagsString/FlagsText/FlowHash allocate %v times", n)
	}
}
