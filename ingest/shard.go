package ingest

import (
	"context"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/tcpsession"
)

// warnRow is one row of the warnings table before it is built.
type warnRow struct {
	frame  int64 // 0: not tied to a frame
	offset int64 // -1: unknown
	kind   string
	detail string
}

// shardRows is what one shard produced while processing one batch. The
// shard hands it over inside the batch, so the collector owns it without
// locks once the batch's pending count reaches zero.
type shardRows struct {
	flows  []*tcpsession.Flow
	events []*tcpsession.Event
	rows   []analyzerRow // rows of the protocol analyzers' tables
	warns  []warnRow
	// endedEarly, in the final batch, is the tracker's count of flows
	// ended before their close delay because its MaxFlows was reached.
	endedEarly int64
	open       []*tcpsession.Flow // snapshot of the flows not ended, on a tick batch
}

// shard owns the flows whose hash falls in its slot: a Tracker with its own
// state, no locks shared with other shards.
type shard struct {
	id, n   int
	tracker *tcpsession.Tracker
	udp     *analyzers.UDP // UDP analyzers' flows, nil when none run
	env     analyzers.Env
	out     shardRows
	lastTs  int64
	// snapshot: on a tick batch, hand over the flows not ended yet.
	snapshot bool
}

func newShard(id, n int, opts Options) *shard {
	s := &shard{id: id, n: n}
	so := opts.Session
	// The session bounds are totals for the run: each shard gets its
	// share, so that the shards together hold no more (see
	// Options.Session).
	so.MaxFlows = shareOf(so.MaxFlows, tcpsession.DefaultOptions().MaxFlows, id, n)
	so.MaxBufferedBytes = shareOf(so.MaxBufferedBytes, tcpsession.DefaultOptions().MaxBufferedBytes, id, n)
	if set := opts.analyzerSet(); set != nil {
		s.env = analyzers.Env{
			Emit: func(t *analyzers.Table, flowID int64, row any) {
				s.out.rows = append(s.out.rows, analyzerRow{t, flowID, row})
			},
			Warn: func(frame int64, kind, detail string) {
				s.out.warns = append(s.out.warns, warnRow{frame: frame, offset: -1, kind: kind, detail: detail})
			},
			KeepBodies: opts.HTTPOptions.KeepBodies,
			MaxBody:    opts.HTTPOptions.MaxBodyKeep,
		}
		so.NewStream = set.NewStream(&s.env)
		s.udp = set.NewUDP(&s.env)
	}
	s.tracker = tcpsession.NewTracker(so, (*shardSessionSink)(s))
	return s
}

// analyzerRow is a row of an analyzer's table, with the flow that orders it.
type analyzerRow struct {
	table  *analyzers.Table
	flowID int64
	row    any
}

// shareOf is shard id's part of total (def when total is not positive)
// split across n shards: the parts differ by at most one and add up to
// total, and none is below 1 (so a total under n gives each shard 1).
func shareOf[T int | int64](total, def T, id, n int) T {
	if total <= 0 {
		total = def
	}
	part := total / T(n)
	if T(id) < total%T(n) {
		part++
	}
	return max(part, 1)
}

// run tracks the shard's packets of every batch, in order. It marks every
// batch it receives done, even after cancellation (it then skips the
// work), until the dispatcher closes in: the collector waits on each
// batch, so a shard that stopped early could leave it waiting forever.
func (s *shard) run(ctx context.Context, in <-chan *batch) error {
	n := uint64(s.n)
	id := uint64(s.id)
	for b := range in {
		if ctx.Err() == nil {
			if b.final {
				s.tracker.Close(s.lastTs)
				s.out.endedEarly = s.tracker.Stats().EndedEarly
			}
			for i := range b.meta {
				// Capture time is the whole input's, every shard's
				// packets included: Close(s.lastTs) then ends idle
				// flows as one tracker would (same rows for any
				// worker count).
				ts := b.meta[i].ts
				if ts > s.lastTs {
					s.lastTs = ts
				}
				if b.hash[i]%n != id {
					continue
				}
				if pk := b.flowPkt[i]; pk != nil {
					b.flowID[i], b.dir[i] = s.tracker.Process(b.firstFrame+int64(i), ts, pk)
					if s.udp != nil && pk.IPProto == 17 && pk.HasPorts && b.dir[i] != tcpsession.DirNone && s.udp.Wants(pk.SrcPort, pk.DstPort) {
						s.udp.Packet(b.flowID[i], b.dir[i], pk, ts, b.firstFrame+int64(i))
					}
				} else {
					b.flowID[i], b.dir[i] = 0, tcpsession.DirNone
				}
			}
			if b.tick && s.snapshot {
				s.tracker.Snapshot(func(f *tcpsession.Flow) { s.out.open = append(s.out.open, f) })
			}
			b.shardOut[s.id] = s.out
			s.out = shardRows{}
		}
		b.pending.Done()
	}
	return ctx.Err()
}

type shardSessionSink shard

func (s *shardSessionSink) Flow(f *tcpsession.Flow) {
	if s.udp != nil && f.Proto == "udp" {
		// The flow ended: its UDP analyzer emits what it holds.
		f.Service = s.udp.End(f.FlowID, f.TsEnd)
	}
	s.out.flows = append(s.out.flows, f)
}
func (s *shardSessionSink) Event(e *tcpsession.Event) { s.out.events = append(s.out.events, e) }
func (s *shardSessionSink) Warning(frame int64, kind, detail string) {
	s.out.warns = append(s.out.warns, warnRow{frame: frame, offset: -1, kind: kind, detail: detail})
}
