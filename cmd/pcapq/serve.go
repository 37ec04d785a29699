package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/report"
	"github.com/pcapq/pcapq/serve"
)

// ServeCmd serves the report of a database as a web page with a read-only
// SQL console.
type ServeCmd struct {
	Inputs       []rawArg      `arg:"" name:"database|capture" help:"A database written by 'pcapq ingest', or captures to read first (into a temporary database)."`
	Listen       string        `help:"Address to listen on (host:port). Only loopback unless --allow-remote." default:"127.0.0.1:8080"`
	AllowRemote  bool          `name:"allow-remote" help:"Allow --listen on an address other than loopback: anyone who can reach it can read the whole database."`
	Captures     []int32       `name:"capture" sep:"," help:"Report on these capture_ids only (the console sees every table)."`
	Top          int           `help:"Rows kept in each ranked table of the report." default:"10"`
	QueryTimeout time.Duration `name:"query-timeout" help:"A console query running longer is cancelled." default:"30s"`
	MaxRows      int           `name:"max-rows" help:"Console results are cut to this many rows, with a notice." default:"10000"`
	Memory       string        `name:"memory-limit" help:"DuckDB memory limit for the report and the console; past it DuckDB spills to the temporary directory." default:"256MB"`
}

// testServeHook, when set, is told the address served (tests listen on
// port 0).
var testServeHook func(addr string)

// isLoopback reports whether a listen host is a loopback address or
// localhost.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Run opens the database read-only (reading captures into a temporary
// database first), listens and serves until interrupted.
func (c *ServeCmd) Run(g *Globals) error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return &exitError{2, fmt.Errorf("--listen %q: %w (want host:port, e.g. 127.0.0.1:8080)", c.Listen, err)}
	}
	loopback := isLoopback(host)
	if !loopback && !c.AllowRemote {
		return &exitError{2, fmt.Errorf("--listen %s is not a loopback address: the page gives SQL access to the whole database to anyone who can reach it; add --allow-remote to serve it anyway", c.Listen)}
	}
	if c.Top < 1 || c.MaxRows < 1 || c.QueryTimeout <= 0 {
		return &exitError{2, errors.New("--top, --max-rows and --query-timeout must be positive")}
	}
	path, source := "", ""
	if len(c.Inputs) == 1 && isDatabase(string(c.Inputs[0])) {
		path, source = string(c.Inputs[0]), string(c.Inputs[0])
	} else {
		// Captures: ingested into a temporary file, then opened read-only
		// like any database.
		dir, err := os.MkdirTemp("", "pcapq-serve-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "serve.duckdb")
		ing := &IngestCmd{Output: path, Captures: c.Inputs}
		quiet := *g
		quiet.Quiet = true
		if err := ing.Run(&quiet); err != nil {
			return err
		}
		for i, in := range c.Inputs {
			if i > 0 {
				source += ", "
			}
			source += string(in)
		}
	}
	db, err := openReadOnly(g, path, c.Memory)
	if err != nil {
		return err
	}
	defer db.Close()
	ln, err := net.Listen("tcp", c.Listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	o := serve.Options{
		Report:       report.Options{Captures: c.Captures, Top: c.Top, Tool: "pcapq " + Version, Database: source},
		QueryTimeout: c.QueryTimeout,
		MaxRows:      c.MaxRows,
	}
	if loopback {
		o.Hosts = serve.LoopbackHosts(addr)
		if host == "localhost" {
			o.Hosts = append(o.Hosts, c.Listen)
		}
	} else {
		fmt.Fprintf(g.stderr, "pcapq: WARNING: serving on %s, not loopback: anyone who can reach it can read the whole database with SQL\n", addr)
	}
	srv := serve.New(db, o)
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(g.stderr, "pcapq: serving %s at http://%s/ (Ctrl-C to stop)\n", query.Escape(source), addr)
	if testServeHook != nil {
		testServeHook(addr)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		srv.Close()
		return err
	case <-g.ctx.Done():
	}
	srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	hs.Shutdown(ctx)
	return nil
}
