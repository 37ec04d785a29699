package query

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	duckdb "github.com/duckdb/duckdb-go/v2"
)

// Formats lists the output formats of Run.
var Formats = []string{"table", "csv", "json", "jsonl", "markdown", "parquet"}

// Output runs q and writes its result to w in format. Parquet is written by
// DuckDB itself to file (w is not used); it needs a file name.
//
// The text formats (table, markdown, csv) pass every value through Escape,
// so captured bytes cannot drive a terminal or forge rows; json and jsonl
// carry exact values, escaped by JSON's own rules, and parquet raw values.
func (db *DB) Output(ctx context.Context, q, format string, w io.Writer, file string) error {
	if format == "parquet" {
		if file == "" || file == "-" {
			return fmt.Errorf("--format parquet needs an output file (-o FILE)")
		}
		q = strings.TrimRight(strings.TrimSpace(q), ";")
		return db.Exec(ctx, fmt.Sprintf("COPY (%s) TO '%s' (FORMAT parquet)", q, strings.ReplaceAll(file, "'", "''")))
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
	bw := bufio.NewWriterSize(w, 64<<10)
	defer bw.Flush()
	next := func() ([]any, error) {
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
	case "table", "":
		return writeTable(bw, cols, next, false)
	case "markdown":
		return writeTable(bw, cols, next, true)
	case "csv":
		cw := csv.NewWriter(bw)
		cw.Write(cols)
		for {
			vals, err := next()
			if err != nil || vals == nil {
				cw.Flush()
				return err
			}
			rec := make([]string, len(vals))
			for i, v := range vals {
				if v != nil {
					rec[i] = Escape(Text(v))
				}
			}
			cw.Write(rec)
		}
	case "json", "jsonl":
		if format == "json" {
			bw.WriteString("[")
		}
		first := true
		for {
			vals, err := next()
			if err != nil {
				return err
			}
			if vals == nil {
				break
			}
			var line strings.Builder
			line.WriteString("{")
			for i, c := range cols {
				if i > 0 {
					line.WriteString(",")
				}
				k, _ := json.Marshal(c)
				line.Write(k)
				line.WriteString(":")
				v, err := json.Marshal(jsonValue(vals[i]))
				if err != nil {
					return err
				}
				line.Write(v)
			}
			line.WriteString("}")
			if format == "json" {
				if !first {
					bw.WriteString(",")
				}
				bw.WriteString("\n  ")
			}
			bw.WriteString(line.String())
			if format == "jsonl" {
				bw.WriteString("\n")
			}
			first = false
		}
		if format == "json" {
			if !first {
				bw.WriteString("\n")
			}
			bw.WriteString("]\n")
		}
		return nil
	}
	return fmt.Errorf("unknown format %q (want one of %s)", format, strings.Join(Formats, ", "))
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
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(Escape(c))
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
				s = strings.ReplaceAll(s, "|", `\|`)
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
	hdr := make([]string, len(cols))
	for i, c := range cols {
		hdr[i] = Escape(c)
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

// Escape makes captured text safe to print: control characters, invalid
// UTF-8 and backslashes are written as Go-style escapes, so traffic cannot
// move a terminal's cursor or forge lines of a report.
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
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0x2028 || r == 0x2029 || r == 0x202e || r == 0x200b:
			b.WriteString(strconv.QuoteRuneToASCII(r)[1 : len(strconv.QuoteRuneToASCII(r))-1])
		default:
			b.WriteRune(r)
		}
		i += n
	}
	return b.String()
}

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
