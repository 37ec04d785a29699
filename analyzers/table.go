package analyzers

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapq/pcapq/schema"
)

// Table binds a schema table to the Go type of its rows. The row type's
// fields name their columns in a `col` struct tag; NewTable matches them
// against the schema once, at start-up, and compiles one append function
// per column, so appending a row costs no reflection.
//
// Tag syntax: `col:"name[,option...]"`. Options:
//
//	omitempty   NULL when the field holds its zero value ("" , 0, false, nil or empty slice)
//	nullneg     NULL when the (integer) field is negative
//	null=Field  NULL unless the bool field Field is true
//	ms          an int64 of nanoseconds written as float64 milliseconds
//	sec         an int64 of Unix seconds written to a timestamp column
//
// Field types and the column types they fill: string (VARCHAR, stored as
// schema.ValidText makes it), []byte (BLOB), bool, int/int32 (INTEGER or
// BIGINT), int64 (BIGINT, or a timestamp of nanoseconds), uint8, uint16,
// uint32 (the same width), float64 (DOUBLE), []string (VARCHAR[]) and
// []uint32 / []int32 (INTEGER[]). A column with no field is either
// capture_id (appended from the ingest's capture) or one of the computed
// columns given to NewTable.
type Table struct {
	Schema *schema.Table
	ptr    reflect.Type // *T
	fns    []colFn      // per schema column; nil for capture_id
}

// colFn appends one column of the row at p to b.
type colFn func(p unsafe.Pointer, b array.Builder)

// Computed appends a column derived from a row (*T) to its builder.
type Computed[T any] func(r *T, b array.Builder)

// NewTable compiles the append plan of row type T for table st. It fails
// when a column has no field (and is not capture_id or computed), a field
// names no column, or a field's type cannot fill its column's type.
func NewTable[T any](st *schema.Table, computed map[string]Computed[T]) (*Table, error) {
	typ := reflect.TypeFor[T]()
	if typ.Kind() != reflect.Struct {
		return nil, fmt.Errorf("analyzers: table %s: row type %s is not a struct", st.Name, typ)
	}
	t := &Table{Schema: st, ptr: reflect.PointerTo(typ), fns: make([]colFn, len(st.Columns))}
	byName := map[string]int{}
	for i, c := range st.Columns {
		byName[c.Name] = i
	}
	done := make([]bool, len(st.Columns))
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag, ok := f.Tag.Lookup("col")
		if !ok || tag == "-" {
			continue
		}
		parts := strings.Split(tag, ",")
		ci, ok := byName[parts[0]]
		if !ok {
			return nil, fmt.Errorf("analyzers: table %s: field %s.%s names column %q, which the schema does not have", st.Name, typ, f.Name, parts[0])
		}
		if done[ci] {
			return nil, fmt.Errorf("analyzers: table %s: column %s filled twice", st.Name, parts[0])
		}
		fn, err := compileField(typ, f, parts[1:], st.Columns[ci].Type)
		if err != nil {
			return nil, fmt.Errorf("analyzers: table %s column %s (field %s.%s): %w", st.Name, parts[0], typ, f.Name, err)
		}
		t.fns[ci], done[ci] = fn, true
	}
	for name, fn := range computed {
		ci, ok := byName[name]
		if !ok {
			return nil, fmt.Errorf("analyzers: table %s: computed column %q is not in the schema", st.Name, name)
		}
		if done[ci] {
			return nil, fmt.Errorf("analyzers: table %s: column %s is both a field and computed", st.Name, name)
		}
		t.fns[ci] = func(p unsafe.Pointer, b array.Builder) { fn((*T)(p), b) }
		done[ci] = true
	}
	for i, c := range st.Columns {
		if !done[i] && c.Name != "capture_id" {
			return nil, fmt.Errorf("analyzers: table %s: column %s has no field in %s and is not computed", st.Name, c.Name, typ)
		}
	}
	return t, nil
}

// MustTable is NewTable for package-level declarations: a row type that
// disagrees with its schema panics at start-up, so every test fails.
func MustTable[T any](st *schema.Table, computed map[string]Computed[T]) *Table {
	t, err := NewTable[T](st, computed)
	if err != nil {
		panic(err)
	}
	return t
}

// Append appends row (a *T of the table's row type) to rb, whose schema is
// the table's, with captureID in the capture_id column.
func (t *Table) Append(rb *array.RecordBuilder, captureID int32, row any) {
	v := reflect.ValueOf(row)
	if v.Type() != t.ptr {
		panic("analyzers: table " + t.Schema.Name + " given a " + v.Type().String() + ", wants " + t.ptr.String())
	}
	p := v.UnsafePointer()
	for i, fn := range t.fns {
		b := rb.Field(i)
		if fn == nil {
			b.(*array.Int32Builder).Append(captureID)
			continue
		}
		fn(p, b)
	}
}

type fieldOpts struct {
	omitEmpty bool
	nullNeg   bool
	nullIf    uintptr // offset of the bool field that must be true
	hasNullIf bool
	ms        bool
	sec       bool
}

func compileField(st reflect.Type, f reflect.StructField, opts []string, col arrow.DataType) (colFn, error) {
	var o fieldOpts
	for _, opt := range opts {
		switch {
		case opt == "omitempty":
			o.omitEmpty = true
		case opt == "nullneg":
			o.nullNeg = true
		case opt == "ms":
			o.ms = true
		case opt == "sec":
			o.sec = true
		case strings.HasPrefix(opt, "null="):
			g, ok := st.FieldByName(opt[5:])
			if !ok || g.Type.Kind() != reflect.Bool || len(g.Index) != 1 {
				return nil, fmt.Errorf("option %s: no bool field %s", opt, opt[5:])
			}
			o.nullIf, o.hasNullIf = g.Offset, true
		default:
			return nil, fmt.Errorf("unknown option %q", opt)
		}
	}
	fn, err := valueFn(f, o, col)
	if err != nil {
		return nil, err
	}
	if o.hasNullIf {
		inner, off := fn, o.nullIf
		fn = func(p unsafe.Pointer, b array.Builder) {
			if !*(*bool)(unsafe.Add(p, off)) {
				b.AppendNull()
				return
			}
			inner(p, b)
		}
	}
	return fn, nil
}

// valueFn compiles the append of one field, with omitempty/nullneg.
func valueFn(f reflect.StructField, o fieldOpts, col arrow.DataType) (colFn, error) {
	off := f.Offset
	at := func(p unsafe.Pointer) unsafe.Pointer { return unsafe.Add(p, off) }
	mismatch := fmt.Errorf("a %s field cannot fill a %s column (options %+v)", f.Type, col, o)
	switch f.Type.Kind() {
	case reflect.String:
		if col.ID() != arrow.STRING {
			return nil, mismatch
		}
		return func(p unsafe.Pointer, b array.Builder) {
			s := *(*string)(at(p))
			if o.omitEmpty && s == "" {
				b.AppendNull()
				return
			}
			b.(*array.StringBuilder).Append(schema.ValidText(s))
		}, nil
	case reflect.Bool:
		if col.ID() != arrow.BOOL {
			return nil, mismatch
		}
		return func(p unsafe.Pointer, b array.Builder) {
			v := *(*bool)(at(p))
			if o.omitEmpty && !v {
				b.AppendNull()
				return
			}
			b.(*array.BooleanBuilder).Append(v)
		}, nil
	case reflect.Float64:
		if col.ID() != arrow.FLOAT64 {
			return nil, mismatch
		}
		return func(p unsafe.Pointer, b array.Builder) {
			v := *(*float64)(at(p))
			if o.omitEmpty && v == 0 || o.nullNeg && v < 0 {
				b.AppendNull()
				return
			}
			b.(*array.Float64Builder).Append(v)
		}, nil
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint8, reflect.Uint16, reflect.Uint32:
		return intFn(f, o, col, mismatch)
	case reflect.Slice:
		return sliceFn(f, o, col, mismatch)
	}
	return nil, mismatch
}

// load reads an integer field of the given kind as int64.
func load(k reflect.Kind, p unsafe.Pointer) int64 {
	switch k {
	case reflect.Int:
		return int64(*(*int)(p))
	case reflect.Int64:
		return *(*int64)(p)
	case reflect.Int32:
		return int64(*(*int32)(p))
	case reflect.Uint8:
		return int64(*(*uint8)(p))
	case reflect.Uint16:
		return int64(*(*uint16)(p))
	case reflect.Uint32:
		return int64(*(*uint32)(p))
	}
	panic("analyzers: not an integer kind")
}

func intFn(f reflect.StructField, o fieldOpts, col arrow.DataType, mismatch error) (colFn, error) {
	off, k := f.Offset, f.Type.Kind()
	null := func(v int64) bool { return o.omitEmpty && v == 0 || o.nullNeg && v < 0 }
	var put func(v int64, b array.Builder)
	switch col.ID() {
	case arrow.INT64:
		if k != reflect.Int64 && k != reflect.Int && k != reflect.Int32 || o.ms || o.sec {
			return nil, mismatch
		}
		put = func(v int64, b array.Builder) { b.(*array.Int64Builder).Append(v) }
	case arrow.INT32:
		if k != reflect.Int32 && k != reflect.Int && k != reflect.Uint16 && k != reflect.Uint8 || o.ms || o.sec {
			return nil, mismatch
		}
		put = func(v int64, b array.Builder) { b.(*array.Int32Builder).Append(int32(v)) }
	case arrow.UINT8:
		if k != reflect.Uint8 || o.ms || o.sec {
			return nil, mismatch
		}
		put = func(v int64, b array.Builder) { b.(*array.Uint8Builder).Append(uint8(v)) }
	case arrow.UINT16:
		if k != reflect.Uint16 || o.ms || o.sec {
			return nil, mismatch
		}
		put = func(v int64, b array.Builder) { b.(*array.Uint16Builder).Append(uint16(v)) }
	case arrow.UINT32:
		if k != reflect.Uint32 || o.ms || o.sec {
			return nil, mismatch
		}
		put = func(v int64, b array.Builder) { b.(*array.Uint32Builder).Append(uint32(v)) }
	case arrow.FLOAT64:
		if k != reflect.Int64 || !o.ms {
			return nil, mismatch
		}
		put = func(v int64, b array.Builder) { b.(*array.Float64Builder).Append(float64(v) / 1e6) }
	case arrow.TIMESTAMP:
		if k != reflect.Int64 || o.ms {
			return nil, mismatch
		}
		unit := col.(*arrow.TimestampType).Unit
		switch {
		case o.sec && unit == arrow.Microsecond:
			put = func(v int64, b array.Builder) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(v * 1e6)) }
		case o.sec && unit == arrow.Second:
			put = func(v int64, b array.Builder) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(v)) }
		case !o.sec && unit == arrow.Nanosecond:
			put = func(v int64, b array.Builder) { b.(*array.TimestampBuilder).Append(arrow.Timestamp(v)) }
		default:
			return nil, fmt.Errorf("%w: timestamp unit %s", mismatch, unit)
		}
	default:
		return nil, mismatch
	}
	return func(p unsafe.Pointer, b array.Builder) {
		v := load(k, unsafe.Add(p, off))
		if null(v) {
			b.AppendNull()
			return
		}
		put(v, b)
	}, nil
}

func sliceFn(f reflect.StructField, o fieldOpts, col arrow.DataType, mismatch error) (colFn, error) {
	off := f.Offset
	switch f.Type.Elem().Kind() {
	case reflect.Uint8:
		if col.ID() != arrow.BINARY || o.ms || o.sec || o.nullNeg {
			return nil, mismatch
		}
		return func(p unsafe.Pointer, b array.Builder) {
			v := *(*[]byte)(unsafe.Add(p, off))
			if o.omitEmpty && len(v) == 0 {
				b.AppendNull()
				return
			}
			b.(*array.BinaryBuilder).Append(v)
		}, nil
	case reflect.String:
		lt, ok := col.(*arrow.ListType)
		if !ok || lt.Elem().ID() != arrow.STRING {
			return nil, mismatch
		}
		return func(p unsafe.Pointer, b array.Builder) {
			v := *(*[]string)(unsafe.Add(p, off))
			if o.omitEmpty && len(v) == 0 {
				b.AppendNull()
				return
			}
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			vb := lb.ValueBuilder().(*array.StringBuilder)
			for _, s := range v {
				vb.Append(schema.ValidText(s))
			}
		}, nil
	case reflect.Uint32, reflect.Int32:
		lt, ok := col.(*arrow.ListType)
		if !ok || lt.Elem().ID() != arrow.INT32 || o.ms || o.sec || o.nullNeg {
			return nil, mismatch
		}
		u32 := f.Type.Elem().Kind() == reflect.Uint32
		return func(p unsafe.Pointer, b array.Builder) {
			var vs []int32
			if u32 {
				u := *(*[]uint32)(unsafe.Add(p, off))
				vs = unsafe.Slice((*int32)(unsafe.Pointer(unsafe.SliceData(u))), len(u)) // same bits; values past 2^31-1 are the caller's to clamp
			} else {
				vs = *(*[]int32)(unsafe.Add(p, off))
			}
			if o.omitEmpty && len(vs) == 0 {
				b.AppendNull()
				return
			}
			lb := b.(*array.ListBuilder)
			lb.Append(true)
			lb.ValueBuilder().(*array.Int32Builder).AppendValues(vs, nil)
		}, nil
	}
	return nil, mismatch
}
