package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"golang.org/x/term"

	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
	"github.com/pcapq/pcapq/source/live"
)

// IngestCmd reads captures into a database.
type IngestCmd struct {
	Captures    []rawArg `arg:"" name:"capture" help:"pcap or pcapng files, optionally gzip or zstd compressed; '-' reads standard input."`
	Output      string   `short:"o" type:"rawpath" help:"DuckDB database file to write, any name (created if missing, and removed again if no capture went in)." default:"traffic.duckdb"`
	NoFlows     bool     `help:"Skip flow tracking, TCP analysis and HTTP (packets table only)."`
	NoHTTP      bool     `name:"no-http" help:"Skip HTTP extraction (and WebSocket)."`
	NoProtocols bool     `name:"no-protocols" help:"Skip ${protocol_analyzers}."`
	Bodies      bool     `help:"Keep HTTP bodies in the http_bodies table."`
	Filter      string   `short:"f" help:"Keep only the packets that match this BPF filter (tcpdump syntax, compiled by libpcap for each link type); they are numbered from 1."`
	BodyCap     int64    `help:"Bytes kept of each body with --bodies." default:"1048576"`

	MaxRatio int `name:"max-ratio" help:"Largest decompression ratio of a .gz/.zst capture (bytes out per compressed byte, past its first MiB); past it reading stops as at damage, keeping the packets before. Raise it for a genuine capture that compresses better." default:"1000"`

	MaxFlows       int           `name:"max-flows" group:"Flow tracking" help:"Live flows kept at once (about 1.1 KB each), split evenly across the flow shards (--workers); past a shard's share its closed connections end early, then its least recently active flow is evicted (marked and warned)." default:"65536"`
	TCPIdleTimeout time.Duration `name:"tcp-idle-timeout" group:"Flow tracking" help:"A TCP flow without packets for this long (capture time) ends, marked evicted (Zeek's tcp_inactivity_timeout)." default:"5m"`
	UDPIdleTimeout time.Duration `name:"udp-idle-timeout" group:"Flow tracking" help:"A UDP, ICMP or other flow without packets for this long ends, marked evicted (Zeek's udp/icmp_inactivity_timeout)." default:"1m"`
	MaxBuffered    string        `name:"max-buffered" group:"Flow tracking" help:"Out-of-order TCP payload buffered across all flows; past it the oldest holes are skipped as gaps (flows marked capped and warned)." default:"64MiB"`
}

// Validate checks the output name and the flow-tracking bounds (kong
// calls it after parsing).
func (c *IngestCmd) Validate() error {
	if c.Output == "" {
		return errors.New("-o/--output: the database file name is empty")
	}
	if c.MaxFlows < 0 || c.TCPIdleTimeout < 0 || c.UDPIdleTimeout < 0 || c.MaxRatio < 0 {
		return errors.New("--max-flows, --tcp-idle-timeout, --udp-idle-timeout and --max-ratio must not be negative")
	}
	if _, err := parseSize(c.MaxBuffered); err != nil && c.MaxBuffered != "" {
		return fmt.Errorf("--max-buffered: %w", err)
	}
	if c.Filter != "" {
		if err := live.CheckFilter(c.Filter); err != nil {
			return err
		}
	}
	return nil
}

// Run ingests every capture, each in its own transaction. The output is a
// file name, whatever its bytes (see query.Open). When the run created the
// database file and committed no capture to it (every capture failed, or
// it was interrupted), it removes the file: a failed first ingest leaves
// nothing behind. A file that existed before is never removed.
func (c *IngestCmd) Run(g *Globals) (err error) {
	if g.Workers < 0 || g.Workers > ingest.MaxWorkers {
		return &exitError{code: 2, err: fmt.Errorf("--workers %d: want 0 (one per CPU) to %d; more workers than CPUs only add memory (about 12 MiB each)", g.Workers, ingest.MaxWorkers)}
	}
	db, err := query.Open(g.ctx, c.Output)
	if err != nil {
		return err
	}
	db.SetVersion(Version)
	committed := 0
	defer func() {
		if committed > 0 || !db.Created() {
			db.Close()
			return
		}
		if rmErr := db.Discard(); rmErr != nil {
			fmt.Fprintf(g.stderr, "pcapq: removing %s, which this run created and wrote nothing to: %v\n", db.Path(), rmErr)
		} else if err != nil {
			err = &removedError{err: err, path: db.Path()}
		}
	}()
	if err := db.SetMemoryLimit(g.ctx, g.DuckDBMemory); err != nil {
		return err
	}
	if err := db.SetThreads(g.ctx, ingestThreads(g)); err != nil {
		return err
	}
	if err := db.EnsureSchema(g.ctx); err != nil {
		if g.ctx.Err() != nil {
			return fmt.Errorf("interrupted before reading: %s is unchanged: %w", db.Path(), g.ctx.Err())
		}
		return err
	}
	if from := db.MigratedFrom(); from > 0 && !g.Quiet {
		fmt.Fprintf(g.stderr, "pcapq: %s: migrated from pcapq schema %d to %d\n", db.Path(), from, schema.Version)
	}
	var failed []error
	for _, name := range c.Captures {
		in := string(name)
		var err error
		if in == "-" && stdinIsPipe(g) {
			// A pipe is live: rows are committed as they arrive.
			err = c.ingestPipe(g, db)
		} else {
			err = ingestFiltered(g, db, in, c.options(g), c.sourceOptions(), c.Filter)
		}
		if err != nil {
			if g.ctx.Err() != nil {
				return fmt.Errorf("interrupted while reading %s: its rows were rolled back; %s keeps every capture committed before: %w", query.Escape(in), db.Path(), g.ctx.Err())
			}
			printError(g.stderr, err, g.names)
			failed = append(failed, err)
		} else {
			committed++
		}
	}
	if len(failed) > 0 {
		code := 1
		for _, err := range failed {
			if notCapture(err) {
				code = exitUsage
			}
		}
		return &exitError{code: code, err: fmt.Errorf("%d of %d captures not ingested", len(failed), len(c.Captures))}
	}
	return nil
}

// removedError is an ingest's error after the database file the run
// created was removed again.
type removedError struct {
	err  error
	path string
}

func (e *removedError) Error() string {
	return e.err.Error() + " (removed " + e.path + ", which this run created)"
}
func (e *removedError) Unwrap() error { return e.err }

func (c *IngestCmd) options(g *Globals) ingest.Options {
	o := ingest.DefaultOptions()
	o.Workers = g.Workers
	o.FlushRows = g.FlushRows
	o.BatchPackets = g.BatchPackets
	o.Flows = !c.NoFlows
	o.HTTP = !c.NoFlows && !c.NoHTTP
	o.Protocols = !c.NoFlows && !c.NoProtocols
	o.HTTPOptions.KeepBodies = c.Bodies
	o.HTTPOptions.MaxBodyKeep = c.BodyCap
	o.Alloc = ingestAlloc()
	// Zero values (pcapq query's one-shot ingest) keep the defaults.
	if c.MaxFlows > 0 {
		o.Session.MaxFlows = c.MaxFlows
	}
	if c.TCPIdleTimeout > 0 {
		o.Session.TCPIdleTimeout = int64(c.TCPIdleTimeout)
	}
	if c.UDPIdleTimeout > 0 {
		o.Session.UDPIdleTimeout = int64(c.UDPIdleTimeout)
		o.Session.ICMPIdleTimeout = int64(c.UDPIdleTimeout)
	}
	if n, err := parseSize(c.MaxBuffered); err == nil && n > 0 {
		o.Session.MaxBufferedBytes = n
	}
	return o
}

// sourceOptions configure the capture file readers.
func (c *IngestCmd) sourceOptions() source.Options {
	return source.Options{MaxRatio: c.MaxRatio} // 0 (pcapq query's one-shot ingest): the default
}

// ingestAlloc is the Arrow allocator of every ingest of the process,
// made on the first: buffers reused from one huge-page arena
// (ingest.NewAllocator; benchmarks/RESULTS.md has the measurements).
var ingestAlloc = sync.OnceValue(func() memory.Allocator { return ingest.NewAllocator(ingest.DefaultArenaSize) })

// ingestThreads is DuckDB's thread count while ingesting. One by default:
// the decode workers and flow shards keep the other cores busy, and more
// DuckDB threads spend their time polling its task queue (measured in
// benchmarks/RESULTS.md: 30% slower with two on two cores).
func ingestThreads(g *Globals) int {
	if g.DuckDBThreads > 0 {
		return g.DuckDBThreads
	}
	return 1
}

// ingestOne reads one capture into db in one transaction.
func ingestOne(g *Globals, db *query.DB, in string, opts ingest.Options) error {
	return ingestFiltered(g, db, in, opts, source.Options{}, "")
}

// ingestFiltered is ingestOne keeping only the packets that match the BPF
// expression filter ("" keeps all).
func ingestFiltered(g *Globals, db *query.DB, in string, opts ingest.Options, so source.Options, filter string) error {
	var (
		r    source.Reader
		err  error
		path = in
		size = int64(-1)
	)
	if in == "-" {
		r, err = so.NewReader(interruptible(g.ctx, g.stdin), "-")
	} else {
		if abs, e := filepath.Abs(in); e == nil {
			path = abs
		}
		if st, e := os.Stat(in); e == nil {
			size = st.Size()
		}
		r, err = so.Open(in)
	}
	if err != nil {
		return err
	}
	defer r.Close()
	if filter != "" {
		if r, err = live.Filter(r, filter); err != nil {
			return err
		}
	}
	id, err := db.BeginCapture(g.ctx, path)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	start := time.Now()
	bar := newProgressBar(g, in, size)
	opts.Progress = bar.update
	if testProgressHook != nil {
		opts.Progress = func(p ingest.Progress) { testProgressHook(); bar.update(p) }
	}
	sum, err := ingest.Run(g.ctx, r, id, db, opts)
	bar.done()
	if err != nil {
		db.Rollback()
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("%s: %w (nothing of this capture was kept)", in, err)
	}
	names := make([]string, len(sum.LinkTypes))
	for i, lt := range sum.LinkTypes {
		names[i] = source.LinkTypeName(lt)
	}
	err = db.FinishCapture(g.ctx, query.CaptureRow{
		ID: id, Path: path, FileSize: size, Format: sum.Format, LinkTypes: names,
		Packets: sum.Packets, Bytes: sum.Bytes, FirstTs: sum.FirstTs, LastTs: sum.LastTs, Timed: sum.Timed,
		Version: Version, Warnings: sum.Warnings, Complete: sum.Complete, Filter: filter,
	})
	if err != nil {
		return fmt.Errorf("%s: %w (rolled back: nothing of this capture was kept, earlier captures are intact)", in, err)
	}
	if sum.ReadErr != nil {
		fmt.Fprintf(g.stderr, "pcapq: warning: %s; kept the %d packets before it\n", query.Escape(sum.ReadErr.Error()), sum.Packets)
	}
	if !g.Quiet {
		el := time.Since(start)
		fmt.Fprintf(g.stderr, "%s: %d packets, %d flows, %d TCP events, %d HTTP transactions, %d warnings -> %s capture %d in %.2fs (%.0f packets/s)\n",
			query.Escape(in), sum.Packets, sum.Flows, sum.Events, sum.HTTP, sum.Warnings, db.Path(), id, el.Seconds(), float64(sum.Packets)/el.Seconds())
	}
	return nil
}

// testProgressHook lets tests act in the middle of an ingest (e.g. cancel it).
var testProgressHook func()

// progressBar draws on stderr when it is a terminal.
type progressBar struct {
	w     io.Writer
	name  string
	size  int64
	on    bool
	last  time.Time
	start time.Time
	drawn bool
}

func newProgressBar(g *Globals, name string, size int64) *progressBar {
	b := &progressBar{w: g.stderr, name: query.Escape(name), size: size, start: time.Now()}
	if f, ok := g.stderr.(*os.File); ok && !g.Quiet && term.IsTerminal(int(f.Fd())) {
		b.on = true
	}
	return b
}

func (b *progressBar) update(p ingest.Progress) {
	if !b.on {
		return
	}
	now := time.Now()
	if now.Sub(b.last) < 150*time.Millisecond {
		return
	}
	b.last = now
	el := now.Sub(b.start).Seconds()
	line := fmt.Sprintf("%s: %d packets, %.0f MB read, %.0f MB/s", b.name, p.Packets, float64(p.BytesRead)/1e6, float64(p.BytesRead)/1e6/el)
	if b.size > 0 {
		frac := float64(p.BytesRead) / float64(b.size)
		if frac > 1 {
			frac = 1
		}
		n := int(frac * 30)
		line = fmt.Sprintf("[%s%s] %3.0f%% %s", strings.Repeat("#", n), strings.Repeat(".", 30-n), frac*100, line)
	}
	fmt.Fprintf(b.w, "\r\x1b[K%s", line)
	b.drawn = true
}

func (b *progressBar) done() {
	if b.drawn {
		fmt.Fprint(b.w, "\r\x1b[K")
	}
}
