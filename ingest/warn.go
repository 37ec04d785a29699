package ingest

import (
	"errors"
	"fmt"
	"strconv"
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
		return fmt.Sprintf("link type %d (%s) is not decoded; the frame is kept with its record fields only", m.linkType, LinkTypeName(m.linkType))
	default:
		return fmt.Sprintf("%s at byte %d of a %d-byte frame (link type %s)", kind, p.WarnOffset, m.capLen, LinkTypeName(m.linkType))
	}
}

func readErrOffset(err error) int64 {
	var fe *FormatError
	if errors.As(err, &fe) {
		return fe.Offset
	}
	return -1
}

func readErrKind(err error) string {
	switch {
	case errors.Is(err, ErrTruncated):
		return "truncated_record"
	case errors.Is(err, ErrRecordTooLong):
		return "record_too_long"
	case errors.Is(err, ErrBadBlock):
		return "bad_block"
	case errors.Is(err, ErrRatio):
		return "decompression_ratio_exceeded"
	case errors.Is(err, ErrCorrupt):
		return "corrupt_compressed_data"
	}
	return "read_error"
}

var linkTypeNames = map[uint32]string{
	0: "NULL", 1: "EN10MB", 9: "PPP", 12: "RAW", 14: "RAW", 101: "RAW", 104: "C_HDLC", 105: "IEEE802_11",
	108: "LOOP", 113: "LINUX_SLL", 127: "IEEE802_11_RADIOTAP", 228: "IPV4", 229: "IPV6", 239: "NFLOG", 276: "LINUX_SLL2",
}

// LinkTypeName is the LINKTYPE_ name without its prefix, or the number.
func LinkTypeName(lt uint32) string {
	if n, ok := linkTypeNames[lt]; ok {
		return n
	}
	return strconv.FormatUint(uint64(lt), 10)
}
