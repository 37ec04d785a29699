package decode

import (
	"path/filepath"
	"testing"
)

// handFrames is a mix of hand-built frames over every link type, used when
// the external corpus is absent and as fuzz seeds.
func handFrames() []frame {
	v6 := ipv6(0, cat(ext6(44), frag6(6, 0, false, 1), tcp(1234, 80, 0x18, sackOpts, []byte("hello"))))
	le := func(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }
	nflog := cat([]byte{2, 0, 0, 0}, le(8), le(1), make([]byte, 4), le(uint16(4+65)), le(9), tcp4())
	return []frame{
		{LinkEthernet, cat(eth(0x0800), tcp4()), 0},
		{LinkEthernet, cat(eth(0x8100), vlanTag(42, 0x0800), ipv4(17, nil, udp(53, 53, []byte("q")))), 0},
		{LinkEthernet, cat(eth(0x88a8), vlanTag(1, 0x8100), vlanTag(2, 0x86dd), v6), 0},
		{LinkEthernet, cat(eth(0x8847), mpls(1, true), tcp4()), 0},
		{LinkEthernet, cat(macB, macA, u16(73), []byte{0xaa, 0xaa, 3, 0, 0, 0}, u16(0x0800), tcp4()), 0},
		{LinkEthernet, cat(eth(0x0806), u16(1), u16(0x0800), []byte{6, 4}, u16(1), macA, ip4A, macB, ip4B), 0},
		{LinkEthernet, cat(eth(0x0800), ipv4(1, nil, []byte{8, 0, 0, 0, 0, 1, 0, 1})), 0},
		{LinkNull, cat([]byte{2, 0, 0, 0}, tcp4()), 0},
		{LinkLoop, cat(u32(24), v6), 0},
		{LinkRaw, v6, 0},
		{LinkIPv4, ipv4(132, nil, make([]byte, 16)), 0},
		{LinkIPv6, ipv6(58, []byte{128, 0, 0, 0, 0, 0, 0, 0}), 0},
		{LinkCHDLC, cat([]byte{0x0f, 0}, u16(0x0800), tcp4()), 0},
		{LinkSLL, cat(u16(0), u16(1), u16(6), macA, []byte{0, 0}, u16(0x0800), tcp4()), 0},
		{LinkSLL2, cat(u16(0x86dd), u16(0), u32(1), u16(1), []byte{0, 6}, macA, []byte{0, 0}, v6), 0},
		{LinkNFLOG, nflog, 0},
		{LinkRaw, ipv4(6, nil, tcp(1, 2, 0x12, []byte{2, 4, 1, 0, 3, 0, 0, 0}, nil)), 0},
		{160, []byte{1, 2, 3}, 0},
	}
}

// corpusSample returns up to n frames from each corpus capture (nil when
// the corpus is absent).
func corpusSample(n int) []frame {
	dir, ok := findCorpus()
	if !ok {
		return nil
	}
	files, _ := filepath.Glob(filepath.Join(dir, "pcaps", "*.pcap*"))
	var out []frame
	for _, f := range files {
		fr, _ := readFrames(f)
		if len(fr) > n {
			fr = fr[:n]
		}
		out = append(out, fr...)
	}
	return out
}

func TestDecodeNoAllocs(t *testing.T) {
	frames := append(handFrames(), corpusSample(20)...)
	var p Packet
	n := testing.AllocsPerRun(50, func() {
		for _, f := range frames {
			Decode(f.lt, f.data, f.origLen, &p)
		}
	})
	if n != 0 {
		t.Errorf("Decode allocates %v times per pass over %d frames", n, len(frames))
	}
	t.Logf("%d frames, %v allocations", len(frames), n)
}
