package httpextract

import (
	"bytes"
	"io"
	"sync"

	"github.com/klauspost/compress/flate"
	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zlib"
)

// Content codings the parser decodes.
const (
	encNone uint8 = iota
	encGzip
	encDeflate
)

// Bodies are decoded two ways. When the decoded bytes are only counted
// (keep == nil, bodies not kept), a counter decodes without producing them
// (inflatecount.go). When they are kept, klauspost/compress decodes them:
// the rest of this file.
//
// klauspost's decompressors pull their input (io.Reader) while the stream
// pushes it (StreamHandler.Data), and a pull decoder that runs dry fails
// for good. So compressed bytes are staged in a bounded buffer and the
// decoder only runs while at least zLowWater bytes are staged, or once the
// body has ended. One decoder step emits at most one 32 KiB window and
// consumes at most about that much input for stored blocks, and less than
// two bytes per output byte for Huffman blocks, so 64 KiB of look-ahead is
// enough for every stream a real encoder writes. A crafted stream that
// still runs dry (say, thousands of empty blocks) is reported as
// inflate_failed on this path; the counter has no such limit.
const (
	zLowWater = 80 << 10
	zBufCap   = zLowWater + 48<<10
	zScratch  = 32 << 10
)

// scratchPool holds decoder output buffers: keep copies the decoded bytes
// out, so one buffer is borrowed per pump instead of one being held per
// stream.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, zScratch); return &b }}

// inflater decodes one gzip or deflate body incrementally. It is reused for
// every body of its stream direction (reset keeps the decoder state
// allocations).
type inflater struct {
	cnt      *counter // decodes when counting, allocated on first use
	counting bool     // keep == nil: cnt decodes; done, err and out copy its results

	in  []byte // staged compressed bytes in[r:]
	r   int
	eof bool // the body has ended: running dry is the end of input

	enc     uint8
	started bool
	done    bool // decoder reached its end (or failed, or hit a limit)
	err     string
	fed     int64 // compressed bytes staged so far
	out     int64 // decoded bytes
	maxOut  int64
	ratio   int64
	keep    func(b []byte) // receives decoded bytes when bodies are kept, else nil
	rd      io.Reader      // active decoder
	gz      *gzip.Reader
	fl      io.ReadCloser // raw deflate
	zl      io.ReadCloser // zlib
	// src is the decoders' input: a view of in[r:], reset before every
	// pump. A *bytes.Reader is one of the types klauspost/compress
	// decodes from without its generic ByteReader path (about twice as
	// fast). Running dry returns io.EOF, which the decoder reports as
	// io.ErrUnexpectedEOF: the end of the body when it has ended, else a
	// failure (see the look-ahead argument above).
	src bytes.Reader
}

// reset prepares for a new body. keep, when not nil, receives the decoded
// bytes; else they are only counted, by the counter.
func (z *inflater) reset(enc uint8, maxOut, ratio int64, keep func([]byte)) {
	z.in = z.in[:0]
	z.r = 0
	z.eof = false
	z.enc = enc
	z.started = false
	z.done = false
	z.err = ""
	z.fed = 0
	z.out = 0
	z.maxOut = maxOut
	z.ratio = ratio
	z.keep = keep
	z.rd = nil
	z.counting = keep == nil
	if z.counting {
		if z.cnt == nil {
			z.cnt = new(counter)
		}
		z.cnt.reset(enc, maxOut, ratio)
		z.result()
	}
}

// result takes the counter's results.
func (z *inflater) result() {
	z.out, z.err, z.done = z.cnt.out, z.cnt.err, z.cnt.done
}

// write stages compressed body bytes and decodes what can safely be.
func (z *inflater) write(data []byte) {
	z.fed += int64(len(data))
	if z.done {
		return
	}
	if z.counting {
		z.cnt.write(data)
		z.result()
		return
	}
	if z.in == nil {
		z.in = make([]byte, 0, zBufCap)
	}
	for len(data) > 0 && !z.done {
		if z.r > 0 && len(z.in)+len(data) > cap(z.in) {
			n := copy(z.in, z.in[z.r:])
			z.in = z.in[:n]
			z.r = 0
		}
		n := min(cap(z.in)-len(z.in), len(data))
		z.in = append(z.in, data[:n]...)
		data = data[n:]
		z.pump()
	}
}

// finish decodes whatever is staged; the body has ended.
func (z *inflater) finish() {
	z.eof = true
	switch {
	case z.done:
	case z.counting:
		z.cnt.finish()
		z.result()
	default:
		z.pump()
	}
	z.keep = nil
}

func (z *inflater) fail(kind string) {
	z.done = true
	if z.err == "" {
		z.err = kind
	}
}

func (z *inflater) pump() {
	if !z.started {
		if len(z.in)-z.r < zLowWater && !z.eof {
			return
		}
		if !z.start() {
			return
		}
	}
	bp := scratchPool.Get().(*[]byte)
	buf := *bp
	defer scratchPool.Put(bp)
	z.src.Reset(z.in[z.r:])
	for !z.done && (z.eof || len(z.in)-z.r >= zLowWater) {
		n, err := z.rd.Read(buf)
		z.r = len(z.in) - z.src.Len()
		if n > 0 {
			if z.maxOut > 0 && z.out+int64(n) > z.maxOut {
				n = int(z.maxOut - z.out)
				z.fail(ErrInflateLimit)
			}
			z.out += int64(n)
			if z.keep != nil && n > 0 {
				z.keep(buf[:n])
			}
			if z.ratio > 0 && z.out > 1<<16 && z.out > z.ratio*max(z.fed-int64(len(z.in)-z.r), 1) {
				z.fail(ErrInflateLimit)
			}
		}
		switch {
		case err == io.EOF:
			z.done = true
		case err == io.ErrUnexpectedEOF && z.eof:
			// The body was cut (gap or end of capture): keep what decoded.
			z.done = true
		case err != nil:
			z.fail(ErrInflateFailed)
		case n == 0 && z.eof:
			// No progress at end of input: stop rather than spin.
			z.done = true
		}
	}
}

// start creates or resets the decoder once enough input is staged.
func (z *inflater) start() bool {
	z.started = true
	if z.r == len(z.in) {
		z.done = true // empty body: nothing to decode
		return false
	}
	z.src.Reset(z.in[z.r:])
	defer func() { z.r = len(z.in) - z.src.Len() }()
	switch z.enc {
	case encGzip:
		var err error
		if z.gz == nil {
			z.gz, err = gzip.NewReader(&z.src)
		} else {
			err = z.gz.Reset(&z.src)
		}
		if err != nil {
			z.fail(ErrInflateFailed)
			return false
		}
		z.rd = z.gz
	case encDeflate:
		// "deflate" is zlib (RFC 1950) by the spec but raw deflate from
		// many servers: a zlib header is two bytes whose big-endian value
		// is a multiple of 31 with compression method 8.
		if len(z.in)-z.r >= 2 && z.in[z.r]&0x0f == 8 && (uint16(z.in[z.r])<<8|uint16(z.in[z.r+1]))%31 == 0 {
			var err error
			if z.zl == nil {
				z.zl, err = zlib.NewReader(&z.src)
			} else {
				err = z.zl.(zlib.Resetter).Reset(&z.src, nil)
			}
			if err != nil {
				z.fail(ErrInflateFailed)
				return false
			}
			z.rd = z.zl
		} else {
			if z.fl == nil {
				z.fl = flate.NewReader(&z.src)
			} else if err := z.fl.(flate.Resetter).Reset(&z.src, nil); err != nil {
				z.fail(ErrInflateFailed)
				return false
			}
			z.rd = z.fl
		}
	default:
		z.done = true
		return false
	}
	return true
}

// release drops the buffers at the end of the stream.
func (z *inflater) release() {
	z.in = nil
	z.cnt = nil
	z.gz, z.fl, z.zl, z.rd = nil, nil, nil, nil
	z.keep = nil
}
