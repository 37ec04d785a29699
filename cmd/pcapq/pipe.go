package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/source/live"
)

// pipeGrace is how long an interrupted ingest from a pipe waits for the
// writer (tcpdump, interrupted too) to finish and close the pipe before
// it stops reading.
const pipeGrace = time.Second

// stdinIsPipe reports whether standard input is a pipe or a socket: a
// stream that may go quiet and go on, not a file.
func stdinIsPipe(g *Globals) bool {
	f, ok := g.stdin.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&(os.ModeNamedPipe|os.ModeSocket) != 0
}

// stoppableStdin returns standard input as a reader that stop makes
// return io.EOF, even while it waits for the writer: a duplicate of the
// descriptor in non-blocking mode, so that Go's poller can interrupt a
// read. restore puts the descriptor back in blocking mode.
func stoppableStdin(f *os.File) (r io.Reader, stop, restore func(), err error) {
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return nil, nil, nil, err
	}
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return nil, nil, nil, err
	}
	nf := os.NewFile(uintptr(fd), "stdin")
	stop = func() { nf.SetReadDeadline(time.Now()) }
	restore = func() {
		syscall.SetNonblock(fd, false)
		nf.Close()
	}
	return eofOnDeadline{nf}, stop, restore, nil
}

// eofOnDeadline ends the stream when its read deadline passes.
type eofOnDeadline struct{ f *os.File }

func (e eofOnDeadline) Read(p []byte) (int, error) {
	n, err := e.f.Read(p)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = io.EOF
	}
	return n, err
}

// ingestPipe reads a capture from a pipe on standard input as a live
// capture: rows are committed every second (so queries see them while the
// writer goes on), the capture's database answers pcapq query on its
// socket, and Ctrl-C ends the capture cleanly (after pipeGrace, if the
// writer does not close the pipe first) keeping every packet read.
func (c *IngestCmd) ingestPipe(g *Globals, db *query.DB) error {
	in, stop, restore, err := stoppableStdin(g.stdin.(*os.File))
	if err != nil {
		return fmt.Errorf("standard input: %w", err)
	}
	defer restore()
	defer context.AfterFunc(g.ctx, func() { time.AfterFunc(pipeGrace, stop) })()
	r, err := c.sourceOptions().NewReader(in, "-")
	if err != nil {
		return err
	}
	defer r.Close()
	if c.Filter != "" {
		if r, err = live.Filter(r, c.Filter); err != nil {
			return err
		}
	}
	srv, err := listenLive(c.Output)
	if err != nil {
		return err
	}
	defer srv.close()
	srv.setDB(db)
	sink := &liveSink{db: db, path: c.Output}
	sink.row = query.CaptureRow{Path: "-", FileSize: -1, Format: r.Format(), Version: Version, Filter: c.Filter}
	id, err := db.BeginLive(context.Background(), sink.row)
	if err != nil {
		return err
	}
	sink.row.ID = id
	opts := c.options(g)
	opts.FlushInterval = time.Second
	start := time.Now()
	sum, err := ingest.Run(context.Background(), r, id, sink, opts)
	if err != nil {
		db.Rollback()
		return fmt.Errorf("-: %w (rows committed before the error are kept)", err)
	}
	sink.fill(sum)
	sink.row.Format, sink.row.Complete, sink.row.Warnings = sum.Format, sum.Complete, sum.Warnings
	if err := db.CommitLive(context.Background(), sink.row, nil, nil, true); err != nil {
		return fmt.Errorf("-: final commit: %w", err)
	}
	if sum.ReadErr != nil {
		fmt.Fprintf(g.stderr, "pcapq: warning: %s; kept the %d packets before it\n", query.Escape(sum.ReadErr.Error()), sum.Packets)
	}
	if !g.Quiet {
		el := time.Since(start)
		fmt.Fprintf(g.stderr, "-: %d packets, %d flows, %d TCP events, %d HTTP transactions, %d warnings -> %s capture %d in %.2fs\n",
			sum.Packets, sum.Flows, sum.Events, sum.HTTP, sum.Warnings, db.Path(), id, el.Seconds())
	}
	return nil
}
