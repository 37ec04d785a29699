package websocket

import "testing"

// FuzzConn: arbitrary bytes from both sides, in pieces of any size, never
// panic; what a row keeps is bounded (preview, control payload, kept
// payload), whatever lengths the frames claim.
func FuzzConn(f *testing.F) {
	key := []byte{1, 2, 3, 4}
	f.Add(frame(false, OpText, []byte("a"), key), frame(true, OpBinary, make([]byte, 300), nil), uint8(5))
	f.Add([]byte{0x82, 127, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, []byte{0x81, 127, 0, 0, 1, 0, 0, 0, 0, 0}, uint8(1)) // 2^63-1 and 2^40 bytes
	f.Add(frame(true, OpClose, []byte{3, 0xe8, 'x'}, key), frame(true, OpPing, make([]byte, 125), nil), uint8(200))
	f.Fuzz(func(t *testing.T, orig, resp []byte, chunk uint8) {
		n := int(chunk%32) + 1
		s := &recSink{}
		c := NewConn(1, Options{KeepPayloads: true, MaxPayload: 64}, s)
		for i := 0; i < len(orig) || i < len(resp); i += n {
			if i < len(orig) {
				c.Data(0, orig[i:min(i+n, len(orig))], int64(i), int64(i))
			}
			if i < len(resp) {
				c.Data(1, resp[i:min(i+n, len(resp))], int64(i), int64(i))
			}
		}
		c.Close(0)
		for _, r := range s.rows {
			if len(r.Preview) > PreviewLen || len(r.Payload) > maxControl+64 || len(r.CloseReason) > maxControl || r.PayloadLen < 0 {
				t.Fatalf("row %+v", r)
			}
		}
	})
}
