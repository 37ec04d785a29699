package ingest

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
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
