package schema

import (
	"strings"
	"unicode/utf8"
)

// ValidText returns s as DuckDB can store it in a VARCHAR, which must be
// valid UTF-8: each byte of s that is not part of a valid UTF-8 sequence
// is written as the four characters \xNN (lower-case hex), the way Zeek
// logs such bytes; everything else, control characters included, is kept.
// Captured traffic (header values in Latin-1, binary junk on an HTTP
// port) and file names are not always UTF-8.
//
// A backslash in s is kept as it is, so the input text `\xe9` and the
// byte 0xe9 are stored alike, as in Zeek's logs.
func ValidText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			const hex = "0123456789abcdef"
			b.WriteString(`\x`)
			b.WriteByte(hex[s[i]>>4])
			b.WriteByte(hex[s[i]&15])
		} else {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}
