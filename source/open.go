package source

import (
	"bufio"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/klauspost/compress/zstd"
)

// Magic numbers, as the bytes appear at the start of the stream.
var (
	magicGzip = []byte{0x1f, 0x8b}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// zstdMaxWindow bounds the memory a zstd frame may make the decoder allocate.
// zstd's largest standard window (level 22, --long=27) is 128 MiB.
const zstdMaxWindow = 128 << 20

// DefaultMaxRatio bounds decompression: a gzip or zstd stream may expand
// to at most this many bytes per compressed byte consumed, past its first
// ratioGrace bytes. Real captures stay far below it (the most compressible
// of the corpus, TSO segments of zeros, is 260:1 with gzip -9 and 631:1
// with zstd -19 --long); a stream of zeros, the cheapest way to make a
// reader do work, is 1030:1 with gzip and 30000:1 with zstd. Reading stops
// there with ErrRatio (the rows before are kept); Options.MaxRatio raises
// the bound.
const DefaultMaxRatio = 1000

// ratioGrace is the output a stream may produce whatever its ratio, so a
// small, very compressible capture is read whole.
const ratioGrace = 1 << 20

// Options configure the readers Open and NewReader return. The zero
// value is the defaults.
type Options struct {
	// MaxRatio bounds the decompression of a gzip or zstd capture: bytes
	// out per compressed byte in, past the first MiB. 0 means
	// DefaultMaxRatio, negative no bound. Past it reading stops as on
	// damage, with a *FormatError wrapping ErrRatio.
	MaxRatio int
	// BufferSize is the read buffer between the stream and the record
	// parser: 0 means DefaultBufferSize, and it is at least 64 bytes.
	// Records larger than it are read into a buffer of their own.
	BufferSize int
}

// Open opens the capture at path ("-" is standard input) with the default
// Options. Gzip and zstd compression are detected by their magic numbers,
// not the file name. Close the Reader to close the file (standard input
// is left open).
func Open(path string) (Reader, error) { return Options{}.Open(path) }

// Open is the package's Open with these options.
func (o Options) Open(path string) (Reader, error) {
	var f *os.File
	name := path
	if path == "-" {
		f, name = os.Stdin, "stdin"
	} else {
		var err error
		if f, err = os.Open(path); err != nil {
			return nil, err
		}
	}
	var file io.Closer
	if f != os.Stdin {
		file = f
	}
	r, err := o.newReader(f, name, file)
	if err != nil {
		if file != nil {
			file.Close()
		}
		return nil, err
	}
	return r, nil
}

// NewReader returns a Reader for the capture in r with the default
// Options; name is used in errors. Like Open, it detects gzip and zstd
// compression by magic. Closing the Reader does not close r.
func NewReader(r io.Reader, name string) (Reader, error) { return Options{}.NewReader(r, name) }

// NewReader is the package's NewReader with these options.
func (o Options) NewReader(r io.Reader, name string) (Reader, error) {
	return o.newReader(r, name, nil)
}

// newReader reads r; file, when set, is closed by the Reader's Close.
func (o Options) newReader(r io.Reader, name string, file io.Closer) (Reader, error) {
	bufSize := o.BufferSize
	if bufSize <= 0 {
		bufSize = DefaultBufferSize
	}
	bufSize = max(bufSize, minBufferSize)
	maxRatio := int64(o.MaxRatio)
	switch {
	case maxRatio == 0:
		maxRatio = DefaultMaxRatio
	case maxRatio < 0:
		maxRatio = 0 // no bound
	}
	src := &countingReader{r: r}
	g := &guard{r: src}
	in := input{name: name, src: src, guard: g, file: file}
	br := bufio.NewReaderSize(g, bufSize)
	head, err := br.Peek(4)
	if len(head) == 0 && err == io.EOF {
		return nil, in.formatErr(0, ErrNotCapture, "file is empty (0 bytes), want a pcap or pcapng capture")
	}
	if err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	wrapped := ""
	switch {
	case hasPrefix(head, magicGzip):
		consumed := &consumedCounter{br: br}
		zr, err := gzip.NewReader(consumed)
		if err != nil {
			return nil, in.ioErr(0, "gzip header", err)
		}
		wrapped = "gzip"
		in.close = func() { zr.Close() }
		g = &guard{r: zr, consumed: consumed, maxRatio: maxRatio, wrapped: wrapped}
		in.guard = g
		br = bufio.NewReaderSize(g, bufSize)
	case hasPrefix(head, magicZstd):
		consumed := &consumedCounter{br: br}
		// One goroutine: the decoder reads and decodes when asked, in
		// the caller's goroutine.
		zr, err := zstd.NewReader(consumed, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(zstdMaxWindow))
		if err != nil {
			return nil, fmt.Errorf("%s: zstd: %w", name, err)
		}
		wrapped = "zstd"
		in.close = zr.Close
		g = &guard{r: zr, consumed: consumed, maxRatio: maxRatio, wrapped: wrapped}
		in.guard = g
		br = bufio.NewReaderSize(g, bufSize)
	}
	in.br = br
	in.wrapped = wrapped
	if wrapped != "" {
		head, err = br.Peek(4)
		if len(head) == 0 && err == io.EOF {
			in.release()
			return nil, in.formatErr(0, ErrNotCapture, "%s stream is empty after decompression, want a pcap or pcapng capture", wrapped)
		}
		if err != nil && err != io.EOF {
			in.release()
			return nil, in.ioErr(0, wrapped+" stream", err)
		}
	}
	var rd Reader
	switch {
	case len(head) == 4 && u32(head, false) == pcapngSHB:
		rd, err = newPcapng(in)
	case len(head) == 4 && pcapMagic(head) != 0:
		rd, err = newPcap(in)
	default:
		in.release()
		detail := fmt.Sprintf("found magic %s, want a pcap (a1 b2 c3 d4 / d4 c3 b2 a1 / a1 b2 3c 4d / 4d 3c b2 a1) or pcapng (0a 0d 0d 0a) header", describeMagic(head))
		if wrapped != "" {
			detail = "after " + wrapped + " decompression, " + detail
		}
		return nil, in.formatErr(0, ErrNotCapture, "%s", detail)
	}
	if err != nil {
		in.release()
		return nil, err
	}
	return rd, nil
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

// describeMagic renders the first bytes in hex and, quoted, as text with
// non-printable bytes as dots: `3c 68 74 6d ("<htm")`.
func describeMagic(b []byte) string {
	var hex, text strings.Builder
	for i, c := range b {
		if i > 0 {
			hex.WriteByte(' ')
		}
		fmt.Fprintf(&hex, "%02x", c)
		if c >= 0x20 && c < 0x7f {
			text.WriteByte(c)
		} else {
			text.WriteByte('.')
		}
	}
	s := fmt.Sprintf("%s (%q)", hex.String(), text.String())
	if len(b) < 4 {
		s += fmt.Sprintf(", only %d bytes", len(b))
	}
	return s
}

// consumedCounter counts the compressed bytes a decompressor consumes. It
// is an io.ByteReader, so gzip reads no further than it needs.
type consumedCounter struct {
	br *bufio.Reader
	n  int64
}

func (c *consumedCounter) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *consumedCounter) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// guard is the stream a parser reads (through its buffer): it stops the
// stream once interrupted (Run's context is done), and a decompressed
// stream once it expands past maxRatio. It runs once per buffer refill,
// not per record.
type guard struct {
	r        io.Reader
	consumed *consumedCounter // compressed bytes consumed; nil for a plain stream
	maxRatio int64            // 0: no bound
	wrapped  string
	out      int64 // bytes produced

	stopped atomic.Bool
	stopErr error // set before stopped
}

func (g *guard) Read(p []byte) (int, error) {
	if g.stopped.Load() {
		return 0, g.stopErr
	}
	n, err := g.r.Read(p)
	g.out += int64(n)
	// out/maxRatio > consumed: out > maxRatio*consumed without overflow.
	if g.consumed != nil && g.maxRatio > 0 && g.out > ratioGrace && g.out/g.maxRatio > g.consumed.n {
		return n, &ratioError{wrapped: g.wrapped, out: g.out, in: g.consumed.n, max: g.maxRatio}
	}
	return n, err
}

// interrupt makes every later Read fail with err, as an error of the
// source.
func (g *guard) interrupt(err error) {
	g.stopErr = &sourceError{err}
	g.stopped.Store(true)
}

// ratioError is a decompressed stream past the ratio bound.
type ratioError struct {
	wrapped string
	out, in int64
	max     int64
}

func (e *ratioError) Error() string {
	return fmt.Sprintf("the %s stream expanded to %d bytes from %d compressed bytes, over %d:1 (a decompression bomb?); the rest is not read. If the capture is genuine, raise the bound (pcapq ingest --max-ratio)",
		e.wrapped, e.out, e.in, e.max)
}

func (in *input) interrupt(err error) { in.guard.interrupt(err) }

func isRatioErr(err error) (*ratioError, bool) {
	var re *ratioError
	ok := errors.As(err, &re)
	return re, ok
}
