package schema

import (
	"fmt"
	"io"
)

// WriteMarkdown writes the reference of every table as Markdown.
func WriteMarkdown(w io.Writer) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# pcapq schema\n\nGenerated from `schema/tables.go` (`make schema-doc`); do not edit by hand.\n")
	for _, t := range All {
		p("\n## %s\n\n%s\n\n", t.Name, t.Doc)
		if t.View != "" && len(t.Columns) == 0 {
			p("View: `%s`\n", t.View)
			continue
		}
		p("| column | type | meaning |\n|---|---|---|\n")
		for _, c := range t.Columns {
			p("| %s | %s | %s |\n", c.Name, SQLType(c.Type), c.Doc)
		}
	}
	return nil
}

// WriteText writes the reference as plain text for a terminal.
func WriteText(w io.Writer) error {
	for _, t := range All {
		fmt.Fprintf(w, "%s\n  %s\n", t.Name, t.Doc)
		if t.View != "" && len(t.Columns) == 0 {
			fmt.Fprintf(w, "  view: %s\n\n", t.View)
			continue
		}
		for _, c := range t.Columns {
			fmt.Fprintf(w, "  %-18s %-26s %s\n", c.Name, SQLType(c.Type), c.Doc)
		}
		fmt.Fprintln(w)
	}
	return nil
}
