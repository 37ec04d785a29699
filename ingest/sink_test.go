package ingest

import (
	"bytes"
	"fmt"
	"math"
	"testing"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapq/pcapq/analyzers/dns"
	"github.com/pcapq/pcapq/analyzers/tls"
	"github.com/pcapq/pcapq/analyzers/websocket"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
)

// checkSink is an in-memory Sink that validates every record batch
// against its table's schema (same columns and types, every column as
// long as the batch, a table the pipeline may write) and keeps what the
// tests look at: rows per table, the warnings rows, and packets.ts.
type checkSink struct {
	rows     map[string]int64
	warnings []warnRow // frame and offset -1 for NULL
	tsNull   int64     // packets rows with a NULL ts
	// pktsWithFlow is the packets rows with a flow_id, pktsInFlows the
	// packets the flows rows count (orig_pkts + resp_pkts).
	pktsWithFlow, pktsInFlows int64
	// minTs and maxTs span every time of the flows, tcp_events and
	// http_data rows.
	minTs, maxTs int64
	err          error // the first violation
}

func newCheckSink() *checkSink {
	return &checkSink{rows: map[string]int64{}, minTs: math.MaxInt64, maxTs: math.MinInt64}
}

var sinkTables = map[*schema.Table]bool{
	schema.PacketsData: true, schema.Flows: true, schema.TCPEvents: true,
	schema.HTTPData: true, schema.HTTPBodies: true, schema.Warnings: true,
	dns.Schema: true, tls.Schema: true, websocket.Schema: true, // the protocol analyzers'
}

func (s *checkSink) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

func (s *checkSink) Write(t *schema.Table, recs []arrow.RecordBatch) error {
	if !sinkTables[t] {
		s.fail("write to table %s, which the pipeline does not write", t.Name)
		return nil
	}
	want := t.ArrowSchema()
	for _, r := range recs {
		if !r.Schema().Equal(want) {
			s.fail("%s: batch schema %v, want %v", t.Name, r.Schema(), want)
			continue
		}
		for i := 0; i < int(r.NumCols()); i++ {
			if c := r.Column(i); int64(c.Len()) != r.NumRows() {
				s.fail("%s: column %s has %d values in a batch of %d rows", t.Name, t.Columns[i].Name, c.Len(), r.NumRows())
			}
			if v, ok := r.Column(i).(interface{ ValidateFull() error }); ok {
				if err := v.ValidateFull(); err != nil {
					s.fail("%s: column %s: %v", t.Name, t.Columns[i].Name, err)
				}
			}
			// DuckDB takes only UTF-8 text.
			if str, ok := r.Column(i).(*array.String); ok {
				for j := 0; j < str.Len(); j++ {
					if str.IsValid(j) && !utf8.ValidString(str.Value(j)) {
						s.fail("%s: column %s row %d: %q is not UTF-8", t.Name, t.Columns[i].Name, j, str.Value(j))
					}
				}
			}
		}
		s.rows[t.Name] += r.NumRows()
		if t == schema.Flows || t == schema.TCPEvents || t == schema.HTTPData {
			for i, c := range t.Columns {
				ts, ok := r.Column(i).(*array.Timestamp)
				if !ok || c.Type != ts.DataType() {
					continue
				}
				for j := 0; j < ts.Len(); j++ {
					if ts.IsValid(j) {
						s.minTs = min(s.minTs, int64(ts.Value(j)))
						s.maxTs = max(s.maxTs, int64(ts.Value(j)))
					}
				}
			}
		}
		switch t {
		case schema.PacketsData:
			ts := r.Column(t.Index("ts"))
			s.tsNull += int64(ts.NullN())
			fl := r.Column(t.Index("flow_id"))
			s.pktsWithFlow += int64(fl.Len() - fl.NullN())
		case schema.Flows:
			o := r.Column(t.Index("orig_pkts")).(*array.Int64)
			p := r.Column(t.Index("resp_pkts")).(*array.Int64)
			for i := 0; i < o.Len(); i++ {
				s.pktsInFlows += o.Value(i) + p.Value(i)
			}
		case schema.Warnings:
			frame := r.Column(t.Index("frame")).(*array.Int64)
			off := r.Column(t.Index("file_offset")).(*array.Int64)
			kind := r.Column(t.Index("kind")).(*array.String)
			detail := r.Column(t.Index("detail")).(*array.String)
			for i := 0; i < int(r.NumRows()); i++ {
				w := warnRow{frame: -1, offset: -1, kind: kind.Value(i), detail: detail.Value(i)}
				if frame.IsValid(i) {
					w.frame = frame.Value(i)
				}
				if off.IsValid(i) {
					w.offset = off.Value(i)
				}
				s.warnings = append(s.warnings, w)
			}
		}
	}
	return nil
}

// mustReader reads the capture b.
func mustReader(t testing.TB, b []byte) source.Reader {
	t.Helper()
	rd, err := source.NewReader(bytes.NewReader(b), "test")
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return rd
}
