package ingest

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
	Offset   int64  // byte offset of the record (its block, for pcapng) in the uncompressed stream
	Data     []byte
}

// Reader reads packet records from one capture stream.
//
// Next returns io.EOF at a clean end. Any other error is a *FormatError (or an
// I/O error from the underlying reader) and is sticky: every later call
// returns it again. Records returned before the error are good and are kept.
// After an error the Record holds no data (len(Data) is 0).
type Reader interface {
	Next(r *Record) error
	// Format is "pcap", "pcap-ns" or "pcapng".
	Format() string
	// LinkTypes lists the distinct link types seen so far, in order of first appearance.
	LinkTypes() []uint32
	// Warnings returns problems that did not stop reading (unknown blocks
	// skipped, odd options, ...), in the order met.
	Warnings() []Warning
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

	// For a KindWarningsNotWritten warning: the kind, and how many.
	of         string
	notWritten int64
}

// Sentinel errors. A *FormatError wraps one of them.
var (
	ErrNotCapture    = errors.New("ingest: not a pcap or pcapng capture")
	ErrTruncated     = errors.New("ingest: truncated record")
	ErrRecordTooLong = errors.New("ingest: record length beyond limit")
	ErrBadBlock      = errors.New("ingest: malformed block")
	ErrRatio         = errors.New("ingest: decompression ratio beyond limit")
	ErrCorrupt       = errors.New("ingest: corrupt compressed data")
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
