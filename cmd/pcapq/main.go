// Command pcapq ingests packet captures into DuckDB tables and queries them
// with SQL. See the README for the tour, and `pcapq schema` for the tables.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"reflect"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/alecthomas/kong"

	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/query"
)

// Version is pcapq's version, written into captures.pcapq_version.
var Version = "0.1.0-dev"

// Globals are flags shared by every verb.
type Globals struct {
	Quiet         bool   `short:"q" help:"No progress bar or summary on stderr."`
	Workers       int    `help:"Decode workers and flow shards (0 = one per CPU). Results do not depend on it." default:"0"`
	DuckDBThreads int    `name:"duckdb-threads" help:"DuckDB worker threads (0: one while ingesting, as the pipeline keeps the other cores busy; one per CPU for queries)." default:"0"`
	DuckDBMemory  string `name:"duckdb-memory" help:"DuckDB memory limit while ingesting; past it DuckDB spills to disk." default:"64MB"`
	GoMemory      string `name:"go-memory" help:"Soft limit for pcapq's own heap, e.g. 256MiB (the garbage collector works harder near it); 0 = Go's default or GOMEMLIMIT." default:"144MiB"`
	CPUProfile    string `name:"cpuprofile" hidden:"" help:"Write a Go CPU profile to this file."`
	MemProfile    string `name:"memprofile" hidden:"" help:"Write a Go allocation profile to this file at exit."`
	FlushRows     int    `hidden:"" help:"Packet rows gathered per DuckDB insert (tuning)." default:"0"`
	BatchPackets  int    `hidden:"" help:"Packets per pipeline batch (tuning)." default:"0"`
	MemoryTuning  string `name:"memory-tuning" hidden:"" help:"Process-wide memory tuning: default, none, or a list of malloc, hugepages, keep-freed (see README)." default:"default"`

	ctx    context.Context
	names  []string // raw command-line names to escape in messages (rawNames)
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
}

// CLI is the command line.
type CLI struct {
	Globals

	Ingest  IngestCmd  `cmd:"" help:"Read captures into a DuckDB database."`
	Capture CaptureCmd `cmd:"" help:"Capture from a network interface into a DuckDB database, queryable while it runs (--serve: and served as the report page)."`
	Devices DevicesCmd `cmd:"" help:"List the interfaces pcapq can capture on."`
	Query   QueryCmd   `cmd:"" help:"Run SQL over a database, or over captures read into memory."`
	Schema  SchemaCmd  `cmd:"" help:"List every table and column with its type and meaning."`
	Diff    DiffCmd    `cmd:"" help:"Compare two captures for CI: endpoints, hosts, latency, TCP health; exit 1 when a rule is broken."`
	Check   CheckCmd   `cmd:"" help:"Assert limits on one capture for CI (METRIC OP VALUE, allowlists); exit 1 when one is broken."`
	Report  ReportCmd  `cmd:"" help:"Write a report (HTML, Markdown or JSON) of a database or of captures."`
	Serve   ServeCmd   `cmd:"" help:"Serve the report as a local web page with a read-only SQL console (of a running capture: capture --serve)."`
	Version VersionCmd `cmd:"" help:"Print the version."`
}

// exitError carries an exit status up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// Exit statuses (documented in the README): 0 success; 1 failure; 2 bad
// usage or an input that is not a capture (or cannot be read); 128+N
// after signal N stopped the work (130 SIGINT, 143 SIGTERM); 141 when
// standard output was closed (as a tool killed by SIGPIPE shows).
const (
	exitUsage      = 2
	exitClosedPipe = 128 + int(syscall.SIGPIPE)
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	var caught atomic.Int32
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-sigs
		caught.Store(int32(s.(syscall.Signal)))
		// Stop the work and let it clean up; a second signal ends the
		// process at once (Go's default for SIGINT and SIGTERM).
		signal.Reset(os.Interrupt, syscall.SIGTERM)
		cancel()
	}()
	// A closed standard output (pcapq query ... | head -1) fails the write
	// with EPIPE instead of killing the process: pcapq then stops, removes
	// its temporary files and exits with exitClosedPipe, printing nothing.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	if s := caught.Load(); s != 0 && code != 0 {
		code = 128 + int(s)
	}
	os.Exit(code)
}

// rawArg is an argument (a file name, or query's SQL) as given: kong's
// own string mapper goes through JSON, which replaces bytes that are not
// UTF-8, so a file named in Latin-1 could not be opened.
type rawArg string

// rawString sets a string (or rawArg) flag or argument to its bytes
// unchanged.
var rawString = kong.MapperFunc(func(ctx *kong.DecodeContext, target reflect.Value) error {
	t, err := ctx.Scan.PopValue("argument")
	if err != nil {
		return err
	}
	s, ok := t.Value.(string)
	if !ok {
		return fmt.Errorf("expected a string argument, got %v", t.Value)
	}
	target.SetString(s)
	return nil
})

// rawPath sets a file-name flag to the next argument's bytes unchanged,
// whatever they are: as getopt(3) gives an option its argument, "-o
// -x.duckdb" names the file "-x.duckdb" (kong would take it for flags).
var rawPath = kong.MapperFunc(func(ctx *kong.DecodeContext, target reflect.Value) error {
	t := ctx.Scan.Pop()
	s, ok := t.Value.(string)
	if t.Type == kong.EOLToken || !ok {
		return errors.New("expected a file name")
	}
	target.SetString(s)
	return nil
})

// protocolAnalyzersHelp names the analyzers --no-protocols turns off and
// their tables, for the flag's help: "the dns and tls analyzers (tables
// dns, tls)".
func protocolAnalyzersHelp() string {
	names, tables := ingest.ProtocolAnalyzers()
	what := strings.Join(names, ", ")
	if i := strings.LastIndex(what, ", "); i >= 0 {
		what = what[:i] + " and " + what[i+2:]
	}
	return fmt.Sprintf("the %s analyzers (tables %s)", what, strings.Join(tables, ", "))
}

// run parses args and runs the verb; it returns the exit status.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cli CLI
	exitCode := -1
	parser, err := kong.New(&cli,
		kong.Name("pcapq"),
		kong.Description("Packet captures as SQL tables: ingest pcap/pcapng into DuckDB, query packets, flows, TCP events and HTTP."),
		kong.UsageOnError(),
		kong.Writers(stdout, stderr),
		kong.Exit(func(c int) { exitCode = c }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.TypeMapper(reflect.TypeOf(rawArg("")), rawString),
		kong.NamedMapper("rawpath", rawPath),
		kong.Vars{"protocol_analyzers": protocolAnalyzersHelp()},
	)
	if err != nil {
		fmt.Fprintln(stderr, "pcapq:", err)
		return 1
	}
	names := rawNames(args)
	kctx, err := parser.Parse(args)
	if exitCode >= 0 {
		return exitCode // --help
	}
	if err != nil {
		printError(stderr, err, names)
		return exitUsage
	}
	cli.Globals.ctx = ctx
	cli.Globals.stdout = stdout
	cli.Globals.stderr = stderr
	cli.Globals.stdin = stdin
	cli.Globals.names = names
	if n, err := parseSize(cli.GoMemory); err != nil {
		printError(stderr, fmt.Errorf("--go-memory: %w", err), names)
		return exitUsage
	} else if n > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
	tuning, err := parseTuning(cli.MemoryTuning)
	if err != nil {
		printError(stderr, fmt.Errorf("--memory-tuning: %w", err), names)
		return exitUsage
	}
	if err := query.TuneProcessMemory(tuning); err != nil && cli.MemoryTuning != "default" {
		printError(stderr, fmt.Errorf("warning: %w", err), names)
	}
	if cli.CPUProfile != "" {
		f, err := os.Create(cli.CPUProfile)
		if err != nil {
			printError(stderr, err, names)
			return 1
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if cli.MemProfile != "" {
		runtime.MemProfileRate = 64 << 10
		defer func() {
			if f, err := os.Create(cli.MemProfile); err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if err := kctx.Run(&cli.Globals); err != nil {
		if errors.Is(err, syscall.EPIPE) {
			return exitClosedPipe // the reader of our output is gone: nothing to say
		}
		printError(stderr, err, names)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		if errors.Is(err, context.Canceled) {
			return 128 + int(syscall.SIGINT)
		}
		return 1
	}
	return 0
}

// printError prints err on stderr as one "pcapq: " message that cannot
// drive the terminal or pass for other lines: see errorText.
func printError(stderr io.Writer, err error, names []string) {
	fmt.Fprintln(stderr, "pcapq:", errorText(err.Error(), names))
}

// errorText makes an error message safe for a terminal. Each of names (the
// command line's arguments that need it: file names) is written as
// query.Escape writes it, newlines included, wherever it appears; every
// other control or format character is escaped too (error messages quote
// captured text, e.g. DuckDB's conversion errors), except the newlines of
// multi-line messages (DuckDB's "LINE 1:" context), whose continuation
// lines are indented so that none can pose as a line of its own.
func errorText(msg string, names []string) string {
	for _, n := range names {
		msg = strings.ReplaceAll(msg, n, query.Escape(n))
	}
	lines := strings.Split(strings.TrimRight(query.EscapeControls(msg), "\n"), "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] != "" {
			lines[i] = "  " + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// rawNames are the arguments (and the values of --flag=value arguments)
// that query.Escape would change: only those are rewritten in messages.
func rawNames(args []string) []string {
	var names []string
	for _, a := range args {
		for _, n := range []string{a, a[strings.IndexByte(a, '=')+1:]} {
			if n != "" && query.Escape(n) != n && !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	// Longest first, so that a name is not rewritten through a shorter
	// one it contains.
	slices.SortFunc(names, func(a, b string) int { return len(b) - len(a) })
	return names
}

// interruptible returns r read through a goroutine, so that cancelling
// ctx (SIGINT, SIGTERM) ends a Read that waits for input, with ctx's
// error: a read(2) from a pipe that sends nothing (a live capture piped in
// on a quiet network) cannot be interrupted, and the ingest would wait
// for it. The goroutine stays blocked in that read until the process
// exits.
func interruptible(ctx context.Context, r io.Reader) io.Reader {
	pr, pw := io.Pipe()
	go func() {
		_, err := io.CopyBuffer(pw, r, make([]byte, 256<<10))
		pw.CloseWithError(err)
	}()
	context.AfterFunc(ctx, func() { pr.CloseWithError(ctx.Err()) })
	return pr
}

// parseTuning reads --memory-tuning: "default" (query.DefaultTuning),
// "none", or a comma-separated list of malloc, hugepages and keep-freed.
func parseTuning(s string) (query.Tuning, error) {
	switch s {
	case "default", "":
		return query.DefaultTuning(), nil
	case "none":
		return query.Tuning{}, nil
	}
	var t query.Tuning
	for _, f := range strings.Split(s, ",") {
		switch strings.TrimSpace(f) {
		case "malloc":
			t.GlibcMalloc = true
		case "hugepages":
			t.HugePages = true
		case "keep-freed":
			t.KeepFreed = true
		default:
			return t, fmt.Errorf("%q: want default, none, or a list of malloc, hugepages, keep-freed", f)
		}
	}
	return t, nil
}

// parseSize reads a byte count with an optional unit: 1048576, 512KiB,
// 256MiB, 1GiB, 500MB.
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("%q is not a size (e.g. 256MiB)", s)
	}
	return n * mult, nil
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints the version.
func (VersionCmd) Run(g *Globals) error {
	fmt.Fprintln(g.stdout, "pcapq", Version)
	return nil
}
