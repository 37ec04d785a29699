package source

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"sync/atomic"
)

// Limits on lengths read from the input. Captures are attacker controlled:
// every length is checked against one of these before it is trusted.
const (
	// MaxRecordLen is the hard cap on one packet record (pcap) or one block
	// (pcapng), whatever the file header claims.
	MaxRecordLen = 16 << 20
	// DefaultRecordLen is the pcap record cap when the snaplen is smaller. It
	// is libpcap's largest per-link-type snaplen (262144), so files libpcap
	// and Wireshark read are read here too.
	DefaultRecordLen = 256 << 10
	// MaxWarningsPerKind bounds the warnings of one kind written for one
	// capture (by a reader, and by the pipeline to the warnings table); the
	// rest are counted in one KindWarningsNotWritten warning per kind.
	MaxWarningsPerKind = 1000
	// DefaultBufferSize is the read buffer between the stream and the
	// record parser (Options.BufferSize).
	DefaultBufferSize = 1 << 20
	// minBufferSize is the smallest read buffer: the largest peek is 28
	// bytes.
	minBufferSize = 64
)

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	if err != nil && err != io.EOF {
		err = &sourceError{err}
	}
	return n, err
}

// sourceError is an error of the source itself (reading the file or pipe,
// or the run's cancellation), as opposed to what a decompressor makes of
// its bytes: it fails the run instead of ending the capture as damaged.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// input is the buffered, uncompressed byte stream a reader parses, with the
// offset of the next unread byte.
type input struct {
	name  string
	br    *bufio.Reader
	off   int64 // offset of the next unread byte in the uncompressed stream
	src   *countingReader
	guard *guard    // the stream the parser's buffer reads
	close func()    // releases a decompressor; may be nil
	file  io.Closer // the file Open opened, closed by Close; nil for NewReader and stdin
	// wrapped is the compression found by magic ("gzip", "zstd") or "".
	wrapped string
}

// format appends the compression to a container format name: "pcap+gzip".
func (in *input) format(base string) string {
	if in.wrapped == "" {
		return base
	}
	return base + "+" + in.wrapped
}

func (in *input) BytesRead() int64 { return in.src.n.Load() }

// peek returns the next n bytes without consuming them. n must be at most
// the buffer size (the largest peek is 28 bytes).
func (in *input) peek(n int) ([]byte, error) { return in.br.Peek(n) }

// skip consumes n bytes.
func (in *input) skip(n int) error {
	m, err := in.br.Discard(n)
	in.off += int64(m)
	return err
}

// readInto reads exactly n bytes into dst's backing array, growing it as the
// bytes arrive (not to the claimed n up front, so a short file claiming a big
// record costs no more memory than the file holds). It returns dst resliced
// to the bytes read.
func (in *input) readInto(dst []byte, n int) ([]byte, error) {
	if n <= cap(dst) {
		dst = dst[:n]
		m, err := io.ReadFull(in.br, dst)
		in.off += int64(m)
		return dst[:m], err
	}
	dst = dst[:0]
	for len(dst) < n {
		chunk := min(n-len(dst), max(len(dst), 64<<10))
		dst = slices.Grow(dst, chunk)
		m, err := io.ReadFull(in.br, dst[len(dst):len(dst)+chunk])
		in.off += int64(m)
		dst = dst[:len(dst)+m]
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// readView returns the next n bytes. While they fit the read buffer they
// are a view of it, valid until the next read from in (no copy: the
// pipeline copies every record into its batch anyway); else they are read
// into *own, as readInto does. A stream that ends first returns the bytes
// there were and io.ErrUnexpectedEOF (io.EOF when there were none).
func (in *input) readView(own *[]byte, n int) ([]byte, error) {
	if n <= in.br.Size() {
		b, err := in.br.Peek(n)
		if err != bufio.ErrBufferFull {
			m, _ := in.br.Discard(len(b))
			in.off += int64(m)
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return b, err
		}
	}
	var err error
	*own, err = in.readInto(*own, n)
	return *own, err
}

// release frees the decompressor, if any, once reading has stopped.
func (in *input) release() {
	if in.close != nil {
		in.close()
		in.close = nil
	}
}

// closeAll is a reader's Close: it releases the decompressor and closes
// the file, once.
func (in *input) closeAll() error {
	in.release()
	if in.file == nil {
		return nil
	}
	f := in.file
	in.file = nil
	return f.Close()
}

// formatErr builds a *FormatError for this input.
func (in *input) formatErr(off int64, sentinel error, format string, args ...any) *FormatError {
	return &FormatError{File: in.name, Offset: off, Err: sentinel, Detail: fmt.Sprintf(format, args...)}
}

// ioErr turns an error from the stream into the error Next returns: a short
// read becomes a *FormatError wrapping ErrTruncated, a stream past the
// ratio bound one wrapping ErrRatio, and compressed data the decompressor
// rejects one wrapping ErrCorrupt: damage, which keeps the records
// before it. Errors of the source itself (I/O, cancellation) are wrapped
// with the file name and offset: they fail the run.
func (in *input) ioErr(off int64, what string, err error) error {
	if re, ok := isRatioErr(err); ok {
		return in.formatErr(off, ErrRatio, "%s", re.Error())
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return in.formatErr(off, ErrTruncated, "file ends inside %s", what)
	}
	var se *sourceError
	if in.wrapped != "" && !errors.As(err, &se) {
		return in.formatErr(off, ErrCorrupt, "%s data is corrupt: %v (reading %s)", in.wrapped, err, what)
	}
	return fmt.Errorf("%s: offset %d: reading %s: %w", in.name, off, what, err)
}

// KindWarningsNotWritten is the kind of the warning that stands for the
// warnings of one kind past the first MaxWarningsPerKind of a capture:
// its detail names the kind and how many were not written.
const KindWarningsNotWritten = "warnings_not_written"

// warnings keeps the first MaxWarningsPerKind warnings of each kind and
// counts the rest.
type warnings struct {
	list    []Warning
	kept    map[string]int
	dropped map[string]int64
}

// count counts a warning of kind and reports true when that kind is full,
// so that the caller can skip formatting it: a flood of warnings then
// costs no allocations. Use as: if cond && !w.count(kind) { w.add(...) }.
func (w *warnings) count(kind string) bool {
	if w.kept[kind] >= MaxWarningsPerKind {
		w.dropped[kind]++
		return true
	}
	return false
}

// add keeps a warning unless its kind is full; it reports whether it kept
// it.
func (w *warnings) add(off int64, kind, format string, args ...any) bool {
	if w.count(kind) {
		return false
	}
	if w.kept == nil {
		w.kept = make(map[string]int)
		w.dropped = make(map[string]int64)
	}
	w.kept[kind]++
	w.list = append(w.list, Warning{Offset: off, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	return true
}

// get returns the warnings kept, then one KindWarningsNotWritten warning
// for each kind that had more, in order of kind.
func (w *warnings) get() []Warning {
	out := slices.Clone(w.list)
	for _, kind := range slices.Sorted(maps.Keys(w.dropped)) {
		out = append(out, NotWrittenWarning(kind, w.dropped[kind]))
	}
	return out
}

// NotWrittenWarning is the warning that stands for n warnings of kind not
// written.
func NotWrittenWarning(kind string, n int64) Warning {
	return Warning{Offset: -1, Kind: KindWarningsNotWritten, Of: kind, NotWritten: n,
		Detail: fmt.Sprintf("%d more %s warnings not written (the first %d of each kind are)", n, kind, MaxWarningsPerKind)}
}

func u16(b []byte, le bool) uint16 {
	if le {
		return uint16(b[0]) | uint16(b[1])<<8
	}
	return uint16(b[1]) | uint16(b[0])<<8
}

func u32(b []byte, le bool) uint32 {
	_ = b[3]
	if le {
		return uint32(b[0]) | uint32(b[1])<<8 | uint32(b[2])<<16 | uint32(b[3])<<24
	}
	return uint32(b[3]) | uint32(b[2])<<8 | uint32(b[1])<<16 | uint32(b[0])<<24
}

func u64(b []byte, le bool) uint64 {
	if le {
		return uint64(u32(b[4:], true))<<32 | uint64(u32(b, true))
	}
	return uint64(u32(b, false))<<32 | uint64(u32(b[4:], false))
}
