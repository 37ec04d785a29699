package ingest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
	"github.com/pcapq/pcapq/tcpsession"
)

// tableBuilder accumulates rows of one table. A row is appended column by
// column in schema order: col names the column it expects next (checked,
// so a misordered add function fails every test), and endRow checks that
// the row is complete.
type tableBuilder struct {
	table *schema.Table
	rb    *array.RecordBuilder
	rows  int
	next  int // column the current row appends next
	flush int // rows gathered before a write
}

func newTableBuilder(mem memory.Allocator, t *schema.Table, flush int) *tableBuilder {
	return &tableBuilder{table: t, rb: array.NewRecordBuilder(mem, t.ArrowSchema()), flush: flush}
}

func (tb *tableBuilder) col(name string) array.Builder {
	if c := tb.table.Columns[tb.next]; c.Name != name {
		panic("ingest: " + tb.table.Name + " row appends " + name + " where the schema has " + c.Name)
	}
	tb.next++
	return tb.rb.Field(tb.next - 1)
}

func (tb *tableBuilder) endRow() {
	if tb.next != len(tb.table.Columns) {
		panic("ingest: incomplete " + tb.table.Name + " row")
	}
	tb.next = 0
	tb.rows++
}

func (tb *tableBuilder) take() arrow.RecordBatch {
	tb.rows = 0
	return tb.rb.NewRecordBatch()
}

// collector gathers finished batches in capture order.
type collector struct {
	p       *pipeline
	mem     memory.Allocator
	packets []arrow.RecordBatch
	pktRows int
	flushAt int // packet rows that make the next write

	flows, events, warns *tableBuilder
	// The protocol analyzers' tables, made at their first row, in
	// order of first use.
	atables       map[*analyzers.Table]*tableBuilder
	aorder        []*analyzers.Table
	open          *tableBuilder // flows_open rows of the last tick
	linkTypes     []uint32      // distinct link types so far, for Commit's summary
	flowCol       *array.Int64Builder
	dirCol        *array.BooleanBuilder
	packetsSchema *arrow.Schema

	warnKept       map[string]int   // warnings rows written per kind
	warnNotWritten map[string]int64 // warnings past source.MaxWarningsPerKind per kind
}

func (p *pipeline) collect(ctx context.Context, in <-chan *batch, out chan<- write) error {
	mem := p.opts.Alloc
	c := &collector{
		p:   p,
		mem: mem,
		// http rows carry every header (about 1.5 KB a row in the
		// benchmark capture), bodies up to the body cap: written in
		// smaller groups so what waits in Arrow stays bounded.
		flows:   newTableBuilder(mem, schema.Flows, 1<<16),
		events:  newTableBuilder(mem, schema.TCPEvents, 1<<16),
		atables: map[*analyzers.Table]*tableBuilder{},
		warns:   newTableBuilder(mem, schema.Warnings, 1<<16),
		open:    newTableBuilder(mem, schema.FlowsOpen, 0),
		flowCol: array.NewInt64Builder(mem),
		dirCol:  array.NewBooleanBuilder(mem),

		packetsSchema: schema.PacketsData.ArrowSchema(),

		warnKept:       map[string]int{},
		warnNotWritten: map[string]int64{},
	}
	defer c.release()
	// The first writes are small so that DuckDB, whose inserts are the
	// longest stage, starts while the pipeline fills; they double up to
	// FlushRows.
	c.flushAt = min(p.opts.BatchPackets, p.opts.FlushRows)
	send := func(w write) error {
		select {
		case out <- w:
			return nil
		case <-ctx.Done():
			w.release()
			return ctx.Err()
		}
	}
	for b := range in {
		b.pending.Wait()
		if err := ctx.Err(); err != nil {
			return err
		}
		c.addBatch(b)
		if p.opts.Progress != nil {
			p.opts.Progress(Progress{Packets: p.sum.Packets, BytesRead: b.bytesRead})
		}
		tick := b.tick
		p.free <- b
		if tick {
			// Everything so far goes to the sink, then the commit.
			if err := c.flush(send, true); err != nil {
				return err
			}
			if p.committer != nil {
				// Only the counts the collector keeps: other fields of
				// p.sum are written by other stages.
				s := &p.sum
				sum := Summary{
					LinkTypes: append([]uint32(nil), c.linkTypes...),
					Packets:   s.Packets, Bytes: s.Bytes, FirstTs: s.FirstTs, LastTs: s.LastTs, Timed: s.Timed,
					Warnings: s.Warnings, Flows: s.Flows, Events: s.Events, HTTP: s.HTTP,
				}
				w := write{commit: &sum}
				if c.open.rows > 0 {
					w.recs = []arrow.RecordBatch{c.open.take()}
				}
				if err := send(w); err != nil {
					return err
				}
			}
			continue
		}
		if c.pktRows >= c.flushAt {
			if err := c.flush(send, false); err != nil {
				return err
			}
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := c.p.sum.ReadErr; err != nil {
		c.addWarning(warnRow{frame: 0, offset: readErrOffset(err), kind: readErrKind(err), detail: err.Error()})
	}
	if d := p.sum.Defrag; d.TimedOut+d.Evicted+d.TooBig+d.Malformed > 0 {
		c.addWarning(warnRow{offset: -1, kind: "fragment_reassembly_failed", detail: fmt.Sprintf(
			"IP fragments not reassembled: %d datagrams timed out, %d evicted by memory bounds, %d over 65535 bytes, %d malformed (of %d fragments, %d datagrams reassembled)",
			d.TimedOut, d.Evicted, d.TooBig, d.Malformed, d.Fragments, d.Reassembled)})
	}
	for _, w := range p.r.Warnings() {
		if w.Kind == source.KindWarningsNotWritten && w.Of != "" {
			c.warnNotWritten[w.Of] += w.NotWritten // the reader's own count
			continue
		}
		// A warning about a record that became a packet names its frame.
		c.addWarning(warnRow{frame: p.warnedFrames[w.Offset], offset: w.Offset, kind: w.Kind, detail: w.Detail})
	}
	for _, kind := range slices.Sorted(maps.Keys(c.warnNotWritten)) {
		n := c.warnNotWritten[kind]
		w := source.NotWrittenWarning(kind, n)
		c.writeWarning(warnRow{offset: -1, kind: w.Kind, detail: w.Detail})
		p.sum.WarningsNotWritten += n
	}
	p.sum.Format = p.r.Format()
	p.sum.LinkTypes = p.r.LinkTypes()
	return c.flush(send, true)
}

func (c *collector) release() {
	for _, r := range c.packets {
		r.Release()
	}
	for _, tb := range []*tableBuilder{c.flows, c.events, c.warns, c.open} {
		tb.rb.Release()
	}
	for _, tb := range c.atables {
		tb.rb.Release()
	}
	c.flowCol.Release()
	c.dirCol.Release()
}

// flush sends what has been gathered. Small tables are only flushed when
// they have grown or at the end.
func (c *collector) flush(send func(write) error, final bool) error {
	if len(c.packets) > 0 {
		c.flushAt = min(2*c.flushAt, c.p.opts.FlushRows)
		w := write{table: schema.PacketsData, recs: c.packets}
		c.packets, c.pktRows = nil, 0
		if err := send(w); err != nil {
			return err
		}
	}
	tbs := []*tableBuilder{c.flows, c.events}
	for _, t := range c.aorder {
		tbs = append(tbs, c.atables[t])
	}
	for _, tb := range append(tbs, c.warns) {
		if tb.rows == 0 || (!final && tb.rows < tb.flush) {
			continue
		}
		if err := send(write{table: tb.table, recs: []arrow.RecordBatch{tb.take()}}); err != nil {
			return err
		}
	}
	return nil
}

func (c *collector) addBatch(b *batch) {
	s := &c.p.sum
	n := len(b.meta)
	if n > 0 {
		// Flow columns, then the packets record.
		c.flowCol.Reserve(n)
		c.dirCol.Reserve(n)
		for i := 0; i < n; i++ {
			if c.p.opts.Flows && b.dir[i] != tcpsession.DirNone {
				c.flowCol.UnsafeAppend(b.flowID[i])
				c.dirCol.UnsafeAppend(b.dir[i] == tcpsession.DirResp)
			} else {
				c.flowCol.UnsafeAppendBoolToBitmap(false)
				c.dirCol.UnsafeAppendBoolToBitmap(false)
			}
			m := &b.meta[i]
			if len(c.linkTypes) == 0 || m.linkType != c.linkTypes[len(c.linkTypes)-1] {
				c.seeLinkType(m.linkType)
			}
			if !m.noTs {
				if s.Timed == 0 || m.ts < s.FirstTs {
					s.FirstTs = m.ts
				}
				if s.Timed == 0 || m.ts > s.LastTs {
					s.LastTs = m.ts
				}
				s.Timed++
			}
			s.Packets++
			s.Bytes += int64(m.capLen)
		}
		cols := append(b.cols, c.flowCol.NewArray(), c.dirCol.NewArray())
		rec := array.NewRecordBatch(c.packetsSchema, cols, int64(n))
		for _, a := range cols {
			a.Release()
		}
		b.cols = nil
		c.packets = append(c.packets, rec)
		c.pktRows += n
	}
	for _, w := range b.warns {
		if c.full(w.kind) {
			continue // counted, not worded
		}
		w.detail = decodeWarnDetail(w.kind, b, w.frame)
		c.addWarning(w)
	}
	// Shard output: ordered by frame so row order does not depend on the
	// number of shards.
	var out shardRows
	for i := range b.shardOut {
		so := &b.shardOut[i]
		out.flows = append(out.flows, so.flows...)
		out.events = append(out.events, so.events...)
		out.rows = append(out.rows, so.rows...)
		out.warns = append(out.warns, so.warns...)
		out.endedEarly += so.endedEarly
	}
	if b.final {
		out.warns = mergePressure(out.warns, out.endedEarly)
	}
	sort.SliceStable(out.flows, func(i, j int) bool { return out.flows[i].FlowID < out.flows[j].FlowID })
	sort.SliceStable(out.events, func(i, j int) bool {
		return out.events[i].Frame < out.events[j].Frame
	})
	// Rows of one flow keep their order (an analyzer emits them in order).
	sort.SliceStable(out.rows, func(i, j int) bool { return out.rows[i].flowID < out.rows[j].flowID })
	sort.SliceStable(out.warns, func(i, j int) bool { return out.warns[i].frame < out.warns[j].frame })
	for _, f := range out.flows {
		c.addFlow(f)
	}
	for _, e := range out.events {
		c.addEvent(e)
	}
	for i := range out.rows {
		c.addRow(&out.rows[i])
	}
	for _, w := range out.warns {
		c.addWarning(w)
	}
	if b.tick {
		var open []*tcpsession.Flow
		for i := range b.shardOut {
			open = append(open, b.shardOut[i].open...)
		}
		sort.Slice(open, func(i, j int) bool { return open[i].FlowID < open[j].FlowID })
		for _, f := range open {
			c.addFlowTo(c.open, f)
		}
	}
}

// seeLinkType adds lt to the link types seen, in order of first appearance.
func (c *collector) seeLinkType(lt uint32) {
	for _, x := range c.linkTypes {
		if x == lt {
			return
		}
	}
	c.linkTypes = append(c.linkTypes, lt)
}

// kindFlowTablePressure is tcpsession's warning, at the end of a capture,
// that some flows ended before their close delay because MaxFlows flows
// were live; its detail starts with how many.
const kindFlowTablePressure = "flow_table_pressure"

// mergePressure makes the flow_table_pressure warnings of the shards one,
// with the total count: one row per capture, as with one shard.
func mergePressure(ws []warnRow, total int64) []warnRow {
	out := ws[:0]
	var first *warnRow
	for _, w := range ws {
		if w.kind != kindFlowTablePressure {
			out = append(out, w)
		} else if first == nil {
			first = &w
		}
	}
	if first == nil {
		return out
	}
	w := *first
	w.detail = strconv.FormatInt(total, 10) + strings.TrimLeft(w.detail, "0123456789")
	return append(out, w)
}

// full reports whether the warnings of kind have reached
// source.MaxWarningsPerKind, counting one more not written if so.
func (c *collector) full(kind string) bool {
	if c.warnKept[kind] < source.MaxWarningsPerKind {
		return false
	}
	c.warnNotWritten[kind]++
	return true
}

// addWarning writes w unless its kind is full.
func (c *collector) addWarning(w warnRow) {
	if c.full(w.kind) {
		return
	}
	c.warnKept[w.kind]++
	c.writeWarning(w)
}

func (c *collector) writeWarning(w warnRow) {
	tb := c.warns
	tb.col("capture_id").(*array.Int32Builder).Append(c.p.captureID)
	appendOptI64(tb.col("frame"), w.frame, w.frame > 0)
	appendOptI64(tb.col("file_offset"), w.offset, w.offset >= 0)
	tb.col("kind").(*array.StringBuilder).Append(w.kind)
	tb.col("detail").(*array.StringBuilder).Append(w.detail)
	tb.endRow()
	c.p.sum.Warnings++
}

func appendOptI64(b array.Builder, v int64, ok bool) {
	if ok {
		b.(*array.Int64Builder).Append(v)
	} else {
		b.AppendNull()
	}
}

// appendOptStr appends v, NULL when empty. Text from traffic need not be
// UTF-8: it is stored as schema.ValidText makes it.
func appendOptStr(b array.Builder, v string) {
	if v == "" {
		b.AppendNull()
	} else {
		b.(*array.StringBuilder).Append(schema.ValidText(v))
	}
}

func appendOptMs(b array.Builder, ns int64, ok bool) {
	if ok {
		b.(*array.Float64Builder).Append(float64(ns) / 1e6)
	} else {
		b.AppendNull()
	}
}

func (c *collector) addFlow(f *tcpsession.Flow) {
	c.addFlowTo(c.flows, f)
	c.p.sum.Flows++
}

// addFlowTo appends f to flows or flows_open, which have the same columns.
func (c *collector) addFlowTo(tb *tableBuilder, f *tcpsession.Flow) {
	tb.col("capture_id").(*array.Int32Builder).Append(c.p.captureID)
	tb.col("flow_id").(*array.Int64Builder).Append(f.FlowID)
	appendOptStr(tb.col("community_id"), f.CommunityID)
	tb.col("proto").(*array.StringBuilder).Append(f.Proto)
	tb.col("orig_h").(*array.StringBuilder).Append(f.OrigH.String())
	tb.col("orig_p").(*array.Uint16Builder).Append(f.OrigP)
	tb.col("resp_h").(*array.StringBuilder).Append(f.RespH.String())
	tb.col("resp_p").(*array.Uint16Builder).Append(f.RespP)
	if f.HasVLAN {
		tb.col("vlan").(*array.Uint16Builder).Append(f.VLAN)
	} else {
		tb.col("vlan").AppendNull()
	}
	tb.col("ts_start").(*array.TimestampBuilder).Append(arrow.Timestamp(f.TsStart))
	tb.col("ts_end").(*array.TimestampBuilder).Append(arrow.Timestamp(f.TsEnd))
	appendOptMs(tb.col("duration_ms"), f.TsEnd-f.TsStart, true)
	tb.col("orig_pkts").(*array.Int64Builder).Append(f.OrigPkts)
	tb.col("resp_pkts").(*array.Int64Builder).Append(f.RespPkts)
	tb.col("orig_bytes").(*array.Int64Builder).Append(f.OrigBytes)
	tb.col("resp_bytes").(*array.Int64Builder).Append(f.RespBytes)
	tb.col("orig_ip_bytes").(*array.Int64Builder).Append(f.OrigIPBytes)
	tb.col("resp_ip_bytes").(*array.Int64Builder).Append(f.RespIPBytes)
	tb.col("missed_bytes").(*array.Int64Builder).Append(f.MissedBytes)
	appendOptStr(tb.col("conn_state"), f.ConnState)
	tb.col("history").(*array.StringBuilder).Append(f.History)
	tb.col("syn_retries").(*array.Int64Builder).Append(f.SYNRetries)
	appendOptMs(tb.col("handshake_rtt_ms"), f.HandshakeRTTNs, f.HandshakeRTTNs >= 0)
	tb.col("retransmits").(*array.Int64Builder).Append(f.Retransmits)
	tb.col("first_frame").(*array.Int64Builder).Append(f.FirstFrame)
	tb.col("last_frame").(*array.Int64Builder).Append(f.LastFrame)
	appendOptStr(tb.col("service"), f.Service)
	tb.col("evicted").(*array.BooleanBuilder).Append(f.Evicted)
	tb.col("capped").(*array.BooleanBuilder).Append(f.Capped)
	tb.col("open").(*array.BooleanBuilder).Append(f.Open)
	tb.endRow()
}

func (c *collector) addEvent(e *tcpsession.Event) {
	tb := c.events
	tb.col("capture_id").(*array.Int32Builder).Append(c.p.captureID)
	tb.col("frame").(*array.Int64Builder).Append(e.Frame)
	tb.col("ts").(*array.TimestampBuilder).Append(arrow.Timestamp(e.Ts))
	tb.col("flow_id").(*array.Int64Builder).Append(e.FlowID)
	appendOptStr(tb.col("direction"), e.Dir.String())
	tb.col("kind").(*array.StringBuilder).Append(e.Kind)
	tb.col("seq").(*array.Uint32Builder).Append(e.Seq)
	tb.col("seg_len").(*array.Int32Builder).Append(int32(e.SegLen))
	appendOptI64(tb.col("orig_frame"), e.OrigFrame, e.OrigFrame > 0)
	appendOptMs(tb.col("since_orig_ms"), e.SinceOrigNs, e.OrigFrame > 0 && e.SinceOrigNs >= 0)
	tb.endRow()
	c.p.sum.Events++
}

// addRow appends one row of a protocol analyzer's table. The row type
// appends itself (analyzers.Table); the collector knows no table.
func (c *collector) addRow(r *analyzerRow) {
	tb := c.atables[r.table]
	if tb == nil {
		// Rows with every header (http, about 1.5 KB each in the benchmark
		// capture) or a body are written in smaller groups, so what waits
		// in Arrow stays bounded.
		flush := 1 << 12
		if r.table.Schema == schema.HTTPBodies {
			flush = 1 << 6
		}
		tb = newTableBuilder(c.mem, r.table.Schema, flush)
		c.atables[r.table] = tb
		c.aorder = append(c.aorder, r.table)
	}
	r.table.Append(tb.rb, c.p.captureID, r.row)
	tb.rows++
	if r.table.Schema == schema.HTTPData {
		c.p.sum.HTTP++
	}
}
