package source

import "strconv"

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
