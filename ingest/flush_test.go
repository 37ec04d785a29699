package ingest

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
)

// jsonSink keeps every row written, as JSON lines per table, and every
// Commit: what had been written by then and the open flows.
type jsonSink struct {
	mu      sync.Mutex
	rows    map[string]*bytes.Buffer
	counts  map[string]int64
	commits []commitSeen
}

type commitSeen struct {
	at      time.Time
	sum     Summary
	packets int64 // packets rows written before the commit
	open    int64
}

func newJSONSink() *jsonSink {
	return &jsonSink{rows: map[string]*bytes.Buffer{}, counts: map[string]int64{}}
}

func (s *jsonSink) Write(t *schema.Table, recs []arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.rows[t.Name]
	if b == nil {
		b = &bytes.Buffer{}
		s.rows[t.Name] = b
	}
	for _, r := range recs {
		if err := array.RecordToJSON(r, b); err != nil {
			return err
		}
		s.counts[t.Name] += r.NumRows()
	}
	return nil
}

func (s *jsonSink) Commit(sum Summary, open []arrow.RecordBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := commitSeen{at: time.Now(), sum: sum, packets: s.counts["packets_data"]}
	for _, r := range open {
		if r.Schema().Field(r.Schema().FieldIndices("open")[0]).Name != "open" {
			return fmt.Errorf("open flows without an open column")
		}
		c.open += r.NumRows()
	}
	s.commits = append(s.commits, c)
	return nil
}

func (s *jsonSink) lastCommit() (commitSeen, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.commits) == 0 {
		return commitSeen{}, 0
	}
	return s.commits[len(s.commits)-1], len(s.commits)
}

// pacedReader hands out the records of a capture, stopping after the
// first pause records until resume is closed: a link that goes quiet.
type pacedReader struct {
	source.Reader
	n      int
	pause  int
	paused chan time.Time // receives the time the pause began
	resume chan struct{}
}

func (p *pacedReader) Next(r *source.Record) error {
	if p.n == p.pause {
		p.paused <- time.Now()
		<-p.resume
	}
	p.n++
	return p.Reader.Next(r)
}

// TestFlushInterval: with FlushInterval set, packets read before the link
// goes quiet reach the sink and a Commit within two intervals, though far
// fewer than a batch; commits carry the open flows; and the run's rows are
// exactly those of a run without it.
func TestFlushInterval(t *testing.T) {
	const path = "../testdata/mkcapture-small.pcap"
	const interval = 100 * time.Millisecond
	paused := make(chan time.Time, 1)
	run := func(opts Options, pause int, resume chan struct{}, see func(*jsonSink)) (*jsonSink, Summary) {
		r, err := source.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		var rd source.Reader = r
		if resume != nil {
			rd = &pacedReader{Reader: r, pause: pause, paused: paused, resume: resume}
		}
		sink := newJSONSink()
		done := make(chan struct{})
		var sum Summary
		go func() {
			defer close(done)
			sum, err = Run(context.Background(), rd, 1, sink, opts)
		}()
		if see != nil {
			see(sink)
		}
		<-done
		if err != nil {
			t.Fatal(err)
		}
		return sink, sum
	}
	opts := DefaultOptions()
	opts.Workers = 2
	want, wantSum := run(opts, 0, nil, nil)

	opts.FlushInterval = interval
	const pause = 300 // packets before the link goes quiet: well under a batch
	resume := make(chan struct{})
	got, gotSum := run(opts, pause, resume, func(s *jsonSink) {
		start := <-paused
		for {
			c, n := s.lastCommit()
			if n > 0 && c.sum.Packets == pause {
				if c.packets != pause {
					t.Errorf("commit says %d packets, %d packets rows were written before it", c.sum.Packets, c.packets)
				}
				if c.open == 0 {
					t.Errorf("commit at packet %d has no open flows", pause)
				}
				if el := c.at.Sub(start); el > 2*interval+50*time.Millisecond {
					t.Errorf("the %d packets before the pause were committed after %v, want within %v", pause, el, 2*interval)
				}
				break
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("no commit of the %d packets before the pause within 5 s (last commit: %+v)", pause, c.sum)
			}
			time.Sleep(5 * time.Millisecond)
		}
		// Quiet: commits go on, with nothing new.
		_, n0 := s.lastCommit()
		time.Sleep(3 * interval)
		if c, n := s.lastCommit(); n < n0+2 || c.sum.Packets != pause {
			t.Errorf("while quiet: %d commits (want at least 2 more than %d), packets %d", n, n0, c.sum.Packets)
		}
		close(resume)
	})
	if gotSum.Packets != wantSum.Packets || gotSum.Flows != wantSum.Flows || gotSum.HTTP != wantSum.HTTP || gotSum.Events != wantSum.Events {
		t.Errorf("summary with flush interval %+v, without %+v", gotSum, wantSum)
	}
	for _, tb := range []string{"packets_data", "flows", "tcp_events", "http_data", "warnings"} {
		if got.rows[tb] == nil || want.rows[tb] == nil {
			if (got.rows[tb] == nil) != (want.rows[tb] == nil) {
				t.Errorf("%s: written with flush interval %v, without %v", tb, got.rows[tb] != nil, want.rows[tb] != nil)
			}
			continue
		}
		if !bytes.Equal(got.rows[tb].Bytes(), want.rows[tb].Bytes()) {
			t.Errorf("%s: rows differ with a flush interval (%d rows vs %d)", tb, got.counts[tb], want.counts[tb])
		}
	}
	if want.counts["flows"] == 0 || want.counts["packets_data"] != 1865 {
		t.Errorf("the run wrote %d packets and %d flows, want 1865 (capinfos) and some", want.counts["packets_data"], want.counts["flows"])
	}
	if len(want.commits) != 0 {
		t.Errorf("a run without FlushInterval committed %d times", len(want.commits))
	}
}
