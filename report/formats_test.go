package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/pcapq/pcapq/query"
)

// grid is a table as a renderer printed it: header and cell texts.
type grid struct {
	id   string
	head []string
	rows [][]string
}

// expected lists the grids of r in the order both renderers print them:
// per section its key figures (label, value), each chart's data, then its
// tables. Values are Text(v).
func expected(r *Report) []grid {
	var out []grid
	add := func(t *Table) {
		g := grid{id: t.ID}
		for _, c := range t.Columns {
			g.head = append(g.head, c.Name)
		}
		for _, row := range t.Rows {
			var cells []string
			for _, v := range row {
				cells = append(cells, Text(v))
			}
			g.rows = append(g.rows, cells)
		}
		out = append(out, g)
	}
	for _, s := range r.Sections {
		if len(s.Stats) > 0 {
			g := grid{id: "stats-" + s.ID, head: []string{"figure", "value"}}
			for _, st := range s.Stats {
				g.rows = append(g.rows, []string{st.Label, Text(st.Value)})
			}
			out = append(out, g)
		}
		for _, c := range s.Charts {
			add(c.Data)
		}
		for _, t := range s.Tables {
			add(t)
		}
	}
	return out
}

func nodeText(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return b.String()
}

func attr(n *html.Node, k string) string {
	for _, a := range n.Attr {
		if a.Key == k {
			return a.Val
		}
	}
	return ""
}

func hasClass(n *html.Node, c string) bool {
	for _, f := range strings.Fields(attr(n, "class")) {
		if f == c {
			return true
		}
	}
	return false
}

// htmlGrids reads the stats and tables of an HTML report, in page order.
func htmlGrids(t *testing.T, page []byte) []grid {
	doc, err := html.Parse(bytes.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var out []grid
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch {
			case n.Data == "div" && hasClass(n, "stats"):
				sec := n.Parent
				g := grid{id: "stats-" + attr(sec, "id"), head: []string{"figure", "value"}}
				for c := n.FirstChild; c != nil; c = c.NextSibling {
					if c.Type != html.ElementNode {
						continue
					}
					var v, l string
					for d := c.FirstChild; d != nil; d = d.NextSibling {
						if hasClass(d, "v") {
							v = nodeText(d)
						}
						if hasClass(d, "l") {
							l = nodeText(d)
						}
					}
					g.rows = append(g.rows, []string{l, v})
				}
				out = append(out, g)
				return
			case n.Data == "table":
				g := grid{id: attr(n, "data-table")}
				var rows func(*html.Node)
				rows = func(n *html.Node) {
					if n.Type == html.ElementNode && n.Data == "tr" {
						var cells []string
						header := false
						for c := n.FirstChild; c != nil; c = c.NextSibling {
							if c.Type == html.ElementNode && (c.Data == "td" || c.Data == "th") {
								cells = append(cells, nodeText(c))
								header = c.Data == "th"
							}
						}
						if header {
							g.head = cells
						} else if !(len(cells) == 1 && hasClass(n.FirstChild, "none")) {
							g.rows = append(g.rows, cells)
						}
						return
					}
					for c := n.FirstChild; c != nil; c = c.NextSibling {
						rows(c)
					}
				}
				rows(n)
				out = append(out, g)
				return
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return out
}

// mdUnescape undoes MDText's backslashes (the text stays query.Escape'd).
func mdUnescape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && strings.IndexByte(mdSpecial, s[i+1]) >= 0 {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// mdCells splits a Markdown table row at the '|' that are not escaped.
func mdCells(line string) []string {
	var cells []string
	var cur strings.Builder
	for i := 1; i < len(line); i++ {
		switch {
		case line[i] == '\\' && i+1 < len(line):
			cur.WriteByte(line[i])
			cur.WriteByte(line[i+1])
			i++
		case line[i] == '|':
			cells = append(cells, mdUnescape(strings.TrimSpace(cur.String())))
			cur.Reset()
		default:
			cur.WriteByte(line[i])
		}
	}
	return cells
}

// mdGrids reads the tables of a Markdown report in order; the stats
// tables keep their first two columns.
func mdGrids(md []byte) []grid {
	var out []grid
	var cur *grid
	for _, line := range strings.Split(string(md), "\n") {
		if !strings.HasPrefix(line, "|") {
			if cur != nil {
				out = append(out, *cur)
				cur = nil
			}
			continue
		}
		cells := mdCells(line)
		switch {
		case cur == nil:
			cur = &grid{head: cells}
		case strings.HasPrefix(line, "|---"):
		case strings.HasPrefix(line, "| *none* |"):
		default:
			cur.rows = append(cur.rows, cells)
		}
	}
	for i := range out {
		if len(out[i].head) == 3 && out[i].head[0] == "figure" {
			out[i].head = out[i].head[:2]
			for j := range out[i].rows {
				out[i].rows[j] = out[i].rows[j][:2]
			}
		}
	}
	return out
}

func compareGrids(t *testing.T, format string, got, want []grid, esc func(string) string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d tables, want %d", format, len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.id != "" && g.id != w.id {
			t.Errorf("%s table %d: id %q, want %q", format, i, g.id, w.id)
		}
		if fmt.Sprint(g.head) != fmt.Sprint(mapEsc(w.head, esc)) {
			t.Errorf("%s %s: header %q, want %q", format, w.id, g.head, w.head)
		}
		if len(g.rows) != len(w.rows) {
			t.Errorf("%s %s: %d rows, want %d", format, w.id, len(g.rows), len(w.rows))
			continue
		}
		for r := range w.rows {
			if fmt.Sprint(g.rows[r]) != fmt.Sprint(mapEsc(w.rows[r], esc)) {
				t.Errorf("%s %s row %d:\n got %q\nwant %q", format, w.id, r, g.rows[r], mapEsc(w.rows[r], esc))
			}
		}
	}
}

func mapEsc(ss []string, esc func(string) string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = esc(s)
	}
	return out
}

// jsonText is Text of a value decoded from the JSON report.
func jsonText(v any) string {
	switch x := v.(type) {
	case json.Number:
		if i, err := strconv.ParseInt(x.String(), 10, 64); err == nil {
			return Text(i)
		}
		f, _ := strconv.ParseFloat(x.String(), 64)
		return Text(f)
	case nil, string, bool:
		return Text(x)
	}
	return fmt.Sprint(v)
}

// jsonGrids reads the JSON report back into grids, in the same order.
func jsonGrids(t *testing.T, data []byte) []grid {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var r struct {
		Sections []struct {
			ID    string
			Stats []struct {
				Label string
				Value any
			}
			Charts []struct{ Data jsonTable }
			Tables []jsonTable
		}
	}
	if err := dec.Decode(&r); err != nil {
		t.Fatal(err)
	}
	var out []grid
	for _, s := range r.Sections {
		if len(s.Stats) > 0 {
			g := grid{id: "stats-" + s.ID, head: []string{"figure", "value"}}
			for _, st := range s.Stats {
				g.rows = append(g.rows, []string{st.Label, jsonText(st.Value)})
			}
			out = append(out, g)
		}
		for _, c := range s.Charts {
			out = append(out, c.Data.grid())
		}
		for _, tb := range s.Tables {
			out = append(out, tb.grid())
		}
	}
	return out
}

type jsonTable struct {
	ID      string
	Columns []struct{ Name string }
	Rows    [][]any
}

func (j jsonTable) grid() grid {
	g := grid{id: j.ID}
	for _, c := range j.Columns {
		g.head = append(g.head, c.Name)
	}
	for _, row := range j.Rows {
		var cells []string
		for _, v := range row {
			cells = append(cells, jsonText(v))
		}
		g.rows = append(g.rows, cells)
	}
	return g
}

// The HTML, Markdown and JSON reports print the same tables and figures
// with the same numbers and text (Markdown's text escaped by MDText).
func TestFormatsAgree(t *testing.T) {
	db := openDB(t, "", smallMix, hostileCapture(t), truncatedCapture(t))
	r, err := Build(context.Background(), db, Options{Tool: "pcapq test", Database: "db"})
	if err != nil {
		t.Fatal(err)
	}
	var h, m, j bytes.Buffer
	if err := WriteHTML(&h, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteMarkdown(&m, r); err != nil {
		t.Fatal(err)
	}
	if err := WriteJSON(&j, r); err != nil {
		t.Fatal(err)
	}
	want := expected(r)
	if len(want) < 20 {
		t.Fatalf("only %d tables in the report", len(want))
	}
	same := func(s string) string { return s }
	compareGrids(t, "HTML", htmlGrids(t, h.Bytes()), want, same)
	compareGrids(t, "Markdown", mdGrids(m.Bytes()), want, query.Escape)
	compareGrids(t, "JSON", jsonGrids(t, j.Bytes()), want, same)
}

// truncatedCapture is the hostile capture cut in its last record: the
// ingest keeps what comes before and writes a warning.
func truncatedCapture(t testing.TB) string {
	t.Helper()
	src := hostileCapture(t)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	path := src + ".cut.pcap"
	if err := os.WriteFile(path, data[:len(data)-10], 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Markdown shows pcapq's own docs as written (a doc's \xNN is one
// backslash once rendered) while captured text keeps query.Escape's
// doubled backslash, so that it cannot pass for an escape of ours.
func TestMarkdownDocsAsWritten(t *testing.T) {
	r := &Report{Title: "t", Sections: []*Section{{
		ID: "s", Title: "dns", Doc: `A byte outside UTF-8 is stored as \xNN.`,
		Tables: []*Table{{ID: "t", Title: "names", Doc: `Names as \xNN text.`, Total: -1,
			Columns: []Column{{Name: "name"}}, Rows: [][]any{{`a\x41`}}}},
	}}}
	var m bytes.Buffer
	if err := WriteMarkdown(&m, r); err != nil {
		t.Fatal(err)
	}
	out := m.String()
	for _, want := range []string{`stored as \\xNN.`, `Names as \\xNN text.`, `| a\\\\x41 |`} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, `\\\\xNN`) {
		t.Errorf("a doc's backslash doubled:\n%s", out)
	}
}
