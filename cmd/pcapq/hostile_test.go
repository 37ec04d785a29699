package main

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
)

// rawControls finds what a terminal would act on: C0 controls other than
// newline, DEL, C1 controls, and format characters (bidirectional
// overrides and isolates, zero-width characters).
func rawControls(s string) []rune {
	var bad []rune
	for _, r := range s {
		if r != '\n' && unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) {
			bad = append(bad, r)
		}
	}
	return bad
}

// hostileHTTP is a capture of one HTTP exchange whose URI, Host and
// User-Agent attack terminals (escape sequences, a bidi override, C1),
// Markdown renderers (HTML) and spreadsheets (formulas).
func hostileHTTP(t *testing.T) string {
	return tcpExchange(t,
		[]byte("GET /a\x1b[2J\x1b]0;pwned\x07?q=<script>alert(1)</script> HTTP/1.1\r\n"+
			"Host: =HYPERLINK(\"http://evil/\",\"click\")\r\n"+
			"User-Agent: <img src=x onerror=alert(1)> \u202egnp.exe \u0085\u009b31m\r\n\r\n"),
		[]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi"),
	)
}

// Text from the wire reaches no output raw: the table (what a terminal
// shows) has no control or bidi character, Markdown no HTML tag, CSV no
// cell a spreadsheet would run as a formula; JSON carries the exact bytes.
func TestHostileTrafficText(t *testing.T) {
	file := hostileHTTP(t)
	const q = "SELECT uri, host, user_agent, status_code FROM http"
	code, table, stderr := pcapqRun(t, "query", "-f", "table", file, q)
	if code != 0 {
		t.Fatalf("table: exit %d: %s", code, stderr)
	}
	if bad := rawControls(table); len(bad) > 0 {
		t.Errorf("table output carries raw %q:\n%s", bad, table)
	}
	if !strings.Contains(table, `\x1b[2J`) || !strings.Contains(table, `\u202e`) || !strings.Contains(table, `\u0085`) {
		t.Errorf("table output should show the escapes: %s", table)
	}
	if n := strings.Count(table, "\n"); n != 4 {
		t.Errorf("table: %d lines, want 4 (header, rule, one row, count)", n)
	}

	_, md, _ := pcapqRun(t, "query", "-f", "markdown", file, q)
	if strings.ContainsAny(md, "<>") || len(rawControls(md)) > 0 {
		t.Errorf("Markdown output carries HTML or controls:\n%s", md)
	}
	if !strings.Contains(md, "&lt;script&gt;") || !strings.Contains(md, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Errorf("Markdown should show the tags as text: %s", md)
	}

	_, out, _ := pcapqRun(t, "query", "-f", "csv", file, q)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	if err != nil || len(recs) != 2 {
		t.Fatalf("csv: %v, %d records: %q", err, len(recs), out)
	}
	if host := recs[1][1]; host != `'=HYPERLINK("http://evil/","click")` {
		t.Errorf("csv host cell %q, want it behind a '", host)
	}
	if recs[1][3] != "200" {
		t.Errorf("csv status %q", recs[1][3])
	}
	if len(rawControls(out)) > 0 {
		t.Errorf("csv carries raw controls: %q", out)
	}
	_, out, _ = pcapqRun(t, "query", "-f", "csv", "--csv-formulas", file, q)
	if !strings.Contains(out, ",\"=HYPERLINK(") {
		t.Errorf("--csv-formulas should leave the cell as it is: %q", out)
	}

	_, js, _ := pcapqRun(t, "query", "-f", "jsonl", file, q)
	if !strings.Contains(js, `\u001b[2J`) || !strings.Contains(js, "\u202e") {
		t.Errorf("jsonl should carry the exact text (JSON-escaped): %s", js)
	}
}

// File names and captured text in error messages cannot drive the
// terminal or forge lines: every line of stderr is a "pcapq: " message or
// its indented continuation, and no control character is printed raw.
func TestHostileErrorMessages(t *testing.T) {
	dir := t.TempDir()
	name := filepath.Join(dir, "evil\x1b[31m\npcapq: all good\r\u202e.pcap")
	if err := os.WriteFile(name, []byte("<html>not a capture</html>"), 0o644); err != nil {
		t.Fatal(err)
	}
	checkLines := func(what, stderr string) {
		t.Helper()
		if bad := rawControls(stderr); len(bad) > 0 {
			t.Errorf("%s: stderr carries raw %q: %q", what, bad, stderr)
		}
		for _, l := range strings.Split(strings.TrimRight(stderr, "\n"), "\n") {
			if !strings.HasPrefix(l, "pcapq: ") && !strings.HasPrefix(l, "  ") && l != "" {
				t.Errorf("%s: stderr line %q is not a message of pcapq's", what, l)
			}
			if strings.HasPrefix(l, "pcapq: all good") {
				t.Errorf("%s: a file name forged a line: %q", what, stderr)
			}
		}
	}
	code, _, stderr := pcapqRun(t, "ingest", name, "-o", filepath.Join(dir, "x.duckdb"))
	if code != 2 || !strings.Contains(stderr, `evil\x1b[31m\npcapq: all good\r\u202e.pcap`) {
		t.Errorf("ingest: exit %d, message should name the file escaped: %q", code, stderr)
	}
	checkLines("ingest", stderr)
	_, _, stderr = pcapqRun(t, "query", name, "SELECT 1")
	checkLines("query", stderr)
	_, _, stderr = pcapqRun(t, "query", "-d", name, "SELECT 1")
	checkLines("query -d", stderr)
	_, _, stderr = pcapqRun(t, "query", "-f", "csv", "-o", filepath.Join(dir, "no\x1b]0;x\x07dir", "out.csv"), "../../testdata/http-gzip.pcap", "SELECT 1")
	checkLines("query -o", stderr)
	// DuckDB's errors quote data: a conversion error on the hostile URI.
	_, _, stderr = pcapqRun(t, "query", hostileHTTP(t), "SELECT uri::INTEGER FROM http")
	if !strings.Contains(stderr, "Conversion Error") {
		t.Fatalf("want DuckDB's conversion error: %q", stderr)
	}
	checkLines("conversion error", stderr)
	// DuckDB's own multi-line messages keep their lines, indented.
	var errb bytes.Buffer
	printError(&errb, errorf("Parser Error: syntax error at or near \"SELEC\"\n\nLINE 1: SELEC 1\n        ^"), nil)
	if got := errb.String(); got != "pcapq: Parser Error: syntax error at or near \"SELEC\"\n\n  LINE 1: SELEC 1\n          ^\n" {
		t.Errorf("multi-line message printed as %q", got)
	}
}

type errorf string

func (e errorf) Error() string { return string(e) }
