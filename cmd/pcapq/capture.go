package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/report"
	"github.com/pcapq/pcapq/serve"
	"github.com/pcapq/pcapq/source/live"
)

// CaptureCmd captures from a network interface into a database that can be
// queried while the capture runs.
type CaptureCmd struct {
	Interface  string        `short:"i" required:"" help:"Interface to capture on ('pcapq devices' lists them; 'any' captures on all)."`
	Output     string        `short:"o" type:"rawpath" help:"DuckDB database to write (created if missing). While the capture runs, 'pcapq query -d' on it is answered by the capturing process." default:"live.duckdb"`
	Filter     string        `short:"f" help:"BPF filter (tcpdump syntax), compiled by libpcap and run in the kernel."`
	Duration   time.Duration `help:"End the capture after this long (e.g. 60s, 1h)."`
	Count      int64         `short:"c" help:"End the capture after this many packets."`
	Snaplen    int           `short:"s" help:"Bytes kept of each packet." default:"262144"`
	Promisc    bool          `help:"Put the interface in promiscuous mode."`
	BufferSize string        `name:"buffer-size" short:"B" help:"Kernel capture buffer (libpcap's default of 2 MB drops under load)." default:"32MiB"`
	Immediate  bool          `name:"immediate-mode" help:"Hand each packet over as it arrives (libpcap's immediate mode, tcpdump's --immediate-mode). Default: the kernel hands over blocks of packets, full or 0.1 s old, which holds far higher rates of small packets."`
	WritePcap  string        `name:"write-pcap" short:"w" type:"rawpath" help:"Also write every captured packet to this pcapng file (one file for the whole capture, across --rotate; file_offset points into it)."`
	Rotate     string        `help:"Start a new database file after this long (1h) or when the file and its WAL reach this size (1GB): the current file is renamed with the time of its first packet (UTC) and a new one started under the same name."`

	NoFlows        bool          `help:"Skip flow tracking, TCP analysis and HTTP (packets table only)."`
	NoHTTP         bool          `name:"no-http" help:"Skip HTTP extraction (and WebSocket)."`
	NoProtocols    bool          `name:"no-protocols" help:"Skip ${protocol_analyzers}."`
	Bodies         bool          `help:"Keep HTTP bodies in the http_bodies table."`
	BodyCap        int64         `help:"Bytes kept of each body with --bodies." default:"1048576"`
	MaxFlows       int           `name:"max-flows" group:"Flow tracking" help:"Live flows kept at once (see ingest --help)." default:"65536"`
	TCPIdleTimeout time.Duration `name:"tcp-idle-timeout" group:"Flow tracking" help:"A TCP flow without packets for this long ends, marked evicted." default:"5m"`
	UDPIdleTimeout time.Duration `name:"udp-idle-timeout" group:"Flow tracking" help:"A UDP, ICMP or other flow without packets for this long ends, marked evicted." default:"1m"`
	MaxBuffered    string        `name:"max-buffered" group:"Flow tracking" help:"Out-of-order TCP payload buffered across all flows." default:"64MiB"`

	Serve        string        `group:"Web page" placeholder:"HOST:PORT" help:"Also serve the page of 'pcapq serve' on this address (e.g. 127.0.0.1:8080) while capturing: the report, counters updated every second, and the read-only SQL console. Only loopback unless --allow-remote."`
	AllowRemote  bool          `name:"allow-remote" group:"Web page" help:"Allow --serve on an address other than loopback: anyone who can reach it can read the whole database."`
	QueryTimeout time.Duration `name:"query-timeout" group:"Web page" help:"A console query running longer is cancelled." default:"30s"`
	MaxRows      int           `name:"max-rows" group:"Web page" help:"Console results are cut to this many rows, with a notice." default:"10000"`

	CommitInterval time.Duration `name:"commit-interval" hidden:"" help:"How often rows are committed (and visible to queries)." default:"1s"`
}

// rotation is a parsed --rotate: a duration or a size, or neither.
type rotation struct {
	every time.Duration
	size  int64
}

func parseRotate(s string) (rotation, error) {
	if s == "" {
		return rotation{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		if d < time.Second {
			return rotation{}, fmt.Errorf("--rotate %s: at least 1s", s)
		}
		return rotation{every: d}, nil
	}
	n, err := parseSize(s)
	if err != nil || n < 1<<20 {
		return rotation{}, fmt.Errorf("--rotate %q: want a duration (30m, 1h) or a size of at least 1MiB (500MB, 1GB)", s)
	}
	return rotation{size: n}, nil
}

// Validate checks the flags (kong calls it after parsing).
func (c *CaptureCmd) Validate() error {
	if c.Count < 0 || c.Duration < 0 || c.Snaplen < 0 {
		return errors.New("--count, --duration and --snaplen must not be negative")
	}
	if _, err := parseSize(c.BufferSize); err != nil {
		return fmt.Errorf("--buffer-size: %w", err)
	}
	if _, err := parseRotate(c.Rotate); err != nil {
		return err
	}
	if c.CommitInterval < 10*time.Millisecond {
		return errors.New("--commit-interval: at least 10ms")
	}
	if c.Serve != "" {
		if err := checkListen("--serve", c.Serve, c.AllowRemote); err != nil {
			return err
		}
	}
	if c.MaxRows < 1 || c.QueryTimeout <= 0 {
		return errors.New("--max-rows and --query-timeout must be positive")
	}
	return (&IngestCmd{Output: c.Output, MaxFlows: c.MaxFlows, TCPIdleTimeout: c.TCPIdleTimeout, UDPIdleTimeout: c.UDPIdleTimeout, MaxBuffered: c.MaxBuffered}).Validate()
}

func (c *CaptureCmd) options(g *Globals) ingest.Options {
	o := (&IngestCmd{NoFlows: c.NoFlows, NoHTTP: c.NoHTTP, NoProtocols: c.NoProtocols, Bodies: c.Bodies, BodyCap: c.BodyCap,
		MaxFlows: c.MaxFlows, TCPIdleTimeout: c.TCPIdleTimeout, UDPIdleTimeout: c.UDPIdleTimeout, MaxBuffered: c.MaxBuffered}).options(g)
	o.FlushInterval = c.CommitInterval
	return o
}

// Run captures until Ctrl-C, SIGTERM, --duration, --count or an error.
func (c *CaptureCmd) Run(g *Globals) error {
	bufSize, _ := parseSize(c.BufferSize)
	rot, _ := parseRotate(c.Rotate)
	// The page's address is taken first: a busy port ends the command
	// before the capture begins.
	var webLn net.Listener
	var webHosts []string
	if c.Serve != "" {
		var err error
		if webLn, webHosts, err = webListen(g, c.Serve); err != nil {
			return err
		}
		defer webLn.Close() // the web server closes it too once started
	}
	var pcapFile *os.File
	opts := live.Options{
		Interface: c.Interface, Snaplen: c.Snaplen, Promisc: c.Promisc, BufferSize: int(bufSize),
		Filter: c.Filter, Count: c.Count, Application: "pcapq " + Version, Immediate: c.Immediate,
	}
	if c.WritePcap != "" {
		f, err := os.Create(c.WritePcap)
		if err != nil {
			return err
		}
		pcapFile = f
		opts.Pcapng = f
	}
	src, err := live.Open(opts)
	if err != nil {
		if pcapFile != nil {
			pcapFile.Close()
			os.Remove(c.WritePcap)
		}
		code := 1
		if errors.Is(err, live.ErrNoDevice) || errors.Is(err, live.ErrPermission) {
			code = 2
		}
		return &exitError{code: code, err: err}
	}
	closeSrc := sync.OnceValue(func() error {
		err := src.Close()
		if pcapFile != nil {
			if e := pcapFile.Close(); err == nil {
				err = e
			}
		}
		return err
	})
	defer closeSrc()
	if !src.Nanosecond() && !g.Quiet {
		fmt.Fprintf(g.stderr, "pcapq: %s gives microsecond timestamps only\n", query.Escape(c.Interface))
	}

	// Ctrl-C, SIGTERM and --duration end the capture; the pipeline
	// then finishes what it has and commits it.
	defer context.AfterFunc(g.ctx, src.Stop)()
	start := time.Now()
	if c.Duration > 0 {
		defer time.AfterFunc(c.Duration, src.Stop).Stop()
	}
	if rot.every > 0 {
		t := time.NewTicker(rot.every)
		defer t.Stop()
		go func() {
			for range t.C {
				src.Cut()
			}
		}()
	}

	s := &liveSession{g: g, src: src, path: c.Output, rot: rot, filter: c.Filter, start: start}
	srv, err := listenLive(c.Output)
	if err != nil {
		return err
	}
	defer srv.close()
	s.srv = srv
	if webLn != nil {
		// The page's queries must not read other files (the capture runs
		// as root, the page answers anyone on the machine): every segment's
		// database is confined to itself and to the directory of the query
		// socket's parquet results.
		dir, err := os.MkdirTemp("", "pcapq-live-out-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		srv.outDir, s.confine = dir, true
	}
	stopStatus := s.status()
	defer stopStatus()
	var web *webServer
	defer func() {
		if web != nil {
			web.stop()
		}
	}()

	var runErr error
	for seg := 1; ; seg++ {
		if err := s.openSegment(); err != nil {
			runErr = err
			break
		}
		if seg == 1 && webLn != nil {
			web = startWeb(webLn, serve.New(srv.pageSource(), serve.Options{
				Report:       report.Options{Top: 10, Tool: "pcapq " + Version, Database: c.Output},
				QueryTimeout: c.QueryTimeout,
				MaxRows:      c.MaxRows,
				Live:         true,
				Lock:         srv.mu.RLocker(),
				Hosts:        webHosts,
			}))
			fmt.Fprintf(g.stderr, "pcapq: serving %s at http://%s/ while capturing\n", query.Escape(c.Output), webLn.Addr())
		}
		sum, err := ingest.Run(context.Background(), src, s.sink.row.ID, s.sink, c.options(g))
		if src.Stopped() {
			// The last segment: the final statistics and pcapng
			// trailer come with closing the capture.
			if e := closeSrc(); e != nil && err == nil {
				err = fmt.Errorf("writing %s: %w", c.WritePcap, e)
			}
		}
		if err != nil {
			s.db.Rollback()
			runErr = fmt.Errorf("capture into %s: %w (rows committed before the error are kept)", c.Output, err)
			break
		}
		if err := s.finishSegment(sum); err != nil {
			runErr = err
			break
		}
		if src.Stopped() {
			break
		}
		if err := s.rotate(); err != nil {
			runErr = err
			break
		}
	}
	stopStatus()
	if web != nil {
		web.stop()
	}
	srv.close()
	srv.setDB(nil) // closes the page's connection
	if s.db != nil {
		if err := s.db.Close(); err != nil && runErr == nil {
			runErr = err
		}
	}
	if err := closeSrc(); err != nil && runErr == nil {
		runErr = fmt.Errorf("writing %s: %w", c.WritePcap, err)
	}
	if runErr != nil {
		return runErr
	}
	if err := src.Err(); err != nil {
		return fmt.Errorf("%w; the %d packets captured before are in %s", err, s.total.Packets, c.Output)
	}
	return nil
}

// liveSession is one capture: its database (one per rotation segment),
// the sink of the segment running, and the query socket.
type liveSession struct {
	g      *Globals
	src    *live.Source
	path   string
	rot    rotation
	filter string
	start  time.Time
	srv    *liveServer
	// confine: each segment's database is confined (query.DB.Confine) to
	// srv.outDir.
	confine bool

	db   *query.DB
	sink *liveSink
	// total counts every segment finished (for the summary line).
	total ingest.Summary
	mu    sync.Mutex // guards db, sink, total and drawn for the status line
	drawn bool
}

// openSegment opens (creating) the database and starts a capture in it.
func (s *liveSession) openSegment() error {
	db, err := query.Open(context.Background(), s.path)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			db.Close()
		}
	}()
	if err := db.SetMemoryLimit(context.Background(), s.g.DuckDBMemory); err != nil { // not g.ctx: a signal during a rotation still ends in a new file, cleanly
		return err
	}
	if err := db.SetThreads(context.Background(), ingestThreads(s.g)); err != nil {
		return err
	}
	if err := db.EnsureSchema(context.Background()); err != nil {
		return err
	}
	sink := &liveSink{db: db, src: s.src, base: s.src.Stats(), rot: s.rot, path: s.path}
	sink.row = query.CaptureRow{
		Path: "live:" + s.src.Interface(), FileSize: -1, Format: s.src.Format(),
		Version: Version, Filter: s.filter, Stats: &query.CaptureStats{},
	}
	id, err := db.BeginLive(context.Background(), sink.row)
	if err != nil {
		return err
	}
	sink.row.ID = id
	if s.confine {
		if err := db.Confine(context.Background(), s.srv.outDir); err != nil {
			return err
		}
	}
	s.mu.Lock()
	s.db, s.sink = db, sink
	s.mu.Unlock()
	if err := s.srv.setDB(db); err != nil {
		return err
	}
	ok = true
	return nil
}

// finishSegment writes the segment's final captures row and commits.
func (s *liveSession) finishSegment(sum ingest.Summary) error {
	sk := s.sink
	sk.fill(sum)
	sk.row.Format = sum.Format
	// Complete unless the capture ended on an error (the device went away).
	sk.row.Complete = !(s.src.Stopped() && s.src.Err() != nil)
	warns := sk.dropWarnings()
	if err := s.src.Err(); err != nil && s.src.Stopped() {
		warns = append(warns, query.Warning{Kind: "capture_ended", Detail: err.Error()})
		sk.extraWarnings++
	}
	sk.row.Warnings = sum.Warnings + sk.extraWarnings
	if err := s.db.CommitLive(context.Background(), sk.row, nil, warns, true); err != nil {
		return fmt.Errorf("final commit to %s: %w", s.path, err)
	}
	s.mu.Lock()
	t := &s.total
	t.Packets += sum.Packets
	t.Bytes += sum.Bytes
	t.Flows += sum.Flows
	t.HTTP += sum.HTTP
	t.Events += sum.Events
	t.Warnings += sk.row.Warnings
	s.mu.Unlock()
	if !s.g.Quiet {
		st := sk.row.Stats
		s.clearStatus()
		fmt.Fprintf(s.g.stderr, "%s: %d packets (%d received by the filter, %d dropped by the kernel, %d by the interface), %d flows, %d TCP events, %d HTTP transactions, %d warnings -> %s capture %d in %.1fs\n",
			query.Escape(s.src.Interface()), sum.Packets, st.Received, st.Dropped, st.IfDropped, sum.Flows, sum.Events, sum.HTTP, sk.row.Warnings,
			query.Escape(s.path), sk.row.ID, time.Since(s.start).Seconds())
	}
	return nil
}

// rotate closes the database, renames it after the time of its first
// packet and opens a new one under the same name.
func (s *liveSession) rotate() error {
	first := s.sink.row.FirstTs
	if s.sink.row.Timed == 0 {
		first = time.Now().UnixNano()
	}
	s.srv.setDB(nil)
	err := s.db.Close()
	s.mu.Lock()
	s.db, s.sink = nil, nil
	s.mu.Unlock()
	if err != nil {
		return err
	}
	ext := filepath.Ext(s.path)
	base := strings.TrimSuffix(s.path, ext)
	stamp := time.Unix(0, first).UTC().Format("20060102T150405Z")
	name := base + "-" + stamp + ext
	for i := 2; ; i++ {
		if _, err := os.Lstat(name); errors.Is(err, os.ErrNotExist) {
			break
		}
		name = fmt.Sprintf("%s-%s-%d%s", base, stamp, i, ext)
	}
	if err := os.Rename(s.path, name); err != nil {
		return fmt.Errorf("rotating %s: %w", s.path, err)
	}
	// DuckDB folds its WAL into the file when it closes; one left over
	// goes with the file.
	if _, err := os.Lstat(s.path + ".wal"); err == nil {
		if err := os.Rename(s.path+".wal", name+".wal"); err != nil {
			return fmt.Errorf("rotating %s.wal: %w", s.path, err)
		}
	}
	if !s.g.Quiet {
		fmt.Fprintf(s.g.stderr, "pcapq: %s -> %s\n", query.Escape(s.path), query.Escape(name))
	}
	return nil
}
