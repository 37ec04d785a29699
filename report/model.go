package report

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/pcapq/pcapq/query"
)

// Report is what pcapq report computes: sections of key figures, charts
// and tables. The HTML, Markdown and JSON renderers print this one value,
// so the three show the same numbers; every number in it comes from SQL
// over the database's tables (floats rounded to 3 decimals in SQL).
type Report struct {
	Title    string     `json:"title"`
	Tool     string     `json:"tool"`
	Database string     `json:"database"`
	Captures []int32    `json:"capture_filter,omitempty"` // only these captures; empty: all
	Top      int        `json:"top"`                      // rows kept per table
	Sections []*Section `json:"sections"`
}

// Section is one part of the report (overview, traffic, TCP, HTTP, or a
// table's declared queries).
type Section struct {
	ID     string   `json:"id"`
	Title  string   `json:"title"`
	Doc    string   `json:"doc"`
	Note   string   `json:"note,omitempty"` // e.g. why the section is empty
	Stats  []Stat   `json:"stats,omitempty"`
	Charts []*Chart `json:"charts,omitempty"`
	Tables []*Table `json:"tables,omitempty"`
}

// Stat is one key figure.
type Stat struct {
	ID    string `json:"id"`
	Label string `json:"label"`
	Doc   string `json:"doc"`
	Value any    `json:"value"` // int64, float64, string, bool or nil
}

// Table is a result table. Rows hold int64, float64, string, bool or nil.
type Table struct {
	ID      string   `json:"id"`
	Title   string   `json:"title"`
	Doc     string   `json:"doc"`
	Columns []Column `json:"columns"`
	Rows    [][]any  `json:"rows"`
	// Total is the number of rows before the row limit; -1 when unknown
	// (More then says whether rows were left out).
	Total int64 `json:"total"`
	More  bool  `json:"more"`
}

// Column describes a table column.
type Column struct {
	Name    string `json:"name"`
	Numeric bool   `json:"numeric,omitempty"`
}

// Chart is a figure drawn by the charting library in HTML. Kind "time" has
// X in Unix seconds; kinds "bar" and "histogram" have one Label per bar.
// Data is the chart's numbers as a table (for bars and histograms every
// bar; for time series each series' peak and mean), shown under the chart
// in HTML and in its place in Markdown.
type Chart struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Doc   string `json:"doc"`
	Kind  string `json:"kind"`
	// Stacked bars: each label's bar is the sum of the series, in parts.
	Stacked bool      `json:"stacked,omitempty"`
	XLabel  string    `json:"x_label"`
	YLabel  string    `json:"y_label"`
	X       []float64 `json:"x,omitempty"`
	Step    float64   `json:"step,omitempty"` // time: bucket width in seconds
	Labels  []string  `json:"labels,omitempty"`
	Series  []Series  `json:"series"`
	Data    *Table    `json:"data"`
}

// Series is one line or set of bars of a chart.
type Series struct {
	Label  string    `json:"label"`
	Values []float64 `json:"values"`
}

// norm turns a value scanned from DuckDB into one of the model's types.
func norm(v any) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64:
		return x
	case int8:
		return int64(x)
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case uint8:
		return int64(x)
	case uint16:
		return int64(x)
	case uint32:
		return int64(x)
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x)
		}
		return strconv.FormatUint(x, 10)
	case float32:
		return float64(x)
	case *big.Int:
		if x.IsInt64() {
			return x.Int64()
		}
		return x.String()
	case time.Time:
		return FormatTime(x)
	case []byte:
		return string(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = Text(norm(e))
		}
		return strings.Join(parts, ", ")
	case interface{ Float64() float64 }: // DECIMAL
		return x.Float64()
	}
	return query.Text(v)
}

// FormatTime is how timestamps appear in the report: UTC, microseconds.
func FormatTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05.000000") + " UTC"
}

// Text is a value as the HTML and Markdown reports print it (before
// escaping): integers in full, floats in their shortest exact form (the
// report rounds them to 3 decimals in SQL), NULL as an em dash.
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return "—"
	case string:
		return x
	case bool:
		if x {
			return "yes"
		}
		return "no"
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	}
	return "?"
}

// round3 rounds to 3 decimals (figures computed in Go from SQL results).
func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
