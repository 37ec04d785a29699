package schema

import (
	"fmt"
	"io"
)

// WriteMarkdown writes the reference of tables as Markdown.
func WriteMarkdown(w io.Writer, tables []*Table) error {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	p("# pcapq schema\n\nGenerated from package schema and the analyzers' tables (`make schema-doc`); do not edit by hand.\n")
	for _, t := range tables {
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

// WriteText writes the reference of tables as plain text for a terminal.
func WriteText(w io.Writer, tables []*Table) error {
	for _, t := range tables {
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
