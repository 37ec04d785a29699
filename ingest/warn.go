package ingest

import (
	"errors"
	"fmt"

	"github.com/pcapq/pcapq/source"
)

// decodeWarnDetail words a decoder warning for the warnings table. It runs
// only for frames that have a warning, off the per-packet path.
func decodeWarnDetail(kind string, b *batch, frame int64) string {
	i := int(frame - b.firstFrame)
	if i < 0 || i >= len(b.meta) {
		return kind
	}
	m := &b.meta[i]
	p := &b.pkts[i]
	switch kind {
	case "unsupported_link_type":
		return fmt.Sprintf("link type %d (%s) is not decoded; the frame is kept with its record fields only", m.linkType, source.LinkTypeName(m.linkType))
	default:
		return fmt.Sprintf("%s at byte %d of a %d-byte frame (link type %s)", kind, p.WarnOffset, m.capLen, source.LinkTypeName(m.linkType))
	}
}

func readErrOffset(err error) int64 {
	var fe *source.FormatError
	if errors.As(err, &fe) {
		return fe.Offset
	}
	return -1
}

func readErrKind(err error) string {
	switch {
	case errors.Is(err, source.ErrTruncated):
		return "truncated_record"
	case errors.Is(err, source.ErrRecordTooLong):
		return "record_too_long"
	case errors.Is(err, source.ErrBadBlock):
		return "bad_block"
	case errors.Is(err, source.ErrRatio):
		return "decompression_ratio_exceeded"
	case errors.Is(err, source.ErrCorrupt):
		return "corrupt_compressed_data"
	}
	return "read_error"
}
