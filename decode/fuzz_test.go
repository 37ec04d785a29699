package decode

import "testing"

// fuzzLinkTypes are the link types FuzzDecode exercises; the fuzzer picks
// one by index so that every decoder gets inputs, plus one unknown type.
var fuzzLinkTypes = []LinkType{
	LinkEthernet, LinkNull, LinkLoop, LinkRaw, LinkRaw12, LinkRaw14, LinkIPv4,
	LinkIPv6, LinkCHDLC, LinkSLL, LinkSLL2, LinkNFLOG, 160,
}

func linkIndex(lt LinkType) uint8 {
	for i, l := range fuzzLinkTypes {
		if l == lt&linkTypeMask {
			return uint8(i)
		}
	}
	return uint8(len(fuzzLinkTypes) - 1)
}

// FuzzDecode checks that Decode never panics on any frame of any link type,
// that Payload stays inside the frame and within PayloadLen unless a
// warning says why not, and that warning offsets point into the frame.
// Seeds: the hand-built frames of every link type (handFrames), the frames
// of gen-ip-first-fragments.pcap and, when the external corpus is present,
// the first frames of each capture.
func FuzzDecode(f *testing.F) {
	for _, fr := range handFrames() {
		f.Add(linkIndex(fr.lt), fr.data, uint16(0))
	}
	for _, fr := range genFirstFragments() {
		data, extra := fr.data, 0
		if fr.capLen > 0 { // cut by the snap length
			data, extra = fr.data[:fr.capLen], len(fr.data)-fr.capLen
		}
		f.Add(linkIndex(LinkEthernet), data, uint16(extra))
	}
	for _, fr := range corpusSample(3) {
		f.Add(linkIndex(fr.lt), fr.data, uint16(fr.origLen-len(fr.data)))
	}
	f.Fuzz(func(t *testing.T, li uint8, data []byte, extra uint16) {
		lt := fuzzLinkTypes[int(li)%len(fuzzLinkTypes)]
		var p Packet
		// extra: bytes on the wire beyond the capture (snap length cut).
		Decode(lt, data, len(data)+int(extra), &p)
		checkInvariants(t, data, &p)
		if p.VLANDepth > MaxVLANTags || p.MPLSDepth > MaxMPLSLabels || p.NumSACK > 4 {
			t.Errorf("limits exceeded: %d VLAN tags, %d MPLS labels, %d SACK blocks", p.VLANDepth, p.MPLSDepth, p.NumSACK)
		}
		if p.HasTCP && p.TCPHeaderLen >= 20 && p.Warn == "" && p.PayloadLen != p.IPPayloadLen-p.TCPHeaderLen {
			t.Errorf("PayloadLen %d != IP payload %d - TCP header %d", p.PayloadLen, p.IPPayloadLen, p.TCPHeaderLen)
		}
		// Decoding twice gives the same result (no state kept between calls).
		q := p
		Decode(lt, data, len(data)+int(extra), &p)
		if p.Warn != q.Warn || p.PayloadLen != q.PayloadLen || p.SrcIP != q.SrcIP || len(p.Payload) != len(q.Payload) {
			t.Errorf("second decode differs")
		}
	})
}
