package decode

import (
	"bytes"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gopacket/gopacket"
	"github.com/gopacket/gopacket/layers"
	"github.com/gopacket/gopacket/pcapgo"
)

// Generated captures: each scenario below writes one small pcap into
// testdata/ with frames the corpus lacks. No expectation is stored:
// TestTsharkTestdata compares every frame with tshark at test time.
// TestGeneratedCaptures keeps the committed files equal to the generator;
// regenerate them with
//
//	go test ./decode -run TestGeneratedCaptures -update
var update = flag.Bool("update", false, "rewrite the generated captures in testdata/")

var genCaptures = []struct {
	file   string
	frames func() []genFrame
}{
	{"gen-ip-first-fragments.pcap", genFirstFragments},
}

// genFrame is one record: the frame and how many of its bytes are
// captured (0: all).
type genFrame struct {
	data   []byte
	capLen int
}

// frag4 sets the fragment fields of an IPv4 datagram built by ipv4 (and
// clears DF): offset in bytes, MF, identification id.
func frag4(dg []byte, id uint16, offset int, more bool) []byte {
	binary.BigEndian.PutUint16(dg[4:], id)
	fo := uint16(offset / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(dg[6:], fo)
	return dg
}

// split4 cuts the IPv4 datagram payload p (of protocol proto) into two
// fragments at byte n (a multiple of 8).
func split4(proto uint8, id uint16, p []byte, n int) []genFrame {
	return []genFrame{
		{data: cat(eth(0x0800), frag4(ipv4(proto, nil, p[:n]), id, 0, true))},
		{data: cat(eth(0x0800), frag4(ipv4(proto, nil, p[n:]), id, n, false))},
	}
}

// split6 is split4 for IPv6 with a fragment header.
func split6(proto uint8, id uint32, p []byte, n int) []genFrame {
	return []genFrame{
		{data: cat(eth(0x86dd), ipv6(44, cat(frag6(proto, 0, true, id), p[:n])))},
		{data: cat(eth(0x86dd), ipv6(44, cat(frag6(proto, uint16(n), false, id), p[n:])))},
	}
}

// genFirstFragments: first fragments that end inside the TCP header
// (8 and 16 bytes, IPv4 and IPv6; 32 bytes of a 40-byte header whose
// MSS and window scale options are in the first fragment), an
// ordinary fragmented TCP segment, UDP datagrams fragmented over IPv4 and
// IPv6 (the UDP length counts the whole datagram), a first UDP fragment
// with a UDP length below 8, unfragmented frames whose TCP, UDP or SCTP
// header the snap length cut, first fragments the snap length cut, and a
// first fragment whose TCP data offset is below 5.
func genFirstFragments() []genFrame {
	seg := tcp(1234, 80, 0x18, nil, make([]byte, 100))
	segOpts := tcp(1234, 80, 0x18, []byte{2, 4, 5, 0xb4, 1, 3, 3, 7, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2}, make([]byte, 100))
	big := tcp(1234, 80, 0x18, nil, make([]byte, 1400))
	dgram := udp(5353, 53, make([]byte, 2000))
	var f []genFrame
	f = append(f, split4(6, 101, seg, 8)...)
	f = append(f, split4(6, 102, seg, 16)...)
	f = append(f, split4(6, 103, segOpts, 32)...)
	f = append(f, split4(6, 104, big, 1024)...)
	f = append(f, split4(17, 105, dgram, 1480)...)
	f = append(f, split6(17, 106, dgram, 1232)...)
	f = append(f, split6(6, 107, seg, 8)...)
	f = append(f, split6(6, 108, seg, 16)...)
	bad := set(udp(5353, 53, make([]byte, 100)), func(b []byte) { binary.BigEndian.PutUint16(b[4:], 4) })
	f = append(f, split4(17, 109, bad, 48)...)
	// Snap length cuts (frame = 14 Ethernet + 20 IP + transport bytes).
	whole := cat(eth(0x0800), ipv4(6, nil, seg))
	for _, n := range []int{4, 10, 16} {
		f = append(f, genFrame{data: whole, capLen: 34 + n})
	}
	f = append(f, genFrame{data: cat(eth(0x0800), ipv4(17, nil, dgram[:108])), capLen: 34 + 4})
	sctp := cat(u16(2905), u16(2905), u32(7), u32(0), make([]byte, 32))
	f = append(f, genFrame{data: cat(eth(0x0800), ipv4(132, nil, sctp)), capLen: 34 + 8})
	// A first fragment of 16 TCP bytes of which the snap length kept 10.
	f = append(f, genFrame{data: split4(6, 110, seg, 16)[0].data, capLen: 34 + 10})
	// The 32-byte first fragment with the options split, of which 28 bytes were kept.
	f = append(f, genFrame{data: split4(6, 111, segOpts, 32)[0].data, capLen: 34 + 28})
	// A first fragment whose TCP data offset is 4 (16 bytes): bad, not small.
	badOff := set(tcp(1234, 80, 0x18, nil, make([]byte, 100)), func(b []byte) { b[12] = 4 << 4 })
	f = append(f, split4(6, 112, badOff, 24)[0])
	return f
}

func genCapture(t testing.TB, frames []genFrame) []byte {
	var buf bytes.Buffer
	w := pcapgo.NewWriter(&buf)
	if err := w.WriteFileHeader(65535, layers.LinkTypeEthernet); err != nil {
		t.Fatal(err)
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for i, fr := range frames {
		c := fr.capLen
		if c == 0 {
			c = len(fr.data)
		}
		ci := gopacket.CaptureInfo{Timestamp: ts.Add(time.Duration(i) * time.Millisecond), CaptureLength: c, Length: len(fr.data)}
		if err := w.WritePacket(ci, fr.data[:c]); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// TestGeneratedCaptures checks that the committed captures are what the
// generator writes now (or rewrites them with -update).
func TestGeneratedCaptures(t *testing.T) {
	for _, g := range genCaptures {
		path := filepath.Join("testdata", g.file)
		b := genCapture(t, g.frames())
		if *update {
			if err := os.MkdirAll("testdata", 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, b, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		old, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (regenerate: go test ./decode -run TestGeneratedCaptures -update)", err)
		}
		if !bytes.Equal(old, b) {
			t.Errorf("%s differs from its generator (regenerate: go test ./decode -run TestGeneratedCaptures -update)", path)
		}
	}
}

// TestFirstFragments pins the warning and the lengths of each frame of
// gen-ip-first-fragments.pcap (its fields are compared with tshark by
// TestTsharkTestdata): a first fragment that splits the TCP header keeps
// its ports and is named excessively_small_fragment, not
// truncated_header or bad_TCP_header_len; a first UDP fragment's UDP
// length counts the whole datagram and is not bad_UDP_length.
func TestFirstFragments(t *testing.T) {
	frames, err := readFrames(filepath.Join("testdata", "gen-ip-first-fragments.pcap"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		warn       string
		ports      bool
		tcp        bool
		payloadLen int // -1: not checked
		payload    int // len(Payload), -1: not checked
	}{
		{KindSmallFragment, true, false, 0, 0}, // 8 bytes of TCP, IPv4
		{"", false, false, -1, -1},             // the rest
		{KindSmallFragment, true, false, 0, 0}, // 16 bytes of TCP
		{"", false, false, -1, -1},
		{KindSmallFragment, true, true, 0, 0}, // 32 bytes of a 40-byte TCP header
		{"", false, false, -1, -1},
		{"", true, true, 1004, 1004}, // whole TCP header, first part of the data
		{"", false, false, -1, -1},
		{"", true, false, 2000, 1472}, // UDP over IPv4: length of the whole datagram
		{"", false, false, -1, -1},
		{"", true, false, 2000, 1224}, // UDP over IPv6
		{"", false, false, -1, -1},
		{KindSmallFragment, true, false, 0, 0}, // 8 bytes of TCP, IPv6
		{"", false, false, -1, -1},
		{KindSmallFragment, true, false, 0, 0}, // 16 bytes of TCP, IPv6
		{"", false, false, -1, -1},
		{KindBadUDPLength, true, false, 40, 40}, // UDP length 4 in a first fragment
		{"", false, false, -1, -1},
		{KindTruncatedHeader, true, false, 0, 0},    // snap length: 4 bytes of TCP
		{KindTruncatedHeader, true, false, 0, 0},    // 10 bytes
		{KindTruncatedHeader, true, false, 0, 0},    // 16 bytes
		{KindTruncatedHeader, true, false, 100, 0},  // 4 bytes of UDP: length from IP
		{KindTruncatedHeader, false, false, -1, -1}, // 8 bytes of SCTP (tshark shows no ports either)
		{KindTruncatedHeader, true, false, 0, 0},    // first fragment cut by the snap length
		{KindTruncatedHeader, true, true, 0, 0},     // the same with the TCP options split
		{KindBadTCPHeaderLength, true, true, 0, 0},  // a first fragment with TCP data offset 4
	}
	if len(frames) != len(tests) {
		t.Fatalf("%d frames, %d cases", len(frames), len(tests))
	}
	var p Packet
	for i, tt := range tests {
		f := frames[i]
		Decode(f.lt, f.data, f.origLen, &p)
		checkInvariants(t, f.data, &p)
		if p.Warn != tt.warn || p.HasPorts != tt.ports || p.HasTCP != tt.tcp ||
			(tt.payloadLen >= 0 && p.PayloadLen != tt.payloadLen) || (tt.payload >= 0 && len(p.Payload) != tt.payload) {
			t.Errorf("frame %d: warn %q, ports %v, tcp %v, PayloadLen %d, len(Payload) %d; want %q, %v, %v, %d, %d",
				i+1, p.Warn, p.HasPorts, p.HasTCP, p.PayloadLen, len(p.Payload), tt.warn, tt.ports, tt.tcp, tt.payloadLen, tt.payload)
		}
		if tt.ports && (p.SrcPort == 0 || p.DstPort == 0) {
			t.Errorf("frame %d: ports %d -> %d", i+1, p.SrcPort, p.DstPort)
		}
	}
}
