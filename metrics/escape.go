package metrics

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxShown bounds a piece of traffic text in a text or Markdown report
// (JSON carries it whole).
const maxShown = 300

// EscapeText makes text from the traffic safe for a terminal or a log:
// control characters, invalid UTF-8, backslashes and the Unicode format
// characters that reorder or hide text (bidi overrides and isolates,
// zero-width characters, line and paragraph separators) are written as
// Go-style escapes, so a host name or a URI cannot move the cursor, forge
// a line of the report or display as something else.
func EscapeText(s string) string {
	safe := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '\\' || c >= 0x80 {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r >= 0x80 && r < 0xa0, r == 0xad, r == 0x061c, r >= 0x200b && r <= 0x200f,
			r >= 0x2028 && r <= 0x202e, r >= 0x2060 && r <= 0x2069, r == 0xfeff, r >= 0xfff9 && r <= 0xfffb:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// shown is EscapeText cut to maxShown characters.
func shown(s string) string {
	s = EscapeText(s)
	if len(s) <= maxShown {
		return s
	}
	cut := maxShown
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// mdCode writes text as a Markdown code span, which GitHub and GitLab
// render literally: no HTML, links, mentions or emphasis. The fence is
// longer than any run of backticks inside; '|' is escaped as GFM tables
// require even inside a code span (inTable), and control characters are
// escaped first.
func mdCode(s string, inTable bool) string {
	s = shown(s)
	if s == "" {
		return ""
	}
	if inTable {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	longest, run := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if s[0] == '`' || s[len(s)-1] == '`' || s[0] == ' ' && s[len(s)-1] == ' ' {
		s = " " + s + " "
	}
	return fence + s + fence
}

// mdText escapes our own words for Markdown (no traffic text goes here
// unescaped: that goes through mdCode).
func mdText(s string) string {
	r := strings.NewReplacer(`\`, `\\`, "|", `\|`, "<", "&lt;", ">", "&gt;", "&", "&amp;", "*", `\*`, "_", `\_`, "`", "\\`", "[", `\[`, "]", `\]`)
	return r.Replace(shown(s))
}
