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
	"strconv"
	"strings"
	"syscall"

	"github.com/alecthomas/kong"
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

	ctx    context.Context
	stdout io.Writer
	stderr io.Writer
	stdin  io.Reader
}

// CLI is the command line.
type CLI struct {
	Globals

	Ingest  IngestCmd  `cmd:"" help:"Read captures into a DuckDB database."`
	Capture CaptureCmd `cmd:"" help:"Capture from a network interface into a DuckDB database, queryable while it runs."`
	Devices DevicesCmd `cmd:"" help:"List the interfaces pcapq can capture on."`
	Query   QueryCmd   `cmd:"" help:"Run SQL over a database, or over captures read into memory."`
	Schema  SchemaCmd  `cmd:"" help:"List every table and column with its type and meaning."`
	Version VersionCmd `cmd:"" help:"Print the version."`
}

// exitError carries an exit status up to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
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
		kong.NamedMapper("rawpath", rawString),
	)
	if err != nil {
		fmt.Fprintln(stderr, "pcapq:", err)
		return 1
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 {
		return exitCode // --help
	}
	if err != nil {
		fmt.Fprintln(stderr, "pcapq:", err)
		return 2
	}
	cli.Globals.ctx = ctx
	cli.Globals.stdout = stdout
	cli.Globals.stderr = stderr
	cli.Globals.stdin = stdin
	if n, err := parseSize(cli.GoMemory); err != nil {
		fmt.Fprintln(stderr, "pcapq: --go-memory:", err)
		return 2
	} else if n > 0 && os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(n)
	}
	if cli.CPUProfile != "" {
		f, err := os.Create(cli.CPUProfile)
		if err != nil {
			fmt.Fprintln(stderr, "pcapq:", err)
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
		fmt.Fprintln(stderr, "pcapq:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		if errors.Is(err, context.Canceled) {
			return 130
		}
		return 1
	}
	return 0
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
