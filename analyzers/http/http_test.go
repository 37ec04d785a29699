package http

import (
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/httpextract"
	"github.com/pcapq/pcapq/schema"
)

// appendJSONString writes a JSON string that decodes to ValidText of its
// input, for any bytes.
func TestAppendJSONString(t *testing.T) {
	cases := []string{"", "plain", `q"b\s`, "\x00\x01\x1f\x7f", "\n\r\t", "caf\xe9", "caf\xc3\xa9", "\xe2\x82", "\xef\xbf\xbd", `\xe9`, "\u2028<>&"}
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte{0, 1, '\n', '"', '\\', 'a', 'x', 0x7f, 0x80, 0xbf, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xed, 0xa0, 0xf0, 0x9f, 0xff}
	for i := 0; i < 20000; i++ {
		b := make([]byte, rng.IntN(12))
		for j := range b {
			if rng.IntN(4) == 0 {
				b[j] = byte(rng.IntN(256))
			} else {
				b[j] = alphabet[rng.IntN(len(alphabet))]
			}
		}
		cases = append(cases, string(b))
	}
	for _, s := range cases {
		enc := appendJSONString([]byte("x"), s)[1:]
		var got string
		if err := json.Unmarshal(enc, &got); err != nil {
			t.Fatalf("%q encodes as %s: %v", s, enc, err)
		}
		if want := schema.ValidText(s); got != want {
			t.Fatalf("%q encodes as %s, which decodes to %q, want %q", s, enc, got, want)
		}
	}
}

// Header JSON: names in order of first appearance, a repeated name's
// values gathered in order, NULL for no headers and {} for none seen.
func TestAppendHeaders(t *testing.T) {
	b := array.NewStringBuilder(memory.DefaultAllocator)
	defer b.Release()
	appendHeaders(b, []httpextract.Header{{Name: "Host", Value: "h"}, {Name: "Set-Cookie", Value: "a=1"}, {Name: "X", Value: `"q"`}, {Name: "Set-Cookie", Value: "b=2"}, {Name: "host", Value: "lower"}})
	appendHeaders(b, nil)
	appendHeaders(b, []httpextract.Header{})
	a := b.NewStringArray()
	defer a.Release()
	want := []string{`{"Host":["h"],"Set-Cookie":["a=1","b=2"],"X":["\"q\""],"host":["lower"]}`, "", `{}`}
	for i, w := range want {
		if i == 1 {
			if !a.IsNull(1) {
				t.Errorf("nil headers: %q, want NULL", a.Value(1))
			}
			continue
		}
		if a.Value(i) != w {
			t.Errorf("row %d: %s, want %s", i, a.Value(i), w)
		}
	}
}
