package ingest

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/pcapq/pcapq/schema"
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
		r, c, err := Open(path)
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
		c.Close()
	}
}
