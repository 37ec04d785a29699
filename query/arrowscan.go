//go:build duckdb_arrow

package query

/*
#include <stdint.h>
#include <stdlib.h>

// The Arrow C data and stream interfaces (a stable ABI).
struct ArrowSchema {
	const char *format;
	const char *name;
	const char *metadata;
	int64_t flags;
	int64_t n_children;
	struct ArrowSchema **children;
	struct ArrowSchema *dictionary;
	void (*release)(struct ArrowSchema *);
	void *private_data;
};

struct ArrowArray {
	int64_t length;
	int64_t null_count;
	int64_t offset;
	int64_t n_buffers;
	int64_t n_children;
	const void **buffers;
	struct ArrowArray **children;
	struct ArrowArray *dictionary;
	void (*release)(struct ArrowArray *);
	void *private_data;
};

struct ArrowArrayStream {
	int (*get_schema)(struct ArrowArrayStream *, struct ArrowSchema *out);
	int (*get_next)(struct ArrowArrayStream *, struct ArrowArray *out);
	const char *(*get_last_error)(struct ArrowArrayStream *);
	void (*release)(struct ArrowArrayStream *);
	void *private_data;
};

// pq_stream is the stream DuckDB scans: batches from inner (arrow-go's
// export of a record reader), the schema a copy of one exported once.
typedef struct {
	struct ArrowArrayStream outer;
	struct ArrowArrayStream inner;
	struct ArrowSchema *schema;
} pq_stream;

static void pq_schema_release(struct ArrowSchema *s) { s->release = NULL; }

// The callbacks find the pq_stream through private_data: DuckDB scans a
// copy of the outer struct.
static int pq_get_schema(struct ArrowArrayStream *s, struct ArrowSchema *out) {
	pq_stream *p = (pq_stream *)s->private_data;
	*out = *p->schema;
	out->release = pq_schema_release;
	out->private_data = NULL;
	return 0;
}

static int pq_get_next(struct ArrowArrayStream *s, struct ArrowArray *out) {
	pq_stream *p = (pq_stream *)s->private_data;
	return p->inner.get_next(&p->inner, out);
}

static const char *pq_get_last_error(struct ArrowArrayStream *s) {
	pq_stream *p = (pq_stream *)s->private_data;
	return p->inner.get_last_error(&p->inner);
}

static void pq_release(struct ArrowArrayStream *s) {
	pq_stream *p = (pq_stream *)s->private_data;
	if (p->inner.release) {
		p->inner.release(&p->inner);
	}
	s->release = NULL;
}

static pq_stream *pq_stream_new(struct ArrowSchema *schema) {
	pq_stream *p = calloc(1, sizeof(pq_stream));
	if (!p) {
		return NULL;
	}
	p->schema = schema;
	p->outer.get_schema = pq_get_schema;
	p->outer.get_next = pq_get_next;
	p->outer.get_last_error = pq_get_last_error;
	p->outer.release = pq_release;
	p->outer.private_data = p;
	return p;
}

static void pq_stream_free(pq_stream *p) {
	if (p->outer.release) {
		p->outer.release(&p->outer);
	}
	free(p);
}

static struct ArrowSchema *pq_schema_new(void) { return calloc(1, sizeof(struct ArrowSchema)); }

static void pq_schema_free(struct ArrowSchema *s) {
	if (s->release) {
		s->release(s);
	}
	free(s);
}
*/
import "C"

import (
	"database/sql/driver"
	"errors"
	"fmt"
	"reflect"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
	bindings "github.com/duckdb/duckdb-go-bindings"
	duckdb "github.com/duckdb/duckdb-go/v2"
)

// DuckDB's duckdb_arrow_scan (behind duckdb-go's Arrow.RegisterView) asks
// the stream for its schema, at the scan and at every bind, and never
// releases what it gets: each insert leaked arrow-go's export of the
// schema, about 1 KB a column (a 30-column table: 35 KB an insert, for the
// life of the process; DB.Close does not return it). A file ingest makes a
// few hundred inserts; a live capture commits every table every second,
// which grew its RSS by ~0.2 MB/s. So the scan gets a stream of our own
// (pq_stream): batches from arrow-go's export of the reader, the schema a
// shallow copy of one exported once per table and database, with a release
// that frees nothing. duckdb_arrow_scan is reached through duckdb-go's
// connection, whose C handle is its first field (rawConnOK checks the
// layout once; without it, Write falls back to RegisterView).

// rawConnOK reports whether duckdb.Conn starts with its C connection
// handle, as this version of duckdb-go has it.
var rawConnOK = func() bool {
	t := reflect.TypeOf(duckdb.Conn{})
	if t.NumField() == 0 {
		return false
	}
	f := t.Field(0)
	return f.Name == "conn" && f.Offset == 0 && f.Type == reflect.TypeOf(bindings.Connection{})
}()

// rawConn returns the C connection handle of a duckdb-go connection.
func rawConn(dc any) (bindings.Connection, error) {
	c, ok := dc.(*duckdb.Conn)
	if !ok || !rawConnOK {
		return bindings.Connection{}, fmt.Errorf("unexpected DuckDB connection %T", dc)
	}
	return *(*bindings.Connection)(unsafe.Pointer(c)), nil
}

// scanSchemas holds, per table, its Arrow schema exported once in C
// memory for the streams of this database's inserts. Used on the DuckDB
// thread only; freed by Close.
type scanSchemas map[string]*C.struct_ArrowSchema

func (s scanSchemas) get(name string, sc *arrow.Schema) *C.struct_ArrowSchema {
	if c, ok := s[name]; ok {
		return c
	}
	c := C.pq_schema_new()
	cdata.ExportArrowSchema(sc, (*cdata.CArrowSchema)(unsafe.Pointer(c)))
	s[name] = c
	return c
}

func (s scanSchemas) free() {
	for name, c := range s {
		C.pq_schema_free(c)
		delete(s, name)
	}
}

// registerArrow makes rdr's batches readable as the view arrowView, for
// one insert into table t. release drops the stream (after the view).
func (db *DB) registerArrow(rdr array.RecordReader, t string) (release func(), err error) {
	if !rawConnOK {
		return db.arrow.RegisterView(rdr, arrowView)
	}
	if db.schemas == nil {
		db.schemas = scanSchemas{}
	}
	sc := db.schemas.get(t, rdr.Schema())
	var conn bindings.Connection
	if err := db.conn.Raw(func(dc any) error {
		var err error
		conn, err = rawConn(dc)
		return err
	}); err != nil {
		return nil, err
	}
	p := C.pq_stream_new(sc)
	if p == nil {
		return nil, errors.New("out of memory")
	}
	cdata.ExportRecordReader(rdr, (*cdata.CArrowArrayStream)(unsafe.Pointer(&p.inner)))
	release = func() { C.pq_stream_free(p) }
	if bindings.ArrowScan(conn, arrowView, bindings.ArrowStream{Ptr: unsafe.Pointer(&p.outer)}) == bindings.StateError {
		release()
		return nil, errors.New("duckdb: arrow scan failed")
	}
	return release, nil
}

var _ driver.Conn = (*duckdb.Conn)(nil)
