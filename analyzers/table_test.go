package analyzers

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/schema"
)

var testTable = &schema.Table{Name: "t", Columns: []schema.Column{
	{Name: "capture_id", Type: arrow.PrimitiveTypes.Int32},
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "name", Type: arrow.BinaryTypes.String},
	{Name: "opt", Type: arrow.BinaryTypes.String},
	{Name: "when", Type: &arrow.TimestampType{Unit: arrow.Nanosecond}},
	{Name: "cert", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	{Name: "rtt_ms", Type: arrow.PrimitiveTypes.Float64},
	{Name: "code", Type: arrow.PrimitiveTypes.Int32},
	{Name: "port", Type: arrow.PrimitiveTypes.Uint16},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean},
	{Name: "list", Type: arrow.ListOf(arrow.BinaryTypes.String)},
	{Name: "ttls", Type: arrow.ListOf(arrow.PrimitiveTypes.Int32)},
	{Name: "blob", Type: arrow.BinaryTypes.Binary},
	{Name: "double", Type: arrow.PrimitiveTypes.Int64},
}}

type testRow struct {
	ID      int64    `col:"id"`
	Name    string   `col:"name"`
	Opt     string   `col:"opt,omitempty"`
	When    int64    `col:"when,omitempty"`
	Cert    int64    `col:"cert,sec"`
	RTT     int64    `col:"rtt_ms,ms,nullneg"`
	HasCode bool     //
	Code    int      `col:"code,null=HasCode"`
	Port    uint16   `col:"port"`
	Flag    bool     `col:"flag"`
	List    []string `col:"list,omitempty"`
	TTLs    []uint32 `col:"ttls"`
	Blob    []byte   `col:"blob,omitempty"`
	Hidden  string   // no tag: not a column
}

func TestTableAppend(t *testing.T) {
	tbl, err := NewTable(testTable, map[string]Computed[testRow]{
		"double": func(r *testRow, b array.Builder) { b.(*array.Int64Builder).Append(2 * r.ID) },
	})
	if err != nil {
		t.Fatal(err)
	}
	mem := memory.NewCheckedAllocator(memory.DefaultAllocator)
	defer mem.AssertSize(t, 0)
	rb := array.NewRecordBuilder(mem, testTable.ArrowSchema())
	defer rb.Release()
	tbl.Append(rb, 7, &testRow{ID: 1, Name: "a\xffb", Opt: "x", When: 5, Cert: 253402300799, RTT: 1500000, HasCode: true, Code: 404,
		Port: 443, Flag: true, List: []string{"p", "q"}, TTLs: []uint32{1, 2}, Blob: []byte{9}})
	tbl.Append(rb, 7, &testRow{ID: 2, RTT: -1, Code: 5})
	rec := rb.NewRecordBatch()
	defer rec.Release()
	got := make([]string, rec.NumCols())
	for i := range got {
		got[i] = rec.Column(i).String()
	}
	want := []string{`[7 7]`, `[1 2]`, `["a\xffb" ""]`, `["x" (null)]`, `[5 (null)]`,
		`[253402300799000000 0]`, `[1.5 (null)]`, `[404 (null)]`, `[443 0]`, `[true false]`,
		`[["p" "q"] (null)]`, `[[1 2] []]`, `["\t" (null)]`, `[2 4]`}
	want[2] = `["a\\xffb" ""]` // not UTF-8: stored as schema.ValidText writes it
	for i := range want {
		g := strings.ReplaceAll(got[i], "Z", "")
		if g != want[i] {
			t.Errorf("column %s: %s, want %s", testTable.Columns[i].Name, got[i], want[i])
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a row of another type was appended")
		}
	}()
	tbl.Append(rb, 7, &struct{ ID int64 }{1})
}

func TestTableMismatch(t *testing.T) {
	type missing struct {
		ID int64 `col:"id"`
	}
	type unknown struct {
		ID int64 `col:"idd"`
	}
	type wrongType struct {
		ID string `col:"id"`
	}
	type wrongWidth struct {
		Port int64 `col:"port"`
	}
	type twice struct {
		A int64 `col:"id"`
		B int64 `col:"id"`
	}
	type badOpt struct {
		ID int64 `col:"id,sometimes"`
	}
	type badNull struct {
		ID int64 `col:"id,null=Nope"`
	}
	small := &schema.Table{Name: "s", Columns: []schema.Column{{Name: "capture_id", Type: arrow.PrimitiveTypes.Int32}, {Name: "id", Type: arrow.PrimitiveTypes.Int64}}}
	port := &schema.Table{Name: "p", Columns: []schema.Column{{Name: "port", Type: arrow.PrimitiveTypes.Uint16}}}
	for name, err := range map[string]error{
		"column without field": func() error { _, err := NewTable[missing](testTable, nil); return err }(),
		"unknown column":       func() error { _, err := NewTable[unknown](small, nil); return err }(),
		"string into BIGINT":   func() error { _, err := NewTable[wrongType](small, nil); return err }(),
		"int64 into USMALLINT": func() error { _, err := NewTable[wrongWidth](port, nil); return err }(),
		"column twice":         func() error { _, err := NewTable[twice](small, nil); return err }(),
		"unknown option":       func() error { _, err := NewTable[badOpt](small, nil); return err }(),
		"null= no such field":  func() error { _, err := NewTable[badNull](small, nil); return err }(),
		"computed unknown": func() error {
			_, err := NewTable(small, map[string]Computed[missing]{"zz": nil})
			return err
		}(),
		"computed and field": func() error {
			_, err := NewTable(small, map[string]Computed[missing]{"id": nil})
			return err
		}(),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
