package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
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

// checkListen checks the address of a page (flag names its option):
// host:port, and loopback unless allowRemote.
func checkListen(flag, listen string, allowRemote bool) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return &exitError{2, fmt.Errorf("%s %q: %w (want host:port, e.g. 127.0.0.1:8080)", flag, listen, err)}
	}
	if !isLoopback(host) && !allowRemote {
		return &exitError{2, fmt.Errorf("%s %s is not a loopback address: the page gives SQL access to the whole database to anyone who can reach it; add --allow-remote to serve it anyway", flag, listen)}
	}
	return nil
}

// webListen listens on the address of a page (checked by checkListen)
// and returns the Host header values the server must answer to: on
// loopback, the address and its localhost names; elsewhere any, after a
// warning on stderr.
func webListen(g *Globals, listen string) (net.Listener, []string, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, nil, err
	}
	addr := ln.Addr().String()
	host, _, _ := net.SplitHostPort(listen)
	if !isLoopback(host) {
		fmt.Fprintf(g.stderr, "pcapq: WARNING: serving on %s, not loopback: anyone who can reach it can read the whole database with SQL\n", addr)
		return ln, nil, nil
	}
	hosts := serve.LoopbackHosts(addr)
	if host == "localhost" {
		hosts = append(hosts, listen)
	}
	return ln, hosts, nil
}

// webServer is a page served in the background (pcapq serve, pcapq
// capture --serve).
type webServer struct {
	srv    *serve.Server
	hs     *http.Server
	cancel context.CancelFunc // of the requests' context
	errc   chan error
	once   sync.Once
}

// startWeb serves srv on ln until stop.
func startWeb(ln net.Listener, srv *serve.Server) *webServer {
	ctx, cancel := context.WithCancel(context.Background())
	w := &webServer{srv: srv, cancel: cancel, errc: make(chan error, 1)}
	w.hs = &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { w.errc <- w.hs.Serve(ln) }()
	return w
}

// stop ends the event streams, cancels the queries running (through their
// requests' context) and shuts the server down.
func (w *webServer) stop() {
	w.once.Do(func() {
		w.srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		done := make(chan struct{})
		go func() { w.hs.Shutdown(ctx); close(done) }()
		// Shutdown closes the listener and the idle connections, then
		// waits for the handlers: cancelling their context ends a console
		// query now rather than at its time limit.
		w.cancel()
		<-done
		w.hs.Close()
	})
}

// Run opens the database read-only (reading captures into a temporary
// database first), listens and serves until interrupted.
func (c *ServeCmd) Run(g *Globals) error {
	if err := checkListen("--listen", c.Listen, c.AllowRemote); err != nil {
		return err
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
	ln, hosts, err := webListen(g, c.Listen)
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	srv := serve.New(db, serve.Options{
		Report:       report.Options{Captures: c.Captures, Top: c.Top, Tool: "pcapq " + Version, Database: source},
		QueryTimeout: c.QueryTimeout,
		MaxRows:      c.MaxRows,
		Hosts:        hosts,
	})
	web := startWeb(ln, srv)
	defer web.stop()
	fmt.Fprintf(g.stderr, "pcapq: serving %s at http://%s/ (Ctrl-C to stop)\n", query.Escape(source), addr)
	if testServeHook != nil {
		testServeHook(addr)
	}
	select {
	case err := <-web.errc:
		return err
	case <-g.ctx.Done():
	}
	return nil
}
