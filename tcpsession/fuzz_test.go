package tcpsession

import (
	"testing"
)

// FuzzReassembly feeds arbitrary segment sequences (4 bytes each: flags
// and direction, sequence offset, length, ack offset) over a few flows and
// checks that the Tracker never panics and that buffered bytes never
// exceed the per-flow and per-tracker bounds.
func FuzzReassembly(f *testing.F) {
	// In order: SYN, SYN-ACK, ACK, data.
	f.Add([]byte{0x02, 0, 0, 0, 0x92, 0, 0, 1, 0x10, 1, 0, 1, 0x18, 1, 50, 1})
	// Out of order then hole filled, overlapping retransmission.
	f.Add([]byte{0x02, 0, 0, 0, 0x18, 60, 40, 0, 0x18, 1, 60, 0, 0x18, 30, 50, 0, 0x90, 0, 0, 200})
	// RST, FIN and SYN reuse on the same flow.
	f.Add([]byte{0x02, 0, 0, 0, 0x84, 0, 0, 1, 0x02, 90, 0, 0, 0x01, 91, 0, 0, 0x81, 0, 0, 92})
	payload := make([]byte, 256)
	for i := range payload {
		payload[i] = byte(i)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		opts := DefaultOptions()
		opts.MaxFlowBuffered = 300
		opts.MaxBufferedBytes = 500
		opts.MaxFlows = 3
		streams := 0
		opts.NewStream = func(*FlowInfo) StreamHandler { streams++; return &recStream{} }
		tr := NewTracker(opts, &recSink{})
		ts := int64(1e18)
		for i := 0; i+4 <= len(in) && i < 4*2000; i += 4 {
			b0, off, n, ackOff := in[i], uint32(in[i+1]), int(in[i+2]), uint32(in[i+3])
			// low 5 bits: FIN SYN RST PSH ACK as decode.Flag*; bit 7: direction; bits 5-6: flow.
			flags := uint16(b0 & 0x1f)
			port := uint16(40000 + int(b0>>5&3))
			seq := uint32(1000 + off*7)
			ack := uint32(5000 + ackOff*7)
			var p = pkt("10.0.0.1", "10.0.0.2", port, 80, flags, seq, ack, string(payload[:n]))
			if b0&0x80 != 0 {
				p = pkt("10.0.0.2", "10.0.0.1", 80, port, flags, ack, seq, string(payload[:n]))
			}
			if n > 200 { // snap-length cut
				p.Payload = p.Payload[:n/2]
			}
			ts += int64(off) * 1e6
			tr.Process(int64(i/4+1), ts, p)
			var sum int64
			for _, c := range tr.flows {
				for j := range c.ep {
					b := c.ep[j].rs.buffered
					if b < 0 || b > opts.MaxFlowBuffered {
						t.Fatalf("flow buffered %d out of bounds", b)
					}
					sum += b
				}
			}
			if sum != tr.stats.BufferedBytes || sum > opts.MaxBufferedBytes {
				t.Fatalf("buffered sum %d, stats %d, bound %d", sum, tr.stats.BufferedBytes, opts.MaxBufferedBytes)
			}
		}
		tr.Close(ts)
		if tr.stats.BufferedBytes != 0 {
			t.Fatalf("buffered after Close = %d", tr.stats.BufferedBytes)
		}
	})
}
