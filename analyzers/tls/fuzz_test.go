package tls

import "testing"

// FuzzConn: arbitrary bytes as either direction, in pieces, never panic,
// and the buffers stay within their bounds (a record, a handshake message
// under MaxHandshakeMessage plus one record). The hello parsers and
// fingerprints never panic on what a record holds.
func FuzzConn(f *testing.F) {
	ch := record(recHandshake, handshakeMsg(hsClientHello, clientHello("fuzz.test", []string{"h2"}, []byte{1})))
	sh := record(recHandshake, handshakeMsg(hsServerHello, serverHello(0x1301, nil, true, "")))
	f.Add(ch, sh, uint8(7))
	f.Add(append(ch, record(recChangeCipherSpec, []byte{1})...), append(sh, record(recAlert, []byte{2, 40})...), uint8(1))
	f.Add([]byte{22, 3, 3, 0, 8, 1, 0xff, 0xff, 0xff, 0, 0, 0, 0}, []byte{22, 3, 3, 0xff, 0xff}, uint8(3)) // 16 MB message, 64 KB record
	f.Add(record(recHandshake, handshakeMsg(hsCertificate, []byte{0, 0, 5, 0, 0, 2, 0x30, 0})), sh, uint8(2))
	f.Fuzz(func(t *testing.T, orig, resp []byte, chunk uint8) {
		n := int(chunk%64) + 1
		s := &recSink{}
		c := NewConn(1, "", Options{MaxHandshakeMessage: 4096}, s)
		for i := 0; i < len(orig) || i < len(resp); i += n {
			if i < len(orig) {
				c.Data(0, orig[i:min(i+n, len(orig))], int64(i), int64(i))
			}
			if i < len(resp) {
				c.Data(1, resp[i:min(i+n, len(resp))], int64(i), int64(i))
			}
			for d := range c.half {
				h := &c.half[d]
				if len(h.rec) > MaxRecord || len(h.hs) > 4096+4+MaxRecord {
					t.Fatalf("buffers: record %d, handshake %d", len(h.rec), len(h.hs))
				}
			}
		}
		c.Close(0)
		if len(orig) > 4 {
			if h, _ := ParseClientHello(orig[4:]); h != nil {
				_ = h.JA3()
				if j := h.JA4('t'); len(j) != 36 {
					t.Fatalf("JA4 %q", j)
				}
			}
			if h, _ := ParseServerHello(orig[4:]); h != nil {
				_ = h.JA3S()
			}
		}
	})
}
