package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"golang.org/x/term"

	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
	"github.com/pcapq/pcapq/source/live"
)

// liveSink is the ingest.Committer of a capture whose rows are visible
// while it runs (a live capture, an ingest from a pipe): rows go to the
// database's open transaction, and every commit interval the flows not
// ended yet, the drops libpcap counted and the captures row are written
// and committed.
type liveSink struct {
	db   *query.DB
	src  *live.Source // nil for a pipe
	base live.Stats   // libpcap's counters when the segment started
	row  query.CaptureRow
	rot  rotation
	path string

	dropped, ifDropped int64 // drops already warned about
	extraWarnings      int64 // capture_dropped rows written

	last     atomic.Pointer[ingest.Summary] // at the last commit, for the status line
	lastOpen atomic.Int64                   // flows_open rows at the last commit
}

func (s *liveSink) Write(t *schema.Table, recs []arrow.RecordBatch) error { return s.db.Write(t, recs) }

// Commit implements ingest.Committer.
func (s *liveSink) Commit(sum ingest.Summary, open []arrow.RecordBatch) error {
	s.fill(sum)
	warns := s.dropWarnings()
	s.row.Warnings = sum.Warnings + s.extraWarnings
	if err := s.db.CommitLive(context.Background(), s.row, open, warns, false); err != nil {
		return err
	}
	var n int64
	for _, r := range open {
		n += r.NumRows()
	}
	s.lastOpen.Store(n)
	s.last.Store(&sum)
	if s.rot.size > 0 && s.src != nil && fileSize(s.path)+fileSize(s.path+".wal") >= s.rot.size {
		s.src.Cut()
	}
	return nil
}

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// fill copies the counts of sum and libpcap's counters (since the segment
// began) into the captures row.
func (s *liveSink) fill(sum ingest.Summary) {
	r := &s.row
	r.LinkTypes = r.LinkTypes[:0]
	for _, lt := range sum.LinkTypes {
		r.LinkTypes = append(r.LinkTypes, source.LinkTypeName(lt))
	}
	r.Packets, r.Bytes, r.FirstTs, r.LastTs, r.Timed = sum.Packets, sum.Bytes, sum.FirstTs, sum.LastTs, sum.Timed
	if s.src != nil {
		st := s.src.Stats()
		r.Stats = &query.CaptureStats{
			Received:  st.Received - s.base.Received,
			Dropped:   st.Dropped - s.base.Dropped,
			IfDropped: st.IfDropped - s.base.IfDropped,
		}
	}
}

// dropWarnings returns a capture_dropped warning when libpcap counted new
// drops since the last one.
func (s *liveSink) dropWarnings() []query.Warning {
	st := s.row.Stats
	if st == nil || st.Dropped <= s.dropped && st.IfDropped <= s.ifDropped {
		return nil
	}
	w := query.Warning{Kind: "capture_dropped", Detail: fmt.Sprintf(
		"%d packets dropped by the kernel (its capture buffer was full: raise --buffer-size, or capture less with -f) and %d by the interface since the last warning; %d and %d since the capture began, of %d received",
		st.Dropped-s.dropped, st.IfDropped-s.ifDropped, st.Dropped, st.IfDropped, st.Received)}
	s.dropped, s.ifDropped = st.Dropped, st.IfDropped
	s.extraWarnings++
	return []query.Warning{w}
}

// status draws the live line on a terminal once a second: packets, rate,
// drops, flows, HTTP. It returns the function that stops it.
func (s *liveSession) status() (stop func()) {
	f, ok := s.g.stderr.(*os.File)
	if s.g.Quiet || !ok || !term.IsTerminal(int(f.Fd())) {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Second)
		defer t.Stop()
		var lastPkts int64
		lastAt := time.Now()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			s.mu.Lock()
			sink := s.sink
			total := s.total
			s.mu.Unlock()
			st := s.src.Stats()
			var sum ingest.Summary
			var open int64
			if sink != nil {
				if p := sink.last.Load(); p != nil {
					sum = *p
				}
				open = sink.lastOpen.Load()
			}
			now := time.Now()
			rate := float64(st.Captured-lastPkts) / now.Sub(lastAt).Seconds()
			lastPkts, lastAt = st.Captured, now
			s.drawStatus(f, fmt.Sprintf("%s: %d packets, %.0f/s, %d dropped (kernel %d, interface %d), %d flows (%d open), %d HTTP, %s",
				query.Escape(s.src.Interface()), st.Captured, rate, st.Dropped+st.IfDropped, st.Dropped, st.IfDropped,
				total.Flows+sum.Flows, open, total.HTTP+sum.HTTP, time.Since(s.start).Round(time.Second)))
		}
	}()
	var once atomic.Bool
	return func() {
		if once.Swap(true) {
			return
		}
		close(done)
		<-finished
		s.clearStatus()
	}
}

func (s *liveSession) drawStatus(w io.Writer, line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	fmt.Fprintf(w, "\r\x1b[K%s", line)
	s.drawn = true
}

func (s *liveSession) clearStatus() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.drawn {
		fmt.Fprint(s.g.stderr, "\r\x1b[K")
		s.drawn = false
	}
}
