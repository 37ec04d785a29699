package ingest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapq/pcapq/internal/pcaptest"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
)

type discardSink struct{}

func (discardSink) Write(*schema.Table, []arrow.RecordBatch) error { return nil }

// TestCancelNeverHangs cancels runs at random moments: every run must
// return promptly, with the context's error or a complete result, whichever
// stage the cancellation finds busy.
func TestCancelNeverHangs(t *testing.T) {
	const path = "../testdata/mkcapture-small-mix.pcap"
	rnd := rand.New(rand.NewPCG(1, 2))
	runs := 40
	if testing.Short() {
		runs = 10
	}
	for i := 0; i < runs; i++ {
		r, err := source.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		opts := DefaultOptions()
		opts.Workers = 1 + i%3
		opts.BatchPackets = 64 // many batches in flight
		delay := time.Duration(rnd.IntN(50000)) * time.Microsecond
		go func() { time.Sleep(delay); cancel() }()
		done := make(chan error, 1)
		go func() {
			_, err := Run(ctx, r, 1, discardSink{}, opts)
			done <- err
		}()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Fatalf("run %d: %v", i, err)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("run %d (workers %d, cancel after %v) did not return after cancellation", i, opts.Workers, delay)
		}
		cancel()
		r.Close()
	}
}

// Records larger than a batch buffer (a file may declare a snaplen up to
// source.MaxRecordLen) are ingested whole, and the pool does not keep the grown
// buffers.
func TestHugeRecordsAndBatchBuffers(t *testing.T) {
	big := make([]byte, 6<<20)
	var recs []pcaptest.Rec
	for i := 0; i < 5; i++ {
		recs = append(recs, pcaptest.Rec{Sec: uint32(i), CapLen: uint32(len(big)), OrigLen: uint32(len(big)), Data: big},
			pcaptest.Rec{Sec: uint32(i), CapLen: 60, OrigLen: 60, Data: make([]byte, 60)})
	}
	file := pcaptest.Pcap(true, 0xa1b2c3d4, 2, 4, 8<<20, 1, recs...)
	r, err := source.NewReader(bytes.NewReader(file), "huge.pcap")
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.Workers = 1
	var p *pipeline
	sum, err := runWith(context.Background(), r, discardSink{}, opts, func(pp *pipeline) { p = pp })
	if err != nil {
		t.Fatal(err)
	}
	if sum.Packets != 10 || sum.Bytes != 5*int64(len(big))+5*60 {
		t.Errorf("packets %d bytes %d", sum.Packets, sum.Bytes)
	}
	for len(p.free) > 0 {
		b := <-p.free
		b.reset()
		if cap(b.buf) > batchBufSize {
			t.Errorf("a pooled batch keeps a %d-byte buffer after reset", cap(b.buf))
		}
	}
}

// waitingSource is a source.Reader that is no file reader: it gives n
// records of a small Ethernet frame, then waits in Next (as a live capture
// without traffic does) until Interrupt, and returns io.EOF. It counts the
// calls the pipeline makes.
type waitingSource struct {
	n           int
	given       int
	interrupted chan struct{}
	once        sync.Once
	interrupts  atomic.Int32
	bytes       atomic.Int64
	frame       []byte
}

func newWaitingSource(n int) *waitingSource {
	return &waitingSource{n: n, interrupted: make(chan struct{}), frame: make([]byte, 60)}
}

func (w *waitingSource) Next(r *source.Record) error {
	if w.given == w.n {
		<-w.interrupted
		return io.EOF
	}
	w.given++
	*r = source.Record{Ts: int64(w.given) * 1e6, CapLen: len(w.frame), OrigLen: len(w.frame), LinkType: 1, Offset: -1, Data: w.frame}
	w.bytes.Add(int64(len(w.frame)))
	return nil
}

func (w *waitingSource) Format() string             { return "waiting" }
func (w *waitingSource) LinkTypes() []uint32        { return []uint32{1} }
func (w *waitingSource) Warnings() []source.Warning { return nil }
func (w *waitingSource) BytesRead() int64           { return w.bytes.Load() }
func (w *waitingSource) Close() error               { return nil }
func (w *waitingSource) Interrupt(error) {
	w.interrupts.Add(1)
	w.once.Do(func() { close(w.interrupted) })
}

// Run reads any source.Reader through the interface alone: a source that
// waits for records is interrupted when the run is cancelled, and the run
// returns promptly; a run that ends well does not interrupt its source
// (a live capture goes on into the next run). Progress comes from
// BytesRead, the summary from Format and LinkTypes.
func TestRunInterruptsAnySource(t *testing.T) {
	t.Run("cancelled", func(t *testing.T) {
		src := newWaitingSource(100)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() {
			_, err := Run(ctx, src, 1, discardSink{}, DefaultOptions())
			done <- err
		}()
		select {
		case err := <-done:
			t.Fatalf("run ended before cancellation: %v", err)
		case <-time.After(300 * time.Millisecond):
		}
		cancel()
		select {
		case err := <-done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("run did not end 5 s after cancellation: the source was not interrupted")
		}
		if n := src.interrupts.Load(); n != 1 {
			t.Errorf("%d interrupts, want 1", n)
		}
	})
	t.Run("ends well", func(t *testing.T) {
		src := newWaitingSource(100)
		src.Interrupt(nil) // Next returns io.EOF after the records
		src.interrupts.Store(0)
		var last Progress
		opts := DefaultOptions()
		opts.BatchPackets = 16
		opts.Progress = func(p Progress) { last = p }
		sum, err := Run(context.Background(), src, 1, discardSink{}, opts)
		if err != nil {
			t.Fatal(err)
		}
		if sum.Packets != 100 || !sum.Complete || sum.Format != "waiting" || len(sum.LinkTypes) != 1 || sum.LinkTypes[0] != 1 {
			t.Errorf("summary %+v", sum)
		}
		if last.BytesRead != 100*60 || last.Packets != 100 {
			t.Errorf("last progress %+v, want 100 packets and 6000 bytes read", last)
		}
		if n := src.interrupts.Load(); n != 0 {
			t.Errorf("a run that ended well interrupted its source %d times", n)
		}
	})
}
