package dns

import (
	"encoding/binary"
	"testing"
)

// FuzzParse: never panics, and whatever the input claims, what is kept is
// bounded: at most MaxAnswers answers, names within maxNameText, answers
// within maxTextLen plus a tag. The same bytes through the UDP and the
// framed TCP paths of Conn do not panic either.
func FuzzParse(f *testing.F) {
	f.Add(query(1, "example.test"))
	f.Add(answer(1, "example.test", 1))
	f.Add(newMsg(1, 0, 1, 0, 0, 0).ptr(12).u16(1).u16(1).b)                                      // self pointer
	f.Add(newMsg(1, 0x8000, 2, 0, 0, 0).raw(1, 'a').ptr(16).u16(1).u16(1).raw(1, 'b').ptr(12).b) // two names pointing at each other
	f.Add(newMsg(1, 0x8000, 1, 65535, 65535, 65535).name("a").u16(1).u16(1).ptr(12).rr(16, 1, []byte{200, 'x'}).b)
	f.Fuzz(func(t *testing.T, b []byte) {
		var m Message
		if !Parse(b, &m) {
			if len(b) >= 12 {
				t.Fatalf("no header from %d bytes", len(b))
			}
			return
		}
		if len(m.Answers) > MaxAnswers || len(m.Answers) != len(m.TTLs) {
			t.Fatalf("%d answers, %d TTLs", len(m.Answers), len(m.TTLs))
		}
		if len(m.QName) > maxNameText {
			t.Fatalf("query name of %d bytes", len(m.QName))
		}
		for _, a := range m.Answers {
			if len(a) > maxTextLen+64 {
				t.Fatalf("answer of %d bytes", len(a))
			}
		}
		s := &recSink{}
		c := NewConn(1, "", "udp", s)
		c.Datagram(b, 1, 1)
		c.Datagram(b, 2, 2)
		framed := append(binary.BigEndian.AppendUint16(nil, uint16(len(b))), b...)
		ct := NewConn(1, "", "tcp", s)
		half := len(framed) / 2
		ct.Stream(0, framed[:half], 1, 1)
		ct.Stream(0, framed[half:], 2, 2)
		ct.Stream(1, b, 3, 3) // unframed bytes: whatever lengths they claim
		ct.Close(4)
		c.Close(4)
	})
}
