package source

import (
	"errors"
	"fmt"
)

// Record is one packet record read from a capture. A Reader reuses the
// Record's Data buffer: Data is valid only until the next call to Next.
type Record struct {
	Ts       int64  // capture time, nanoseconds since the Unix epoch (0 when NoTs)
	NoTs     bool   // no usable time: a simple packet block, or a time field out of range (see KindBadTimestamp)
	CapLen   int    // bytes captured (len(Data))
	OrigLen  int    // bytes on the wire
	Iface    int    // pcapng interface index (0 for pcap)
	LinkType uint32 // link type of the record's interface
	Offset   int64  // byte offset of the record (its block, for pcapng) in the uncompressed stream; -1 when there is none (a live capture not written to a file)
	// Warned: the reader kept a warning about this record (in Warnings,
	// at Offset), so that the pipeline can give it the record's frame.
	Warned bool
	Data   []byte
}

// Reader reads packet records from one source: a capture file or stream
// (Open, NewReader), a live capture (package source/live), or a wrapper of
// another Reader (live.Filter). The pipeline (package ingest) reads every
// source through these methods alone.
//
// Next returns io.EOF at a clean end. Any other error is a *FormatError (or
// an error of the source itself: I/O, an interruption) and is sticky: every
// later call returns it again. Records returned before the error are good
// and are kept. After an error the Record holds no data (len(Data) is 0).
//
// Next must be called from one goroutine. BytesRead and Interrupt may be
// called from any, also while Next runs.
type Reader interface {
	Next(r *Record) error
	// Format names the container: "pcap", "pcap-ns" or "pcapng" (with
	// "+gzip" or "+zstd" when compressed), "live" for a capture.
	Format() string
	// LinkTypes lists the distinct link types seen so far, in order of first appearance.
	LinkTypes() []uint32
	// Warnings returns problems that did not stop reading (unknown blocks
	// skipped, odd options, ...), in the order met.
	Warnings() []Warning
	// BytesRead is how far the source is read, for progress: bytes read
	// from the file or stream as it is stored (compressed bytes for a .gz
	// or .zst file; it runs ahead of the records by at most the read
	// buffer), or the bytes of the packets captured live.
	BytesRead() int64
	// Interrupt makes Next return soon, even when it is waiting (a live
	// capture with no traffic) or reads a long way without a record
	// (blocks skipped, a decompressed stream of no packets). A file
	// reader's stream fails with err, as an error of the source (not
	// damage); a live capture stops as with Stop (the packets the kernel
	// holds, then io.EOF). Interrupting twice is harmless.
	Interrupt(err error)
	// Close releases what the Reader holds: the file Open opened (never
	// standard input), a decompressor, a live capture's handle. Call it
	// once Next is no longer running.
	Close() error
}

// KindBadTimestamp is the warning for a record whose time field cannot be
// a time: a pcap fraction of a second over one second, or a pcapng time
// outside 1677-2262 (what int64 nanoseconds hold). The record has NoTs.
const KindBadTimestamp = "bad_timestamp"

// Warning is a problem met while reading that did not stop reading.
type Warning struct {
	Offset int64
	Kind   string // Zeek weird.log style name, e.g. "truncated_record"
	Detail string

	// Of and NotWritten are set on a KindWarningsNotWritten warning only:
	// the kind of the warnings not written, and how many.
	Of         string
	NotWritten int64
}

// Sentinel errors. A *FormatError wraps one of them.
var (
	ErrNotCapture    = errors.New("source: not a pcap or pcapng capture")
	ErrTruncated     = errors.New("source: truncated record")
	ErrRecordTooLong = errors.New("source: record length beyond limit")
	ErrBadBlock      = errors.New("source: malformed block")
	ErrRatio         = errors.New("source: decompression ratio beyond limit")
	ErrCorrupt       = errors.New("source: corrupt compressed data")
)

// FormatError reports where in which file reading stopped and why.
type FormatError struct {
	File   string
	Offset int64
	Err    error  // one of the sentinels above
	Detail string // human readable: what was found
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("%s: offset %d: %v: %s", e.File, e.Offset, e.Err, e.Detail)
}

func (e *FormatError) Unwrap() error { return e.Err }
