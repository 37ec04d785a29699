package query

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	stdhtml "html"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
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

// Bidirectional controls, C1 controls, zero-width and other format
// characters are escaped too: they reorder or hide what a terminal shows.
func TestEscapeUnicodeControls(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a\u0085b", `a\u0085b`},             // NEL (C1)
		{"\u009b31m", `\u009b31m`},           // CSI (C1)
		{"x\u202ey", `x\u202ey`},             // RIGHT-TO-LEFT OVERRIDE
		{"x\u2066y\u2069", `x\u2066y\u2069`}, // LEFT-TO-RIGHT ISOLATE ... POP
		{"\u200fz\u200e", `\u200fz\u200e`},   // RLM, LRM
		{"\u061c", `\u061c`},                 // ARABIC LETTER MARK
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"\ufeffbom", `\ufeffbom`},
		{"p\u2029q\u2028r", `p\u2029q\u2028r`},
		{"tag\U000e0041", `tag\U000e0041`},
		{"日本語 ünïcode", "日本語 ünïcode"}, // printable text is kept
	} {
		if got := Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := EscapeControls("a\\b\nc\x1bd\u202e"); got != "a\\b\nc\\x1bd\\u202e" {
		t.Errorf("EscapeControls keeps backslashes and newlines only: %q", got)
	}
}

// hostileDB holds one row of text that attacks each output format, with
// numbers (negative ones among them) beside it.
func hostileDB(t *testing.T, texts ...string) *DB {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Exec(ctx, "CREATE TABLE h (id INTEGER, v VARCHAR, neg INTEGER, f DOUBLE, d DECIMAL(9,2), big HUGEINT)"); err != nil {
		t.Fatal(err)
	}
	for i, s := range texts {
		if err := db.Exec(ctx, "INSERT INTO h VALUES (?, ?, -5, -1.5, -3.25, -170141183460469231731687303715884105727)", i, s); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

var markdownAttacks = []string{
	"<script>alert(1)</script>",
	`<img src=x onerror="alert(1)">`,
	"</td></tr><tr><td>forged",
	"**bold** _em_ `code` ~~gone~~ $x^2$",
	"[click](javascript:alert(1)) ![i](http://evil/x.png)",
	"a | b | c",
	"&lt;script&gt; &amp; &#60;",
	`back\slash \| \*`,
	"<http://evil.example/>",
	"_em_ src_ip __strong__ x_ _y a_b_c",
	"日本_語 ü_ß",
}

// Markdown cells carry HTML and Markdown syntax as text: rendered by
// cmark-gfm (GitHub's renderer) with raw HTML allowed, the table has no
// element but the table's own, one row per value, and each cell's text is
// the value (as Escape writes it).
func TestMarkdownEscapesHTMLAndSyntax(t *testing.T) {
	cmark := testenv.Tool(t, "cmark-gfm") // renders the Markdown independently
	db := hostileDB(t, markdownAttacks...)
	var b bytes.Buffer
	if err := db.Output(context.Background(), "SELECT id, v AS \"<b>v</b>\", neg FROM h ORDER BY id", "markdown", &b, ""); err != nil {
		t.Fatal(err)
	}
	// No raw < or > at all: a renderer that passes HTML through before
	// it reads backslash escapes still meets no tag. GitHub renders
	// $...$ as math (cmark-gfm does not): the dollar signs are escaped.
	if strings.ContainsAny(b.String(), "<>") {
		t.Errorf("Markdown source carries < or >:\n%s", b.String())
	}
	if !strings.Contains(b.String(), `\$x^2\$`) {
		t.Errorf("Markdown source should escape $ (GitHub math):\n%s", b.String())
	}
	cmd := exec.Command(cmark, "--unsafe", "-e", "table")
	cmd.Stdin = bytes.NewReader(b.Bytes())
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	html := string(out)
	for _, tag := range regexp.MustCompile(`<(/?[a-zA-Z][a-zA-Z0-9]*)`).FindAllStringSubmatch(html, -1) {
		switch strings.TrimPrefix(tag[1], "/") {
		case "table", "thead", "tbody", "tr", "th", "td":
		default:
			t.Errorf("rendered Markdown has a <%s> element from the data:\n%s\nfrom:\n%s", tag[1], html, b.String())
		}
	}
	rows := regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(html, -1)
	if len(rows) != len(markdownAttacks)+1 {
		t.Fatalf("%d table rows rendered, want %d:\n%s", len(rows), len(markdownAttacks)+1, html)
	}
	cell := regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`)
	if got := stdhtml.UnescapeString(cell.FindAllStringSubmatch(rows[0][1], -1)[1][1]); got != "<b>v</b>" {
		t.Errorf("header renders as %q, want the column name as text", got)
	}
	for i, want := range markdownAttacks {
		cells := cell.FindAllStringSubmatch(rows[i+1][1], -1)
		if len(cells) != 3 {
			t.Errorf("row %d: %d cells, want 3: %s", i, len(cells), rows[i+1][1])
			continue
		}
		if got := stdhtml.UnescapeString(cells[1][1]); got != Escape(want) {
			t.Errorf("row %d renders as %q, want %q", i, got, Escape(want))
		}
		if got := cells[2][1]; got != "-5" {
			t.Errorf("row %d: number renders as %q", i, got)
		}
	}
}

// CSV text cells that a spreadsheet would run as a formula get a leading
// ' (OWASP); numbers of numeric columns, negative ones included, are
// written as numbers; CSVFormulas turns the guard off.
func TestCSVFormulaGuard(t *testing.T) {
	texts := []string{"=HYPERLINK(\"http://evil\",\"x\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)", "\tTAB", "\r=x", "plain", "", "'quoted", "a=b"}
	want := []string{"'=HYPERLINK(\"http://evil\",\"x\")", "'+1+cmd|' /C calc'!A0", "'-2+3", "'@SUM(A1:A9)", `\tTAB`, `\r=x`, "plain", "", "'quoted", "a=b"}
	db := hostileDB(t, texts...)
	for _, raw := range []bool{false, true} {
		var b bytes.Buffer
		err := db.OutputTo(context.Background(), `SELECT v, neg, f, d, big, v AS "=cmd" FROM h ORDER BY id`, &b, OutputOptions{Format: "csv", CSVFormulas: raw})
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(&b).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(recs) != len(texts)+1 {
			t.Fatalf("%d records, want %d", len(recs), len(texts)+1)
		}
		hdr := "'=cmd"
		if raw {
			hdr = "=cmd"
		}
		if recs[0][5] != hdr {
			t.Errorf("raw=%v: header cell %q, want %q", raw, recs[0][5], hdr)
		}
		for i, r := range recs[1:] {
			w := want[i]
			if raw {
				w = Escape(texts[i])
			}
			if r[0] != w || r[5] != w {
				t.Errorf("raw=%v: text %q written %q / %q, want %q", raw, texts[i], r[0], r[5], w)
			}
			if r[1] != "-5" || r[2] != "-1.5" || r[3] != "-3.25" || r[4] != "-170141183460469231731687303715884105727" {
				t.Errorf("raw=%v: numbers written as %q, want them unchanged", raw, r[1:5])
			}
		}
	}
}

// failAfter fails every write after the first n bytes with ENOSPC, and
// counts the writes that reach it.
type failAfter struct {
	n, writes, failed int
}

func (w *failAfter) Write(p []byte) (int, error) {
	w.writes++
	if w.failed > 0 || len(p) > w.n {
		w.failed++
		return 0, &os.PathError{Op: "write", Path: "out", Err: syscall.ENOSPC}
	}
	w.n -= len(p)
	return len(p), nil
}

// A failed write stops the output with a *WriteError naming the cause, in
// every text format: nothing more is written after the failure, and the
// error is not lost behind a flush. (duckdb-go materialises a result
// before its first row, so stopping early saves the formatting, not the
// query.)
func TestOutputWriteError(t *testing.T) {
	db := memDB(t)
	for _, f := range []string{"csv", "json", "jsonl", "table", "markdown"} {
		w := &failAfter{n: 100 << 10}
		err := db.OutputTo(context.Background(), "SELECT range AS i, md5(range::VARCHAR) AS h FROM range(20000)", w, OutputOptions{Format: f})
		var we *WriteError
		if !errors.As(err, &we) || !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s: error %v, want a WriteError for ENOSPC", f, err)
		}
		if w.failed != 1 {
			t.Errorf("%s: %d writes after the failure reached the writer, want none", f, w.failed-1)
		}
	}
	// A failure at the final flush, with nothing written before it.
	for _, f := range []string{"csv", "json", "jsonl", "table", "markdown"} {
		w := &failAfter{n: 0}
		if err := db.OutputTo(context.Background(), "SELECT 1 AS x", w, OutputOptions{Format: f}); !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("%s: a failed final flush returned %v", f, err)
		}
	}
}
