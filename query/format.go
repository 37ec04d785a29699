package query

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Formats lists the output formats of Output.
var Formats = []string{"table", "csv", "json", "jsonl", "markdown", "parquet"}

// OutputOptions say how Output writes a result.
type OutputOptions struct {
	// Format is one of Formats ("" is table).
	Format string
	// File is the file DuckDB writes a parquet result to.
	File string
	// CSVFormulas leaves CSV text cells that start with = + - @ (or a
	// tab, carriage return or line feed) as they are. By default such a
	// cell gets a leading ' so that a spreadsheet shows it as text instead
	// of running it as a formula (OWASP's advice on CSV injection). Cells
	// of numeric columns are never changed: -5 stays a number.
	CSVFormulas bool
}

// Output runs q and writes its result to w in format; see OutputTo.
func (db *DB) Output(ctx context.Context, q, format string, w io.Writer, file string) error {
	return db.OutputTo(ctx, q, w, OutputOptions{Format: format, File: file})
}

// OutputTo runs q and writes its result to w as o says. Parquet is
// written by DuckDB itself to o.File (w is not used).
//
// Captured text is escaped for where it goes: the text formats (table,
// markdown, csv) pass every value through Escape, so captured bytes cannot
// drive a terminal or forge rows; Markdown cells also escape HTML and
// Markdown syntax (markdownCell); CSV text cells that a spreadsheet would
// run as a formula get a leading ' (see OutputOptions.CSVFormulas); json
// and jsonl carry exact values, escaped by JSON's own rules, and parquet
// raw values.
//
// Every write is checked: an error writing w (a full disk, a closed pipe)
// stops the output at the next row and is returned wrapped in a
// *WriteError; nothing more is written to w after it.
func (db *DB) OutputTo(ctx context.Context, q string, w io.Writer, o OutputOptions) error {
	format := o.Format
	if format == "" {
		format = "table"
	}
	if format == "parquet" {
		if o.File == "" || o.File == "-" {
			return fmt.Errorf("--format parquet needs an output file (-o FILE)")
		}
		q = strings.TrimRight(strings.TrimSpace(q), ";")
		return db.Exec(ctx, fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", q, strings.ReplaceAll(o.File, "'", "''")))
	}
	if !slices.Contains(Formats, format) {
		return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
	}
	rows, err := db.Query(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	bw := bufio.NewWriterSize(ew, 64<<10)
	next := func() ([]any, error) {
		if ew.err != nil {
			return nil, ew.err
		}
		if !rows.Next() {
			return nil, rows.Err()
		}
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		return vals, nil
	}
	switch format {
	case "table":
		err = writeTable(bw, cols, next, false)
	case "markdown":
		err = writeTable(bw, cols, next, true)
	case "csv":
		err = writeCSV(bw, cols, next, !o.CSVFormulas)
	case "json", "jsonl":
		err = writeJSON(bw, cols, next, format == "jsonl")
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if ew.err != nil {
		// The first failed write is the cause, whatever was returned after it.
		return &WriteError{Err: ew.err}
	}
	return err
}

// WriteError is a failed write of a result (a full disk, a closed pipe).
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return "writing the result: " + e.Err.Error() }
func (e *WriteError) Unwrap() error { return e.Err }

// errWriter keeps the first error of the writer under the buffers, so
// that a failed write stops the output at the next row.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	e.err = err
	return n, err
}

func writeCSV(w *bufio.Writer, cols []string, next func() ([]any, error), guard bool) error {
	cw := csv.NewWriter(w)
	hdr := make([]string, len(cols))
	for i, c := range cols {
		hdr[i] = csvCell(Escape(c), guard)
	}
	if err := cw.Write(hdr); err != nil {
		return err
	}
	for {
		vals, err := next()
		if err != nil || vals == nil {
			cw.Flush()
			if err == nil {
				err = cw.Error()
			}
			return err
		}
		rec := make([]string, len(vals))
		for i, v := range vals {
			if v != nil {
				rec[i] = Escape(Text(v))
				if !isNumber(v) {
					rec[i] = csvCell(rec[i], guard)
				}
			}
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
}

// csvCell neutralises a text cell that a spreadsheet would run as a
// formula (OWASP, "CSV Injection"): one starting with = + - @ or a tab,
// carriage return or line feed gets a leading '.
func csvCell(s string, guard bool) string {
	if guard && s != "" && strings.IndexByte("=+-@\t\r\n", s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// isNumber tells a value of a numeric column (its text is a number, which
// a spreadsheet must read as one, negative or not).
func isNumber(v any) bool {
	switch v.(type) {
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, *big.Int, duckdb.Decimal:
		return true
	}
	return false
}

func writeJSON(w *bufio.Writer, cols []string, next func() ([]any, error), lines bool) error {
	if !lines {
		w.WriteString("[")
	}
	keys := make([][]byte, len(cols))
	for i, c := range cols {
		keys[i], _ = json.Marshal(c)
	}
	first := true
	var line bytes.Buffer
	for {
		vals, err := next()
		if err != nil {
			return err
		}
		if vals == nil {
			break
		}
		line.Reset()
		if !lines {
			if !first {
				line.WriteString(",")
			}
			line.WriteString("\n  ")
		}
		line.WriteString("{")
		for i := range cols {
			if i > 0 {
				line.WriteString(",")
			}
			line.Write(keys[i])
			line.WriteString(":")
			v, err := json.Marshal(jsonValue(vals[i]))
			if err != nil {
				return err
			}
			line.Write(v)
		}
		line.WriteString("}")
		if lines {
			line.WriteString("\n")
		}
		if _, err := w.Write(line.Bytes()); err != nil {
			return err
		}
		first = false
	}
	if !lines {
		if !first {
			w.WriteString("\n")
		}
		w.WriteString("]\n")
	}
	return nil
}

// maxCell bounds a table cell so one long value cannot flood a terminal.
const maxCell = 64

// maxTableRows bounds the rows table and Markdown output keep (they need
// every row for column widths); the rest are counted, and the footer says
// how to get them all (csv, jsonl, parquet stream every row).
const maxTableRows = 10000

func writeTable(w *bufio.Writer, cols []string, next func() ([]any, error), markdown bool) error {
	var cells [][]string
	total := 0
	var numeric = make([]bool, len(cols))
	width := make([]int, len(cols))
	hdr := make([]string, len(cols))
	for i, c := range cols {
		hdr[i] = Escape(c)
		if markdown {
			hdr[i] = markdownCell(hdr[i])
		}
		width[i] = utf8.RuneCountInString(hdr[i])
	}
	for {
		vals, err := next()
		if err != nil {
			return err
		}
		if vals == nil {
			break
		}
		total++
		if len(cells) == maxTableRows {
			continue
		}
		row := make([]string, len(vals))
		for i, v := range vals {
			s := "NULL"
			if v != nil {
				s = Escape(Text(v))
				switch v.(type) {
				case int8, int16, int32, int64, uint8, uint16, uint32, uint64, float32, float64, *big.Int:
					numeric[i] = true
				}
			}
			if markdown {
				s = markdownCell(s)
			}
			if !markdown && utf8.RuneCountInString(s) > maxCell {
				s = string([]rune(s)[:maxCell-1]) + "…"
			}
			if n := utf8.RuneCountInString(s); n > width[i] {
				width[i] = n
			}
			row[i] = s
		}
		cells = append(cells, row)
	}
	pad := func(s string, n int, right bool) string {
		p := strings.Repeat(" ", n-utf8.RuneCountInString(s))
		if right {
			return p + s
		}
		return s + p
	}
	line := func(vals []string, isHeader bool) {
		w.WriteString("| ")
		for i, v := range vals {
			if i > 0 {
				w.WriteString(" | ")
			}
			w.WriteString(pad(v, width[i], numeric[i] && !isHeader))
		}
		w.WriteString(" |\n")
	}
	sep := func() {
		w.WriteString("|")
		for i := range cols {
			if markdown && numeric[i] {
				w.WriteString(strings.Repeat("-", width[i]+1) + ":|")
			} else {
				w.WriteString(strings.Repeat("-", width[i]+2) + "|")
			}
		}
		w.WriteString("\n")
	}
	line(hdr, true)
	sep()
	for _, r := range cells {
		line(r, false)
	}
	switch {
	case total > len(cells):
		fmt.Fprintf(w, "(%d rows, the first %d shown; -f csv, jsonl or parquet give every row)\n", total, len(cells))
	case !markdown:
		fmt.Fprintf(w, "(%d rows)\n", total)
	}
	return nil
}

// Escape makes captured text safe to print: control characters (C0, DEL,
// C1), Unicode format characters (bidirectional overrides and isolates,
// zero-width characters, the byte order mark), line and paragraph
// separators, invalid UTF-8 and backslashes are written as Go-style
// escapes (\x1b, \u202e, \\), so traffic cannot move a terminal's cursor,
// forge lines of a report, or reorder what is shown.
func Escape(s string) string {
	safe := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f || c == '\\' || c >= 0x80 {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return escape(s, true)
}

// EscapeControls escapes what Escape does except backslashes and
// newlines: for messages that may quote captured text but have lines of
// their own (the caller still has to keep a quoted newline from passing
// for a line, see pcapq's errorText).
func EscapeControls(s string) string {
	return escape(s, false)
}

func escape(s string, all bool) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !all && (r == '\\' || r == '\n'):
			b.WriteRune(r)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case unsafeRune(r):
			q := strconv.QuoteRuneToASCII(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

// unsafeRune tells a character that must not reach a terminal or a report
// as it is: controls (Cc: C0, DEL, C1), format characters (Cf: the
// bidirectional controls U+061C, U+200E/F, U+202A-E, U+2066-9, zero-width
// characters, U+FEFF, tag characters) and the line and paragraph
// separators (Zl, Zp).
func unsafeRune(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp)
}

// markdownCell makes an Escape'd value safe as a cell of a Markdown
// (GitHub-flavoured) table: HTML's <, > and & become entities, so no tag
// (<script>, <img onerror=...>) or entity reaches a renderer, and the
// characters of Markdown's inline syntax (emphasis, code, links and
// images, strikethrough, math) and the cell separator | get a backslash.
// An underscore between two letters or digits (src_ip) cannot start or end
// emphasis in CommonMark and is left as it is, for a readable source.
func markdownCell(s string) string {
	if !strings.ContainsAny(s, markdownActive) {
		return s
	}
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '_':
			if i == 0 || i == len(rs)-1 || !isAlnum(rs[i-1]) || !isAlnum(rs[i+1]) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		default:
			if strings.ContainsRune(markdownActive, r) {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isAlnum(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// markdownActive are the characters markdownCell escapes.
const markdownActive = "<>&\\`*_[]|~!$"

// Text renders a value the way DuckDB's CLI does, without escaping.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case string:
		return x
	case []byte:
		var b strings.Builder
		for _, c := range x {
			if c >= 0x20 && c < 0x7f && c != '\\' {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, `\x%02X`, c)
			}
		}
		return b.String()
	case time.Time:
		return x.UTC().Format("2006-01-02 15:04:05.999999999")
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Text(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case duckdb.OrderedMap:
		ks, vs := x.Keys(), x.Values()
		parts := make([]string, len(ks))
		for i := range ks {
			parts[i] = Text(ks[i]) + "=" + Text(vs[i])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case duckdb.Map:
		keys := make([]string, 0, len(x))
		byKey := map[string]any{}
		for k, v := range x {
			ks := Text(k)
			keys = append(keys, ks)
			byKey[ks] = v
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + "=" + Text(byKey[k])
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

func jsonValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return Text(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e)
		}
		return out
	case duckdb.OrderedMap:
		ks, vs := x.Keys(), x.Values()
		om := orderedJSON{keys: make([]string, len(ks)), vals: make([]any, len(ks))}
		for i := range ks {
			om.keys[i] = Text(ks[i])
			om.vals[i] = jsonValue(vs[i])
		}
		return om
	case duckdb.Map:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[Text(k)] = jsonValue(e)
		}
		return out
	case *big.Int:
		return json.Number(x.String())
	case float64, float32, int8, int16, int32, int64, uint8, uint16, uint32, uint64, bool, string, nil:
		return x
	case fmt.Stringer:
		return x.String()
	}
	return fmt.Sprint(v)
}

// orderedJSON is a JSON object that keeps its keys in order (DuckDB MAPs
// keep header order; Go maps would sort it away).
type orderedJSON struct {
	keys []string
	vals []any
}

func (o orderedJSON) MarshalJSON() ([]byte, error) {
	var b strings.Builder
	b.WriteString("{")
	for i, k := range o.keys {
		if i > 0 {
			b.WriteString(",")
		}
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		vb, err := json.Marshal(o.vals[i])
		if err != nil {
			return nil, err
		}
		b.Write(kb)
		b.WriteString(":")
		b.Write(vb)
	}
	b.WriteString("}")
	return []byte(b.String()), nil
}

// Scalar runs q and returns the first column of the first row.
func (db *DB) Scalar(ctx context.Context, q string, args ...any) (any, error) {
	var v any
	err := db.do(func() error { return db.conn.QueryRowContext(ctx, q, args...).Scan(&v) })
	if err == sql.ErrNoRows {
		return nil, nil
	}
	return v, err
}
