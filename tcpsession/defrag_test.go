package tcpsession

import (
	"bytes"
	"encoding/binary"
	"path/filepath"
	"testing"

	"github.com/pcapq/pcapq/decode"
)

// ipv4Frag builds a raw IPv4 fragment of a UDP datagram.
func ipv4Frag(id uint16, off int, more bool, payload []byte) []byte {
	b := make([]byte, 20+len(payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[4:], id)
	fo := uint16(off / 8)
	if more {
		fo |= 0x2000
	}
	binary.BigEndian.PutUint16(b[6:], fo)
	b[8], b[9] = 64, 17
	copy(b[12:], []byte{10, 0, 0, 1})
	copy(b[16:], []byte{10, 0, 0, 2})
	copy(b[20:], payload)
	return b
}

func TestDefragIPv4(t *testing.T) {
	udp := make([]byte, 8+40)
	binary.BigEndian.PutUint16(udp[0:], 5000)
	binary.BigEndian.PutUint16(udp[2:], 53)
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	for i := 8; i < len(udp); i++ {
		udp[i] = byte(i)
	}
	frags := [][]byte{
		ipv4Frag(7, 32, false, udp[32:]),
		ipv4Frag(7, 0, true, udp[:16]),
		ipv4Frag(7, 8, true, bytes.Repeat([]byte{0xee}, 8)), // overlap: first copy wins
		ipv4Frag(7, 16, true, udp[16:32]),
	}
	d := NewDefragmenter(DefaultDefragOptions())
	var p decode.Packet
	var out []byte
	for i, f := range frags {
		decode.Decode(decode.LinkRaw, f, len(f), &p)
		if !p.IsFragment {
			t.Fatalf("fragment %d not decoded as a fragment", i)
		}
		dg, done := d.Add(int64(i), &p, f)
		if done != (i == len(frags)-1) {
			t.Fatalf("fragment %d: done=%v", i, done)
		}
		out = dg
	}
	decode.Decode(decode.LinkRaw, out, len(out), &p)
	if p.IsFragment || !p.HasPorts || p.DstPort != 53 || p.PayloadLen != 40 || !bytes.Equal(p.Payload, udp[8:]) {
		t.Fatalf("reassembled packet wrong: frag=%v ports=%v len=%d", p.IsFragment, p.HasPorts, p.PayloadLen)
	}
	if s := d.Stats(); s.Reassembled != 1 || s.Overlaps != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestDefragBounds(t *testing.T) {
	d := NewDefragmenter(DefragOptions{MaxPending: 2, MaxBytes: 1 << 20, Timeout: 10})
	var p decode.Packet
	for id := uint16(0); id < 5; id++ {
		f := ipv4Frag(id, 0, true, make([]byte, 16))
		decode.Decode(decode.LinkRaw, f, len(f), &p)
		d.Add(int64(id), &p, f)
	}
	if len(d.pend) > 2 || d.Stats().Evicted != 3 {
		t.Errorf("pending %d, stats %+v", len(d.pend), d.Stats())
	}
	f := ipv4Frag(9, 8, false, make([]byte, 16))
	decode.Decode(decode.LinkRaw, f, len(f), &p)
	d.Add(100, &p, f) // the timeout drops the older ones
	if d.Stats().TimedOut != 2 {
		t.Errorf("stats %+v", d.Stats())
	}
	big := ipv4Frag(10, 65528, false, make([]byte, 16))
	decode.Decode(decode.LinkRaw, big, len(big), &p)
	if _, done := d.Add(101, &p, big); done || d.Stats().TooBig != 1 {
		t.Errorf("oversized datagram accepted: %+v", d.Stats())
	}
}

// TestDefragIPv6AtomicCorpus runs Zeek's IPv6 atomic-fragment HTTP capture:
// Zeek's baseline lists four HTTP connections 2001:db8:1::2 -> [::1]:80;
// each must be tracked with its request and response bytes.
func TestDefragIPv6AtomicCorpus(t *testing.T) {
	path := filepath.Join(corpusDir(t), "pcaps", "zeek-ipv6-http-atomic-frag.pcap")
	sink, _ := runCapture(t, path, DefaultOptions())
	var tcp int
	for _, f := range sink.flows {
		if f.Proto == "tcp" {
			tcp++
			t.Logf("%s %d -> %s %d %s %s %d/%d", f.OrigH, f.OrigP, f.RespH, f.RespP, f.ConnState, f.History, f.OrigBytes, f.RespBytes)
			if f.OrigH.String() != "2001:db8:1::2" || f.RespP != 80 || f.OrigBytes != 15 || f.RespBytes != 88 {
				t.Errorf("flow %+v", f)
			}
		}
	}
	if tcp != 4 {
		t.Fatalf("%d TCP flows, Zeek has 4", tcp)
	}
}
