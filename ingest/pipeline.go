package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/sync/errgroup"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/analyzers/all"
	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/httpextract"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
	"github.com/pcapq/pcapq/tcpsession"
)

// Sink receives finished Arrow record batches, one table at a time, from a
// single goroutine. It must not keep recs after returning; the pipeline
// releases them.
type Sink interface {
	Write(t *schema.Table, recs []arrow.RecordBatch) error
}

// Options configure a pipeline run.
type Options struct {
	// Workers is the number of decode workers and of flow shards; 0 means
	// runtime.GOMAXPROCS(0). At most MaxWorkers are used. Results are
	// identical for any value while the flow bounds of Session hold (see
	// there for what may differ when they are reached).
	Workers int
	// BatchPackets is the number of packets per batch (default 4096).
	BatchPackets int
	// FlushRows is how many packet rows are gathered before a write to the
	// sink (default 32768). With one write queued and one being written,
	// this bounds the Arrow memory waiting for the sink.
	FlushRows int
	// Flows turns on flow tracking, TCP analysis and reassembly.
	Flows bool
	// HTTP turns on HTTP extraction (needs Flows), and with it WebSocket
	// (which HTTP hands upgraded connections to).
	HTTP bool
	// Protocols turns on the other protocol analyzers of analyzers/all
	// (DNS, TLS; needs Flows).
	Protocols bool
	// Analyzers, when set, replaces the analyzers HTTP and Protocols
	// choose (tests).
	Analyzers []*analyzers.Analyzer
	// Session and HTTPOptions tune the trackers and the HTTP parser.
	// Session.MaxFlows and Session.MaxBufferedBytes are totals for the
	// run: each of the Workers flow shards tracks the flows whose hash it
	// owns with an equal share of them (at least one flow and one byte),
	// so together they never hold more. While no shard reaches its share,
	// every table holds the same rows for any number of workers. Past it,
	// a shard ends or evicts its own least recently active flows (and
	// skips its own oldest reassembly holes), so which flows are evicted
	// or capped (their rows, the flow_id and direction of their packets,
	// their flow_table_full and reassembly_buffer_limit warnings) and the
	// count in the one flow_table_pressure warning may differ with the
	// number of workers, as may the order of rows. The other packets
	// columns never do, every packet with a flow is counted in exactly
	// one flow row, and flows that only end early (closed connections
	// and unanswered attempts, such as a SYN flood's) have the same rows.
	Session     tcpsession.Options
	Defrag      tcpsession.DefragOptions
	HTTPOptions httpextract.Options
	// Progress, when set, is called from the collector after every batch.
	Progress func(Progress)
	// Alloc is the Arrow allocator; batch buffers come from it too.
	// Default: a pool of Go memory for the run that reuses the buffers
	// of released batches. NewAllocator makes one backed by a huge-page
	// arena, to share between runs (pcapq's command does).
	Alloc memory.Allocator

	batchBuf int // bytes of each batch's buffer (default batchBufSize); small in fuzz tests

	// FlushInterval, when set, makes rows visible while the run goes on
	// (a live capture, a pipe): every interval the packets read so far go
	// down the pipeline however few, every table is flushed to the sink,
	// and a sink that is a Committer gets Commit with the flows not ended
	// yet. 0 (files) flushes by size only.
	FlushInterval time.Duration
}

// Committer is a Sink that makes what it was given visible (commits)
// when the pipeline asks, every Options.FlushInterval. open holds the
// flows_open rows: the flows tracked but not ended, as they stand now
// (nil without flow tracking); they replace the ones of the last Commit.
// sum counts what was handed to the sink so far; its Format, Complete
// and ReadErr are not set until the run ends. Commit must not keep open.
type Committer interface {
	Sink
	Commit(sum Summary, open []arrow.RecordBatch) error
}

// DefaultOptions has flows and HTTP on.
func DefaultOptions() Options {
	return Options{
		Flows:       true,
		HTTP:        true,
		Protocols:   true,
		Session:     tcpsession.DefaultOptions(),
		Defrag:      tcpsession.DefaultDefragOptions(),
		HTTPOptions: httpextract.DefaultOptions(),
	}
}

// Progress is a snapshot of a run, for progress bars.
type Progress struct {
	Packets   int64
	BytesRead int64 // bytes consumed from the input file (compressed, when it is)
}

// Summary is what a run produced for one capture.
type Summary struct {
	Format    string
	LinkTypes []uint32
	Packets   int64
	Bytes     int64 // sum of cap_len
	// FirstTs and LastTs are the earliest and latest packet times among
	// the Timed packets that have one (0 when none has).
	FirstTs int64
	LastTs  int64
	Timed   int64
	// Warnings is the rows written to the warnings table. Past the first
	// source.MaxWarningsPerKind of a kind, warnings are not written but counted
	// in WarningsNotWritten, and one KindWarningsNotWritten row per such
	// kind says how many.
	Warnings           int64
	WarningsNotWritten int64
	Flows              int64
	Events             int64
	HTTP               int64
	Defrag             tcpsession.DefragStats
	// Complete is false when the reader stopped on damage (ReadErr set).
	Complete bool
	// ReadErr is the *source.FormatError that stopped reading early, if
	// any. The rows before it were all written.
	ReadErr error
}

// recMeta is a Record without its data: the data lives in batch.buf.
type recMeta struct {
	ts       int64 // with noTs, the time of the last earlier record with one (for flow tracking)
	offset   int64
	capLen   int32
	origLen  int32
	iface    int32
	linkType uint32
	start    int32
	noTs     bool // the record has no time: packets.ts is NULL
}

// batch is the unit passed between stages: a run of consecutive packets.
type batch struct {
	seq        int64
	firstFrame int64
	final      bool // no packets: tells the shards to close their trackers
	tick       bool // FlushInterval passed: flush every table, snapshot the open flows, commit
	meta       []recMeta
	buf        []byte
	home       []byte // buf as allocated: a record larger than it grows buf, reset goes back
	pkts       []decode.Packet
	hash       []uint64
	flowPkt    []*decode.Packet // what the shards track: &pkts[i], a reassembled datagram, or nil (a fragment held for reassembly)
	flowID     []int64
	dir        []tcpsession.Dir
	cols       []arrow.Array // packets columns built by the decode worker, flow columns excluded
	warns      []warnRow
	shardOut   []shardRows
	pending    sync.WaitGroup
	bytesRead  int64
}

const batchBufSize = 4 << 20

func (b *batch) reset() {
	b.meta = b.meta[:0]
	// A record larger than the buffer (up to source.MaxRecordLen) may have grown
	// it: do not keep that much per pooled batch for the rest of the run.
	b.buf = b.home[:0]
	b.warns = b.warns[:0]
	b.final = false
	b.tick = false
	for i := range b.shardOut {
		b.shardOut[i] = shardRows{}
	}
}

// Run reads every record of r, decodes it, tracks flows and HTTP, and
// writes Arrow batches of every table to sink, tagged with captureID. It
// returns when r is exhausted, on a sink error, or when ctx is cancelled
// (r is interrupted then, so that a Next that waits or reads far without
// a record returns). A damaged capture is not an error: Summary.ReadErr
// says where reading stopped, and everything before it was written. Run
// does not close r.
func Run(ctx context.Context, r source.Reader, captureID int32, sink Sink, opts Options) (Summary, error) {
	p := &pipeline{r: r, captureID: captureID, sink: sink, opts: opts.withDefaults()}
	return p.run(ctx)
}

// MaxWorkers bounds Options.Workers. Each worker costs two more batches
// in flight (a 4 MiB buffer and per-packet state for BatchPackets
// packets, about 6 MiB), a decode worker and a flow shard: measured peak
// RSS of a full ingest of 636k full-size packets was 237 MB with 2
// workers, 442 MB with 16, 616 MB with 32 and 995 MB with 64. The one
// DuckDB writer is the slowest stage, so more workers than CPUs (or than
// a few) only add memory.
const MaxWorkers = 32

// defaultMaxPooled bounds the bytes the default allocator keeps for reuse:
// a few flushes' worth of columns of every table.
const defaultMaxPooled = 128 << 20

// withDefaults fills the zero fields of o.
func (o Options) withDefaults() Options {
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	o.Workers = min(o.Workers, MaxWorkers)
	if o.BatchPackets <= 0 {
		o.BatchPackets = 4096
	}
	if o.FlushRows <= 0 {
		o.FlushRows = 1 << 15
	}
	if o.batchBuf <= 0 {
		o.batchBuf = batchBufSize
	}
	if o.Alloc == nil {
		o.Alloc = newPoolAllocator(defaultMaxPooled)
	}
	if o.HTTP || o.Protocols || o.Analyzers != nil {
		o.Flows = true
	}
	return o
}

// analyzerSet returns the protocol analyzers the options turn on, nil
// when none.
func (o Options) analyzerSet() *analyzers.Set {
	as := o.Analyzers
	if as == nil {
		for _, a := range all.Analyzers(o.HTTPOptions) {
			web := webAnalyzer(a.Name)
			if web && o.HTTP || !web && o.Protocols {
				as = append(as, a)
			}
		}
	}
	if len(as) == 0 {
		return nil
	}
	return analyzers.NewSet(as)
}

// webAnalyzer reports whether Options.HTTP turns the analyzer named on
// (else Options.Protocols does).
func webAnalyzer(name string) bool { return name == "http" || name == "websocket" }

// ProtocolAnalyzers lists the analyzers Options.Protocols turns on (all but
// HTTP and WebSocket) and the tables they write.
func ProtocolAnalyzers() (names, tables []string) {
	for _, a := range all.Analyzers(httpextract.DefaultOptions()) {
		if webAnalyzer(a.Name) {
			continue
		}
		names = append(names, a.Name)
		for _, t := range a.Tables {
			tables = append(tables, t.Schema.Name)
		}
	}
	return names, tables
}

// runWith is Run for tests that look at the pipeline afterwards.
func runWith(ctx context.Context, r source.Reader, sink Sink, opts Options, see func(*pipeline)) (Summary, error) {
	p := &pipeline{r: r, captureID: 1, sink: sink, opts: opts.withDefaults()}
	see(p)
	return p.run(ctx)
}

type pipeline struct {
	r         source.Reader
	captureID int32
	sink      Sink
	opts      Options
	// committer is sink as a Committer when it is one and FlushInterval
	// is set: tick batches then carry open-flow snapshots and commits.
	committer Committer

	free chan *batch
	sum  Summary
	// lastTs is the time of the last record with a time: a record
	// without one is tracked at it, so flows and timeouts go on in
	// capture order.
	lastTs int64
	// warnedFrames maps the offset of each record the reader kept a
	// warning about to its frame (at most MaxWarningsPerKind a kind):
	// written by read, read by collect after the final batch.
	warnedFrames map[int64]int64
}

func (p *pipeline) run(ctx context.Context) (Summary, error) {
	if c, ok := p.sink.(Committer); ok && p.opts.FlushInterval > 0 {
		p.committer = c
	}
	w := p.opts.Workers
	g, ctx := errgroup.WithContext(ctx)
	nbatch := 2*w + 4
	p.free = make(chan *batch, nbatch)
	var homes [][]byte
	for i := 0; i < nbatch; i++ {
		home := p.opts.Alloc.Allocate(p.opts.batchBuf)
		homes = append(homes, home)
		p.free <- &batch{
			meta:     make([]recMeta, 0, p.opts.BatchPackets),
			buf:      home[:0],
			home:     home,
			pkts:     make([]decode.Packet, p.opts.BatchPackets),
			hash:     make([]uint64, p.opts.BatchPackets),
			flowPkt:  make([]*decode.Packet, p.opts.BatchPackets),
			flowID:   make([]int64, p.opts.BatchPackets),
			dir:      make([]tcpsession.Dir, p.opts.BatchPackets),
			shardOut: make([]shardRows, w),
		}
	}
	toDecode := make(chan *batch, w)
	decoded := make(chan *batch, nbatch)
	toCollect := make(chan *batch, nbatch)
	// One write may wait while the sink works on another: when DuckDB is
	// the slower stage, decoding waits instead of piling batches up.
	writes := make(chan write, 1)

	// Flow shards (none without flow tracking: batches then go straight
	// to the collector).
	var shardIn []chan *batch
	if p.opts.Flows {
		for i := 0; i < w; i++ {
			in := make(chan *batch, nbatch)
			shardIn = append(shardIn, in)
			s := newShard(i, w, p.opts)
			s.snapshot = p.committer != nil
			g.Go(func() error { return s.run(ctx, in) })
		}
	}

	g.Go(func() error { defer close(toDecode); return p.read(ctx, toDecode) })
	var decWG sync.WaitGroup
	for i := 0; i < w; i++ {
		decWG.Add(1)
		g.Go(func() error {
			defer decWG.Done()
			return p.decode(ctx, toDecode, decoded)
		})
	}
	g.Go(func() error { decWG.Wait(); close(decoded); return nil })
	g.Go(func() error {
		defer close(toCollect)
		defer func() {
			for _, c := range shardIn {
				close(c)
			}
		}()
		return p.dispatch(ctx, decoded, shardIn, toCollect)
	})
	g.Go(func() error { defer close(writes); return p.collect(ctx, toCollect, writes) })
	g.Go(func() error { return p.write(ctx, writes) })
	err := g.Wait()
	if err == nil {
		// Every batch is back in p.free: their buffers go back to the pool.
		for _, h := range homes {
			p.opts.Alloc.Free(h)
		}
	}
	if err != nil {
		// Drain anything left so Arrow memory is released.
		for {
			select {
			case wr, ok := <-writes:
				if !ok {
					return p.sum, err
				}
				wr.release()
			default:
				return p.sum, err
			}
		}
	}
	p.sum.Complete = p.sum.ReadErr == nil
	return p.sum, nil
}

// read fills batches from the reader, copying record data into the batch.
// With FlushInterval set, a ticker sends the batch being filled (an empty
// one when no packet came) every interval, marked tick; mu then guards the
// batch, which the ticker and the reading loop share.
func (p *pipeline) read(ctx context.Context, out chan<- *batch) error {
	var rec source.Record
	var seq int64
	frame := int64(1)
	var b *batch
	var mu sync.Mutex
	// A source may go long without returning a record (a live capture
	// waits for packets, a file reader skips blocks or decompresses a
	// stream of no packets): when the run is cancelled or fails, it is
	// interrupted, so the run ends promptly. Only while this goroutine
	// reads: a run that ends well leaves its source as it is (a live
	// capture goes on into the next run).
	defer context.AfterFunc(ctx, func() { p.r.Interrupt(ctx.Err()) })()
	get := func() error {
		select {
		case b = <-p.free:
			b.reset()
			b.seq = seq
			b.firstFrame = frame
			seq++
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	send := func() error {
		b.bytesRead = p.r.BytesRead()
		select {
		case out <- b:
			b = nil
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	ticking := p.opts.FlushInterval > 0
	var stopTicker func() error
	if ticking {
		stopTicker = p.ticker(ctx, &mu, &b, get, send)
	}
	for {
		err := p.r.Next(&rec)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				var fe *source.FormatError
				if !errors.As(err, &fe) {
					if ticking {
						stopTicker()
					}
					return err // I/O error: the run fails
				}
				p.sum.ReadErr = err
			}
			break
		}
		if ticking {
			mu.Lock()
		}
		if err := p.add(&rec, &b, get, send); err != nil {
			if ticking {
				mu.Unlock()
				stopTicker()
			}
			return err
		}
		if rec.Warned {
			if p.warnedFrames == nil {
				p.warnedFrames = make(map[int64]int64)
			}
			p.warnedFrames[rec.Offset] = frame
		}
		frame++
		if ticking {
			mu.Unlock()
		}
	}
	if ticking {
		if err := stopTicker(); err != nil {
			return err
		}
	}
	if b != nil {
		if err := send(); err != nil {
			return err
		}
	}
	// The final marker closes the trackers.
	if err := get(); err != nil {
		return err
	}
	b.final = true
	return send()
}

// add copies rec into the batch *b, sending the batch first when rec does
// not fit and getting a new one when there is none.
func (p *pipeline) add(rec *source.Record, b **batch, get, send func() error) error {
	if *b != nil && (len((*b).meta) == p.opts.BatchPackets || len((*b).buf)+len(rec.Data) > cap((*b).buf) && len((*b).meta) > 0) {
		if err := send(); err != nil {
			return err
		}
	}
	if *b == nil {
		if err := get(); err != nil {
			return err
		}
	}
	bt := *b
	start := len(bt.buf)
	bt.buf = append(bt.buf, rec.Data...)
	if !rec.NoTs {
		p.lastTs = rec.Ts
	}
	bt.meta = append(bt.meta, recMeta{
		ts: p.lastTs, offset: rec.Offset, capLen: int32(rec.CapLen), origLen: int32(rec.OrigLen),
		iface: int32(rec.Iface), linkType: rec.LinkType, start: int32(start), noTs: rec.NoTs,
	})
	return nil
}

// ticker sends the batch being filled every FlushInterval, marked tick,
// until the returned stop is called; stop returns the ticker's error.
func (p *pipeline) ticker(ctx context.Context, mu *sync.Mutex, b **batch, get, send func() error) (stop func() error) {
	quit := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		t := time.NewTicker(p.opts.FlushInterval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				done <- nil
				return
			case <-ctx.Done():
				done <- ctx.Err()
				return
			case <-t.C:
			}
			mu.Lock()
			err := error(nil)
			if *b == nil {
				err = get()
			}
			if err == nil {
				(*b).tick = true
				err = send()
			}
			mu.Unlock()
			if err != nil {
				done <- err
				return
			}
		}
	}()
	return func() error {
		close(quit)
		return <-done
	}
}

// decode decodes every packet of a batch and builds its Arrow columns.
func (p *pipeline) decode(ctx context.Context, in <-chan *batch, out chan<- *batch) error {
	pb := newPacketBuilder(p.opts.Alloc, p.captureID)
	defer pb.release()
	for b := range in {
		for i := range b.meta {
			m := &b.meta[i]
			data := b.buf[m.start : int(m.start)+int(m.capLen)]
			pk := &b.pkts[i]
			decode.Decode(decode.LinkType(m.linkType), data, int(m.origLen), pk)
			b.hash[i] = pk.FlowHash()
			if pk.Warn != "" {
				b.warns = append(b.warns, warnRow{frame: b.firstFrame + int64(i), offset: m.offset + int64(pk.WarnOffset), kind: pk.Warn})
			}
		}
		if len(b.meta) > 0 {
			b.cols = pb.build(b)
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// dispatch restores batch order and hands each batch to every shard (each
// shard processes only the packets whose flow hash it owns) and to the
// collector.
func (p *pipeline) dispatch(ctx context.Context, in <-chan *batch, shards []chan *batch, collect chan<- *batch) error {
	var defrag *tcpsession.Defragmenter
	if p.opts.Flows {
		defrag = tcpsession.NewDefragmenter(p.opts.Defrag)
		defer func() { p.sum.Defrag = defrag.Stats() }()
	}
	pending := map[int64]*batch{}
	var next int64
	for b := range in {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if defrag != nil {
				reassemble(b, defrag)
			}
			b.pending.Add(len(shards))
			for _, c := range shards {
				select {
				case c <- b:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			select {
			case collect <- b:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// reassemble routes IP fragments through the defragmenter, in capture
// order: a fragment is held (no flow), and the frame that completes a
// datagram carries the whole datagram to the shards.
func reassemble(b *batch, d *tcpsession.Defragmenter) {
	for i := range b.meta {
		pk := &b.pkts[i]
		if !pk.IsFragment {
			b.flowPkt[i] = pk
			continue
		}
		b.flowPkt[i] = nil
		m := &b.meta[i]
		data := b.buf[m.start : int(m.start)+int(m.capLen)]
		end := pk.IPOffset + pk.IPHeaderLen + pk.IPPayloadLen
		if end > len(data) {
			end = len(data)
		}
		if pk.IPOffset >= end {
			continue
		}
		dg, done := d.Add(m.ts, pk, data[pk.IPOffset:end])
		if !done {
			continue
		}
		// Rare: the datagram gets its own buffer, kept alive by the Packet.
		whole := &decode.Packet{}
		decode.Decode(decode.LinkRaw, append([]byte(nil), dg...), len(dg), whole)
		whole.HasEth, whole.EthSrc, whole.EthDst = pk.HasEth, pk.EthSrc, pk.EthDst
		whole.HasVLAN, whole.VLAN = pk.HasVLAN, pk.VLAN
		b.flowPkt[i] = whole
		b.hash[i] = whole.FlowHash()
	}
}

type write struct {
	table *schema.Table
	recs  []arrow.RecordBatch
	// commit, when set, makes this a Commit: recs are the open flows.
	commit *Summary
}

func (w write) release() {
	for _, r := range w.recs {
		r.Release()
	}
}

// write hands finished batches to the sink.
func (p *pipeline) write(ctx context.Context, in <-chan write) error {
	for w := range in {
		if err := ctx.Err(); err != nil {
			w.release()
			return err
		}
		if w.commit != nil {
			err := p.committer.Commit(*w.commit, w.recs)
			w.release()
			if err != nil {
				return fmt.Errorf("commit: %w", err)
			}
			continue
		}
		err := p.sink.Write(w.table, w.recs)
		w.release()
		if err != nil {
			return fmt.Errorf("writing %s: %w", w.table.Name, err)
		}
	}
	return nil
}
