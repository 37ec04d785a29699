package httpextract

import (
	"reflect"
	"testing"

	"github.com/pcapq/pcapq/tcpsession"
)

// fuzzSegs decodes a fuzz input into segments: a control byte c gives the
// direction (c&1) and length (c>>1 + 1) of the next segment; 0xff is a gap
// whose size is the next byte, in the direction of the byte after.
func fuzzSegs(in []byte) []seg {
	var segs []seg
	for len(in) > 0 {
		c := in[0]
		in = in[1:]
		if c == 0xff && len(in) >= 2 {
			segs = append(segs, seg{dir: tcpsession.Dir(in[1]&1) + 1, gap: int64(in[0]) + 1})
			in = in[2:]
			continue
		}
		n := min(int(c>>1)+1, len(in))
		segs = append(segs, seg{dir: tcpsession.Dir(c&1) + 1, data: string(in[:n])})
		in = in[n:]
	}
	return segs
}

// fuzzEncode is the inverse of fuzzSegs for seeds.
func fuzzEncode(segs []seg) []byte {
	var out []byte
	for _, s := range segs {
		d := byte(s.dir - 1)
		if s.gap > 0 {
			out = append(out, 0xff, byte(min(s.gap-1, 255)), d)
			continue
		}
		for b := s.data; len(b) > 0; {
			n := min(len(b), 127)
			out = append(out, byte(n-1)<<1|d)
			out = append(out, b[:n]...)
			b = b[n:]
		}
	}
	return out
}

func fuzzOptions() Options {
	o := DefaultOptions()
	o.MaxHeaderBytes = 2048
	o.MaxLineLength = 256
	o.MaxHeaders = 16
	o.MaxPendingRequests = 8
	o.MaxDecompressed = 1 << 20
	o.KeepBodies = true
	o.MaxBodyKeep = 64
	return o
}

// FuzzHTTP checks that any byte stream, split into two directions with
// gaps, never panics, keeps every buffer within its bound, emits rows in
// TransDepth order, and parses the same whether delivered in segments or
// one byte at a time, with bodies kept or not.
func FuzzHTTP(f *testing.F) {
	for _, c := range cases {
		if total(c.segs) < 1<<14 {
			f.Add(fuzzEncode(c.segs))
		}
	}
	// A gzip body cut in the middle of its stream.
	f.Add(fuzzEncode([]seg{{orig, getReq, 0}, {resp, "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n\r\n" + gzipped(text)[:60], 0}}))
	// Chunk sizes at the edge of overflow.
	f.Add(fuzzEncode([]seg{{orig, getReq, 0}, {resp, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffff\r\nab", 0}}))
	f.Fuzz(func(t *testing.T, in []byte) {
		segs := fuzzSegs(in)
		opts := fuzzOptions()
		// Compressed bodies are counted (counter) unless kept (klauspost).
		opts.KeepBodies = len(in)%2 == 0

		// Bounds, checked after every call.
		s := &recSink{}
		h := NewFactory(opts, s)(&tcpsession.FlowInfo{}).(*handler)
		check := func() {
			for i := range h.half {
				p := &h.half[i]
				if len(p.buf) > opts.MaxHeaderBytes+1 {
					t.Fatalf("line buffer %d bytes", len(p.buf))
				}
				if cap(p.inf.in) > zBufCap {
					t.Fatalf("inflate buffer %d bytes", cap(p.inf.in))
				}
				if p.inf.cnt != nil && cap(p.inf.cnt.tail) > maxStep+joinChunk {
					t.Fatalf("inflate counter carries %d bytes", cap(p.inf.cnt.tail))
				}
				if len(p.keep) > int(opts.MaxBodyKeep) {
					t.Fatalf("kept body %d bytes", len(p.keep))
				}
			}
			if len(h.q)-h.head > 2*opts.MaxPendingRequests+2 {
				t.Fatalf("%d transactions queued", len(h.q)-h.head)
			}
		}
		for i, sg := range segs {
			if sg.gap > 0 {
				h.Gap(sg.dir, sg.gap, int64(i+1), int64(i+1))
			} else {
				h.Data(sg.dir, []byte(sg.data), int64(i+1), int64(i+1))
			}
			check()
		}
		h.Close(int64(len(segs) + 1))
		for i, x := range s.txs {
			if x.TransDepth != i+1 {
				t.Fatalf("row %d has TransDepth %d", i, x.TransDepth)
			}
			if x.RespBodyLen > opts.MaxDecompressed {
				t.Fatalf("RespBodyLen %d past the cap", x.RespBodyLen)
			}
			if x.ReqBodyLen > opts.MaxDecompressed && x.ReqBodyLen > int64(len(in)) {
				t.Fatalf("ReqBodyLen %d past the cap", x.ReqBodyLen)
			}
		}

		// Split invariance.
		whole := run(opts, segs, nil)
		bytewise := run(opts, segs, func(_, n int) []int {
			cs := make([]int, n)
			for i := range cs {
				cs[i] = i
			}
			return cs
		})
		if !reflect.DeepEqual(whole, bytewise) {
			t.Fatalf("byte-at-a-time differs:\n%s", lineDiff(render(bytewise), render(whole)))
		}
	})
}
