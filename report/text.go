package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/pcapq/pcapq/query"
)

// WriteJSON writes r as indented JSON: numbers exact as in the model,
// text escaped by JSON's rules (and <, >, & as \u003c... so that the JSON
// can sit in a script element).
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes r as GitHub-flavoured Markdown: sections, key
// figures and tables; each chart as the table of its numbers. Text from
// the capture is escaped (MDText), so it cannot make links, images, HTML
// or table cells of its own.
func WriteMarkdown(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# %s\n\nSource: %s", MDText(r.Title), MDText(r.Database))
	if len(r.Captures) > 0 {
		fmt.Fprintf(bw, " · captures %s", MDText(strings.Trim(strings.Join(strings.Fields(fmt.Sprint(r.Captures)), ", "), "[]")))
	}
	fmt.Fprintf(bw, " · ranked tables keep the top %d rows · made by %s\n", r.Top, MDText(r.Tool))
	for _, s := range r.Sections {
		fmt.Fprintf(bw, "\n## %s\n\n%s\n", MDText(s.Title), mdDoc(s.Doc))
		if s.Note != "" {
			fmt.Fprintf(bw, "\n**%s**\n", MDText(s.Note))
		}
		if len(s.Stats) > 0 {
			t := &Table{Columns: []Column{{Name: "figure"}, {Name: "value", Numeric: true}, {Name: "meaning"}}, Total: -1}
			for _, st := range s.Stats {
				t.Rows = append(t.Rows, []any{st.Label, st.Value, st.Doc})
			}
			bw.WriteString("\n")
			mdTable(bw, t)
		}
		for _, c := range s.Charts {
			fmt.Fprintf(bw, "\n### %s\n\n%s\n", MDText(c.Title), mdDoc(c.Doc))
			if c.Data != nil {
				fmt.Fprintf(bw, "\n%s:\n\n", MDText(c.Data.Title))
				mdTable(bw, c.Data)
			}
		}
		for _, t := range s.Tables {
			fmt.Fprintf(bw, "\n### %s\n\n%s\n\n", MDText(t.Title), mdDoc(t.Doc))
			mdTable(bw, t)
		}
	}
	return bw.Flush()
}

func mdTable(w *bufio.Writer, t *Table) {
	w.WriteString("|")
	for _, c := range t.Columns {
		w.WriteString(" " + MDText(c.Name) + " |")
	}
	w.WriteString("\n|")
	for _, c := range t.Columns {
		if c.Numeric {
			w.WriteString("---:|")
		} else {
			w.WriteString("---|")
		}
	}
	w.WriteString("\n")
	for _, r := range t.Rows {
		w.WriteString("|")
		for _, v := range r {
			w.WriteString(" " + MDText(Text(v)) + " |")
		}
		w.WriteString("\n")
	}
	if len(t.Rows) == 0 {
		// Emphasis marks it as no data: captured text cannot make it, as
		// MDText escapes '*'.
		w.WriteString("| *none* |" + strings.Repeat("  |", len(t.Columns)-1) + "\n")
	}
	if t.More {
		if t.Total >= 0 {
			fmt.Fprintf(w, "\n%d of %d rows shown.\n", len(t.Rows), t.Total)
		} else {
			fmt.Fprintf(w, "\nOnly the first %d rows are shown.\n", len(t.Rows))
		}
	}
}

// mdSpecial are the characters MDText escapes with a backslash: those
// that make emphasis, code, links, images, HTML, entities, table cells
// or strike-through in CommonMark and GitHub's Markdown.
const mdSpecial = "\\`*_[]<>|&~!#"

// MDText makes captured text safe in a Markdown table cell or paragraph:
// control characters and invalid UTF-8 are escaped as query.Escape does
// (so no line break can end a row), then every Markdown special character
// is backslash-escaped, so the text shows literally.
func MDText(s string) string { return mdEscape(query.Escape(s)) }

// mdDoc is MDText for pcapq's own explanations (section, chart and table
// docs): written by us, their backslashes are text to show (a doc that
// says a byte is stored as \xNN must show one backslash, not the two
// query.Escape would make of it); controls are still escaped.
func mdDoc(s string) string { return mdEscape(query.EscapeControls(strings.ReplaceAll(s, "\n", " "))) }

// mdEscape backslash-escapes every Markdown special character of s.
func mdEscape(s string) string {
	if !strings.ContainsAny(s, mdSpecial) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r < 0x80 && strings.ContainsRune(mdSpecial, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
