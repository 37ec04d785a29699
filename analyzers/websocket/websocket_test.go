package websocket

import (
	"encoding/binary"
	"strings"
	"testing"
)

// frame builds one frame; mask nil means unmasked.
func frame(fin bool, op uint8, payload []byte, mask []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	m := byte(0)
	if mask != nil {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n < 65536:
		b = append(b, m|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if mask != nil {
		b = append(b, mask...)
		for i, x := range payload {
			b = append(b, x^mask[i&3])
		}
		return b
	}
	return append(b, payload...)
}

func feed(c *Conn, d int, b []byte, chunk int, frame0 int64) {
	for i := 0; len(b) > 0; i++ {
		n := min(chunk, len(b))
		c.Data(d, b[:n], frame0+int64(i), frame0+int64(i))
		b = b[n:]
	}
}

func TestFragmentsAndControlInterleaved(t *testing.T) {
	key := []byte{1, 2, 3, 4}
	var in []byte
	in = append(in, frame(false, OpText, []byte("Hello, "), key)...)
	in = append(in, frame(true, OpPing, []byte("p"), key)...) // control frame inside a fragmented message
	in = append(in, frame(false, OpContinuation, []byte(strings.Repeat("w", 200)), key)...)
	in = append(in, frame(true, OpContinuation, []byte("!"), key)...)
	in = append(in, frame(true, OpClose, append([]byte{0x03, 0xe8}, "done"...), key)...)
	for _, chunk := range []int{1, 3, 1000} {
		s := &recSink{}
		c := NewConn(9, Options{}, s)
		feed(c, 0, in, chunk, 1)
		c.Close(0)
		if len(s.rows) != 3 || len(s.warns) != 0 {
			t.Fatalf("chunk %d: %d rows, warnings %q", chunk, len(s.rows), s.warns)
		}
		ping, msg, cl := s.rows[0], s.rows[1], s.rows[2]
		if ping.Opcode != OpPing || ping.PayloadLen != 1 || !ping.Masked {
			t.Errorf("chunk %d: ping %+v", chunk, ping)
		}
		if msg.Opcode != OpText || msg.Fragments != 3 || msg.PayloadLen != 208 || msg.Preview != ("Hello, "+strings.Repeat("w", 57)) || msg.FirstFrame != 1 || !msg.Orig {
			t.Errorf("chunk %d: message %+v", chunk, msg)
		}
		if !cl.HasClose || cl.CloseCode != 1000 || cl.CloseReason != "done" {
			t.Errorf("chunk %d: close %+v", chunk, cl)
		}
	}
}

func TestHostileFrames(t *testing.T) {
	// A frame claiming 2^63-1 bytes: refused, nothing buffered, direction stopped.
	s := &recSink{}
	c := NewConn(1, Options{KeepPayloads: true}, s)
	hdr := []byte{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}
	c.Data(1, append(hdr, make([]byte, 1000)...), 1, 1)
	c.Data(1, frame(true, OpText, []byte("after"), nil), 2, 2)
	c.Close(3)
	if len(s.rows) != 0 || len(s.warns) != 1 || !strings.HasPrefix(s.warns[0], WarnFrameTooLong) {
		t.Errorf("2^63 frame: rows %d, warnings %q", len(s.rows), s.warns)
	}
	// A frame just under the bound is counted, not buffered: at close it
	// is a truncated row with the bytes seen; kept payload stays capped.
	s = &recSink{}
	c = NewConn(1, Options{KeepPayloads: true, MaxPayload: 100}, s)
	hdr = binary.BigEndian.AppendUint64([]byte{0x82, 127}, MaxFrameLen)
	c.Data(1, hdr, 1, 1)
	for i := 0; i < 50; i++ {
		c.Data(1, make([]byte, 4096), int64(i+2), int64(i+2))
	}
	c.Close(99)
	if len(s.rows) != 1 || s.rows[0].PayloadLen != 50*4096 || !s.rows[0].Truncated || len(s.rows[0].Payload) != 100 {
		t.Errorf("big frame: %d rows %+v", len(s.rows), s.rows)
	}
	// Control frame of 126+ bytes and a stray continuation: warned, still rows.
	s = &recSink{}
	c = NewConn(1, Options{KeepPayloads: true}, s)
	c.Data(0, frame(true, OpPing, make([]byte, 200), []byte{9, 9, 9, 9}), 1, 1)
	c.Data(0, frame(true, OpContinuation, []byte("x"), []byte{9, 9, 9, 9}), 2, 2)
	c.Data(0, frame(true, 5, []byte("y"), []byte{9, 9, 9, 9}), 3, 3)
	c.Data(0, frame(false, OpPong, []byte("z"), []byte{9, 9, 9, 9}), 4, 4)
	c.Close(5)
	if len(s.rows) != 4 || len(s.warns) != 4 {
		t.Errorf("bad frames: rows %d warnings %q", len(s.rows), s.warns)
	}
	for _, r := range s.rows {
		if r.HasPreview || len(r.Payload) > maxControl {
			t.Errorf("bad frame row: preview %v, %d payload bytes kept", r.HasPreview, len(r.Payload))
		}
	}
	// A gap inside a message: truncated row, direction stopped.
	s = &recSink{}
	c = NewConn(1, Options{}, s)
	c.Data(1, frame(true, OpText, make([]byte, 300), nil)[:50], 1, 1)
	c.Gap(1, 100, 2)
	c.Data(1, frame(true, OpText, []byte("later"), nil), 3, 3)
	c.Close(4)
	if len(s.rows) != 1 || !s.rows[0].Truncated || s.rows[0].PayloadLen != 46 {
		t.Errorf("gap: rows %+v warnings %q", s.rows, s.warns)
	}
	// Bytes after a close frame are not frames.
	s = &recSink{}
	c = NewConn(1, Options{}, s)
	c.Data(1, append(frame(true, OpClose, []byte{3, 0xe8}, nil), "HTTP/1.1 200 OK\r\n"...), 1, 1)
	c.Close(2)
	if len(s.rows) != 1 || len(s.warns) != 1 || !strings.HasPrefix(s.warns[0], WarnAfterClose) {
		t.Errorf("after close: rows %d warnings %q", len(s.rows), s.warns)
	}
}
