package query

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
)

// Captured traffic is attacker-controlled: text reports must not let it
// move a terminal's cursor, forge lines, or break a table.
func TestEscape(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"GET /index.html", "GET /index.html"},
		{"a\x1b[2J\x1b[Hb", `a\x1b[2J\x1b[Hb`},
		{"line1\r\nline2", `line1\r\nline2`},
		{"tab\there", `tab\there`},
		{"back\\slash", `back\\slash`},
		{"bad \xff\xfe utf8", `bad \xff\xfe utf8`},
		{"bidi \u202e txt", `bidi \u202e txt`},
		{"héllo wörld", "héllo wörld"},
		{"del\x7f", `del\x7f`},
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOutputFormatsEscape(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	hostile := "evil\x1b]0;pwned\x07\n| forged | row |"
	if err := db.Exec(ctx, "CREATE TABLE t AS SELECT ?::VARCHAR AS uri, 42 AS n, MAP(['Host'], [['a\nb']]) AS h", hostile); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"table", "markdown", "csv"} {
		var b bytes.Buffer
		if err := db.Output(ctx, "SELECT * FROM t", f, &b, ""); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if strings.ContainsAny(out, "\x1b\x07") {
			t.Errorf("%s output carries raw control characters: %q", f, out)
		}
		lines := strings.Count(out, "\n")
		want := map[string]int{"table": 4, "markdown": 3, "csv": 2}[f]
		if lines != want {
			t.Errorf("%s output has %d lines, want %d (a captured newline forged a row): %q", f, lines, want, out)
		}
	}
	var b bytes.Buffer
	if err := db.Output(ctx, "SELECT * FROM t", "jsonl", &b, ""); err != nil {
		t.Fatal(err)
	}
	var row map[string]any
	if err := json.Unmarshal(b.Bytes(), &row); err != nil {
		t.Fatalf("jsonl not valid JSON: %v: %q", err, b.String())
	}
	if row["uri"] != hostile || row["n"] != float64(42) {
		t.Errorf("json must carry the exact value (escaped by JSON): %v", row)
	}
	if h, ok := row["h"].(map[string]any); !ok || h["Host"].([]any)[0] != "a\nb" {
		t.Errorf("MAP column as JSON object: %v", row["h"])
	}
}

// Table and Markdown output need every row for column widths: they keep at
// most maxTableRows and say how many there were.
func TestTableOutputBounded(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := maxTableRows + 5
	for _, f := range []string{"table", "markdown"} {
		var b bytes.Buffer
		if err := db.Output(ctx, "SELECT range AS i FROM range("+strconv.Itoa(n)+")", f, &b, ""); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		if rows := strings.Count(out, "\n| "); rows != maxTableRows {
			t.Errorf("%s: %d rows printed, want %d", f, rows, maxTableRows)
		}
		if !strings.Contains(out, strconv.Itoa(n)+" rows") || !strings.Contains(out, "csv") {
			t.Errorf("%s: footer should give the full count and how to get every row: %q", f, out[len(out)-120:])
		}
	}
}
