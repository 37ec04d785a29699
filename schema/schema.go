package schema

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// Column is one column of a table: its name, Arrow type and meaning.
type Column struct {
	Name string
	Type arrow.DataType
	Doc  string
}

// Table is one table (or view) pcapq writes.
type Table struct {
	Name    string
	Doc     string
	Columns []Column
	// View, when set, makes this a view over other tables (no Arrow data).
	// A view with Columns documents what the view returns.
	View string
	// Report lists queries shown as this table's section of pcapq report
	// (see ReportQuery); none: the table has no section of its own.
	Report []ReportQuery
	// Analyzer names the protocol analyzer that declares the table (its
	// package holds the declaration); empty for the tables of this
	// package (Core). An analyzer's table is additive: package query
	// creates it, and adds a column it lacks, in a file written before
	// the table or the column existed, with no schema version change (the
	// captures already in the file have no rows in it, NULL in the column).
	Analyzer string
}

// ArrowSchema returns the Arrow schema of t's columns, all nullable.
func (t *Table) ArrowSchema() *arrow.Schema {
	fs := make([]arrow.Field, len(t.Columns))
	for i, c := range t.Columns {
		fs[i] = arrow.Field{Name: c.Name, Type: c.Type, Nullable: true}
	}
	return arrow.NewSchema(fs, nil)
}

// Index returns the position of column name, or panics: callers use it at
// init time with literal names, so a typo fails every test at once.
func (t *Table) Index(name string) int {
	for i, c := range t.Columns {
		if c.Name == name {
			return i
		}
	}
	panic(fmt.Sprintf("schema: table %s has no column %s", t.Name, name))
}

// PerCapture reports whether t is a table whose rows belong to one
// capture (it has a capture_id column).
func (t *Table) PerCapture() bool {
	if t.View != "" {
		return false
	}
	for _, c := range t.Columns {
		if c.Name == "capture_id" {
			return true
		}
	}
	return false
}

// CreateSQL returns the DuckDB statement that creates t if it is missing.
func (t *Table) CreateSQL() string {
	if t.View != "" {
		return fmt.Sprintf("CREATE OR REPLACE VIEW %s AS %s", t.Name, t.View)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "CREATE TABLE IF NOT EXISTS %s (", t.Name)
	for i, c := range t.Columns {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s %s", c.Name, SQLType(c.Type))
	}
	b.WriteString(")")
	return b.String()
}

// SQLType is the DuckDB type an Arrow type lands as.
func SQLType(t arrow.DataType) string {
	switch t := t.(type) {
	case *arrow.BooleanType:
		return "BOOLEAN"
	case *arrow.Int8Type:
		return "TINYINT"
	case *arrow.Int16Type:
		return "SMALLINT"
	case *arrow.Int32Type:
		return "INTEGER"
	case *arrow.Int64Type:
		return "BIGINT"
	case *arrow.Uint8Type:
		return "UTINYINT"
	case *arrow.Uint16Type:
		return "USMALLINT"
	case *arrow.Uint32Type:
		return "UINTEGER"
	case *arrow.Uint64Type:
		return "UBIGINT"
	case *arrow.Float64Type:
		return "DOUBLE"
	case *arrow.StringType:
		return "VARCHAR"
	case *arrow.BinaryType:
		return "BLOB"
	case *arrow.TimestampType:
		switch t.Unit {
		case arrow.Nanosecond:
			return "TIMESTAMP_NS"
		case arrow.Microsecond:
			return "TIMESTAMP"
		}
	case *arrow.ListType:
		return SQLType(t.Elem()) + "[]"
	case *arrow.MapType:
		return fmt.Sprintf("MAP(%s, %s)", SQLType(t.KeyType()), SQLType(t.ItemType()))
	}
	panic("schema: no DuckDB type for " + t.String())
}

// Types used by the tables.
var (
	tBool   = arrow.FixedWidthTypes.Boolean
	tI32    = arrow.PrimitiveTypes.Int32
	tI64    = arrow.PrimitiveTypes.Int64
	tU8     = arrow.PrimitiveTypes.Uint8
	tU16    = arrow.PrimitiveTypes.Uint16
	tU32    = arrow.PrimitiveTypes.Uint32
	tU64    = arrow.PrimitiveTypes.Uint64
	tF64    = arrow.PrimitiveTypes.Float64
	tStr    = arrow.BinaryTypes.String
	tBlob   = arrow.BinaryTypes.Binary
	tTs     = &arrow.TimestampType{Unit: arrow.Nanosecond}
	tStrs   = arrow.ListOf(arrow.BinaryTypes.String)
	tHeader = arrow.MapOf(arrow.BinaryTypes.String, arrow.ListOf(arrow.BinaryTypes.String))
	tTsUs   = &arrow.TimestampType{Unit: arrow.Microsecond}
	tI32s   = arrow.ListOf(arrow.PrimitiveTypes.Int32)
)

// Column types for tables declared outside this package (the analyzers'),
// each with its DuckDB type (SQLType).
var (
	Bool      = tBool // BOOLEAN
	Int32     = tI32  // INTEGER
	Int64     = tI64  // BIGINT
	Uint8     = tU8   // UTINYINT
	Uint16    = tU16  // USMALLINT
	Uint32    = tU32  // UINTEGER
	Uint64    = tU64  // UBIGINT
	Float64   = tF64  // DOUBLE
	String    = tStr  // VARCHAR
	Binary    = tBlob // BLOB
	Timestamp = tTs   // TIMESTAMP_NS
	Strings   = tStrs // VARCHAR[]
	Int32s    = tI32s // INTEGER[]
	// TimestampMicros is TIMESTAMP (microseconds): for dates past 2262,
	// which TIMESTAMP_NS cannot hold (certificate validity).
	TimestampMicros = tTsUs
)

// Col is a Column, for tables declared in other packages.
func Col(name string, typ arrow.DataType, doc string) Column {
	return Column{Name: name, Type: typ, Doc: doc}
}

// Check reports what is wrong with a table's declaration: a column named
// twice, a column without its meaning, a type with no DuckDB type, a
// table (not a view) other than pcapq_meta without capture_id. The tests
// of package schema check Core with it, those of analyzers/all every
// analyzer's table.
func (t *Table) Check() (problems []string) {
	if t.Name == "" || t.Doc == "" {
		problems = append(problems, fmt.Sprintf("table %q: no name or no doc", t.Name))
	}
	seen := map[string]bool{}
	for _, c := range t.Columns {
		if seen[c.Name] {
			problems = append(problems, fmt.Sprintf("%s.%s twice", t.Name, c.Name))
		}
		seen[c.Name] = true
		if c.Doc == "" {
			problems = append(problems, fmt.Sprintf("%s.%s has no doc", t.Name, c.Name))
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					problems = append(problems, fmt.Sprintf("%s.%s: %v", t.Name, c.Name, r))
				}
			}()
			SQLType(c.Type)
		}()
	}
	if t.View == "" && t != Meta && !t.PerCapture() {
		problems = append(problems, t.Name+" has no capture_id column")
	}
	return problems
}
