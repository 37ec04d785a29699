package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pcapq/pcapq/metrics"
	"github.com/pcapq/pcapq/query"
)

// DiffCmd compares two captures (or databases) for CI.
type DiffCmd struct {
	Base        rawArg   `arg:"" optional:"" name:"base" help:"Baseline: a database written by 'pcapq ingest', or a capture (read into memory)."`
	New         rawArg   `arg:"" optional:"" name:"new" help:"The capture (or database) to compare with the baseline."`
	DB          string   `short:"d" name:"db" type:"rawpath" help:"One database holding both sides, chosen with --base-capture and --capture."`
	BaseCapture []int    `name:"base-capture" placeholder:"ID" sep:"none" help:"Capture id(s) of the baseline side (default: every capture of BASE)."`
	Capture     []int    `name:"capture" placeholder:"ID" sep:"none" help:"Capture id(s) of the new side (default: every capture of NEW)."`
	FailOn      []string `name:"fail-on" placeholder:"RULE" sep:"none" help:"Rule METRIC[SCOPE]:CHANGE, e.g. 'http.p99_ttfb_ms:+20%', 'tcp.retransmit_rate:+0.1pp', 'new_hosts:0', 'http.p99_ttfb_ms[GET /api/*]:+10%,floor=5ms'. Replaces the built-in rule of the same metric and scope."`
	Rules       string   `name:"rules" type:"rawpath" placeholder:"FILE" help:"YAML rules file (diff:, check:, allow:; see README)."`
	NoDefaults  bool     `name:"no-defaults" help:"Drop the built-in rules (pcapq diff --list-metrics prints them)."`
	allowFlags
	outputFlags
	ListMetrics bool `name:"list-metrics" help:"Print every metric and the built-in rules, then exit."`
}

// allowFlags are the allowlist flags of diff and check.
type allowFlags struct {
	AllowHost     []string `name:"allow-host" placeholder:"PATTERN" sep:"none" help:"Allowed server host: name glob (*.example.test) or address prefix (10.0.0.0/8). diff: not counted as new; check: any other host breaks the allowlist."`
	AllowPort     []string `name:"allow-port" placeholder:"PORT" sep:"none" help:"Allowed server port: tcp/443, udp/53, tcp/* or 80."`
	AllowEndpoint []string `name:"allow-endpoint" placeholder:"PATTERN" sep:"none" help:"Allowed endpoint: 'GET /api/*', /healthz."`
}

func (a allowFlags) list() metrics.Allowlist {
	return metrics.Allowlist{Hosts: a.AllowHost, Ports: a.AllowPort, Endpoints: a.AllowEndpoint}
}

// outputFlags choose the report formats.
type outputFlags struct {
	Format string   `short:"f" help:"Report format: text, md (a pull-request comment), json (every metric) or junit (one testcase per rule)." default:"text" enum:"text,md,json,junit"`
	Output []rawArg `short:"o" placeholder:"FILE" sep:"none" help:"Write the report to FILE instead of stdout (repeatable; the format follows the extension: .xml junit, .md md, .json json, .txt text, else --format); stdout then gets a one-line summary."`
}

// usageErr is an exit status 2 error.
func usageErr(format string, args ...any) error {
	return &exitError{2, fmt.Errorf(format, args...)}
}

// inputErr turns any error but an interrupt into exit status 2: status 1
// means a broken rule.
func inputErr(err error) error {
	var ee *exitError
	if err == nil || errors.Is(err, context.Canceled) || errors.As(err, &ee) {
		return err
	}
	return &exitError{2, err}
}

// Run compares the two sides.
func (c *DiffCmd) Run(g *Globals) error {
	if c.ListMetrics {
		return listMetrics(g.stdout)
	}
	start := time.Now()
	rules, allow, err := c.rules()
	if err != nil {
		return inputErr(err)
	}
	var base, cur *side
	switch {
	case c.DB != "" && (c.Base != "" || c.New != ""):
		return usageErr("give either --db with --base-capture and --capture, or BASE and NEW")
	case c.DB != "":
		if len(c.BaseCapture) == 0 || len(c.Capture) == 0 {
			return usageErr("--db needs --base-capture ID and --capture ID")
		}
		base, err = openSide(g, c.DB, "--db")
		if err != nil {
			return inputErr(err)
		}
		defer base.close()
		cur = &side{db: base.db, name: base.name, close: func() {}}
	case c.Base == "" || c.New == "":
		return usageErr("pcapq diff needs BASE and NEW (databases or captures), or --db with --base-capture and --capture")
	default:
		if base, err = openSide(g, string(c.Base), "BASE"); err != nil {
			return inputErr(err)
		}
		defer base.close()
		if !base.mem && sameFile(string(c.Base), string(c.New)) {
			// DuckDB opens a file once per process: both sides share it.
			cur = &side{db: base.db, name: string(c.New), close: func() {}}
			break
		}
		if cur, err = openSide(g, string(c.New), "NEW"); err != nil {
			return inputErr(err)
		}
		defer cur.close()
	}
	// Two databases are measured at once (each has its own DuckDB); one
	// database serves one query at a time.
	var bs, ns *metrics.Snapshot
	var berr, nerr error
	if base.db != cur.db {
		done := make(chan struct{})
		go func() {
			defer close(done)
			bs, berr = base.collect(g.ctx, c.BaseCapture, "--base-capture")
		}()
		ns, nerr = cur.collect(g.ctx, c.Capture, "--capture")
		<-done
	} else {
		bs, berr = base.collect(g.ctx, c.BaseCapture, "--base-capture")
		if berr == nil {
			ns, nerr = cur.collect(g.ctx, c.Capture, "--capture")
		}
	}
	if berr != nil {
		return inputErr(berr)
	}
	if nerr != nil {
		return inputErr(nerr)
	}
	res := metrics.Compare(bs, ns, rules, allow)
	rep := &metrics.Report{Diff: res, Time: start, Elapsed: time.Since(start), Hostname: hostname()}
	if err := writeReports(g, rep, c.outputFlags); err != nil {
		return inputErr(err)
	}
	if n := res.Broken(); n > 0 {
		return &exitError{1, fmt.Errorf("diff: %d of %d rules broken", n, len(res.Outcomes))}
	}
	return nil
}

// rules gathers the diff rules: built-in (unless turned off), the rules
// file's, the command line's.
func (c *DiffCmd) rules() ([]*metrics.DiffRule, *metrics.Allowlist, error) {
	var user []*metrics.DiffRule
	defaults := !c.NoDefaults
	allow := c.allowFlags.list()
	if c.Rules != "" {
		rf, err := metrics.LoadRules(c.Rules)
		if err != nil {
			return nil, nil, usageErr("%v", err)
		}
		user = append(user, rf.Diff...)
		defaults = defaults && rf.Defaults
		allow.Merge(rf.Allow)
	}
	for _, t := range c.FailOn {
		r, err := metrics.ParseDiffRule(t)
		if err != nil {
			return nil, nil, usageErr("--fail-on: %v", err)
		}
		user = append(user, r)
	}
	if err := allow.Check(); err != nil {
		return nil, nil, usageErr("%v", err)
	}
	var def []*metrics.DiffRule
	if defaults {
		def = metrics.Defaults()
	}
	rules := metrics.MergeRules(def, user)
	if len(rules) == 0 {
		return nil, nil, usageErr("no rules: --no-defaults needs --fail-on or --rules")
	}
	return rules, &allow, nil
}

// side is one side of a comparison: an open database.
type side struct {
	db    *query.DB
	name  string // as given, for messages
	mem   bool   // a capture read into memory
	close func()
}

// dbFileMagic is at offset 8 of a DuckDB database file.
var dbFileMagic = []byte("DUCK")

// openSide opens a database, or reads a capture into an in-memory one the
// way 'pcapq query CAPTURE SQL' does.
func openSide(g *Globals, path, what string) (*side, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, usageErr("%s %s: %w", what, query.Escape(path), err)
	}
	head := make([]byte, 12)
	n, _ := io.ReadFull(f, head)
	f.Close()
	if n == 12 && bytes.Equal(head[8:12], dbFileMagic) {
		db, err := query.Open(g.ctx, path)
		if err != nil {
			return nil, usageErr("%s %s: %w", what, query.Escape(path), err)
		}
		db.SetVersion(Version)
		if err := db.CheckSchema(g.ctx); err != nil {
			db.Close()
			return nil, usageErr("%s %s: %w", what, query.Escape(path), err)
		}
		return &side{db: db, name: path, close: func() { db.Close() }}, nil
	}
	db, closeDB, err := openCaptures(g, []string{path})
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, usageErr("%s: %w", what, err)
	}
	return &side{db: db, name: path, mem: true, close: closeDB}, nil
}

// collect measures the side's captures ids (all when none).
func (s *side) collect(ctx context.Context, ids []int, flag string) (*metrics.Snapshot, error) {
	if s.mem && len(ids) > 0 {
		return nil, usageErr("%s picks captures of a database; %s is a capture file", flag, query.Escape(s.name))
	}
	ids32 := make([]int32, len(ids))
	for i, id := range ids {
		ids32[i] = int32(id)
	}
	snap, err := metrics.Collect(ctx, s.db, ids32)
	switch {
	case errors.Is(err, metrics.ErrNoCapture):
		if len(ids) > 0 {
			return nil, usageErr("%s: no capture %v in %s (pcapq query -d %s \"SELECT capture_id, path FROM captures\" lists them)", flag, ids, query.Escape(s.name), query.Escape(s.name))
		}
		return nil, usageErr("%s holds no capture", query.Escape(s.name))
	case err != nil && !s.mem && strings.Contains(err.Error(), "does not exist"):
		return nil, usageErr("%s is not a pcapq database (%v)", query.Escape(s.name), err)
	case err != nil:
		return nil, err
	}
	if s.mem {
		snap.Source = s.name
	} else if len(ids) > 0 {
		snap.Source = fmt.Sprintf("%s capture %s", s.name, strings.Trim(fmt.Sprint(ids), "[]"))
	} else {
		snap.Source = s.name
	}
	return snap, nil
}

// writeReports writes the report to stdout, or to each -o file in the
// format its extension names.
func writeReports(g *Globals, rep *metrics.Report, o outputFlags) error {
	if len(o.Output) == 0 {
		return rep.Write(g.stdout, o.Format)
	}
	for _, raw := range o.Output {
		name := string(raw)
		format := o.Format
		switch strings.ToLower(filepath.Ext(name)) {
		case ".xml", ".junit":
			format = "junit"
		case ".md", ".markdown":
			format = "md"
		case ".json":
			format = "json"
		case ".txt", ".log":
			format = "text"
		}
		if name == "-" {
			if err := rep.Write(g.stdout, format); err != nil {
				return err
			}
			continue
		}
		f, err := os.Create(name)
		if err != nil {
			return err
		}
		err = rep.Write(f, format)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("%s: %w", query.Escape(name), err)
		}
	}
	if !g.Quiet {
		var os []metrics.Outcome
		if rep.Diff != nil {
			os = rep.Diff.Outcomes
		} else {
			os = rep.Check.Outcomes
		}
		broken := 0
		for _, o := range os {
			if o.Status == metrics.Fail {
				broken++
			}
		}
		verdict := "PASS"
		if broken > 0 {
			verdict = "FAIL"
		}
		verb := "check"
		if rep.Diff != nil {
			verb = "diff"
		}
		names := make([]string, len(o.Output))
		for i, n := range o.Output {
			names[i] = query.Escape(string(n))
		}
		fmt.Fprintf(g.stdout, "pcapq %s: %s, %d of %d rules broken (report: %s)\n", verb, verdict, broken, len(os), strings.Join(names, ", "))
	}
	return nil
}

func sameFile(a, b string) bool {
	sa, err1 := os.Stat(a)
	sb, err2 := os.Stat(b)
	return err1 == nil && err2 == nil && os.SameFile(sa, sb)
}

func hostname() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "localhost"
	}
	return h
}

// listMetrics prints the metric catalog and the built-in diff rules.
func listMetrics(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "METRIC\tUNIT\tSCOPES\tMIN SAMPLES\tMEANING")
	for _, d := range metrics.Catalog {
		var sc []string
		if d.Levels&metrics.PerEndpoint != 0 {
			sc = append(sc, "endpoint", "http host")
		}
		if d.Levels&metrics.PerServer != 0 {
			sc = append(sc, "server")
		}
		if d.Levels&metrics.DiffOnly != 0 {
			sc = append(sc, "diff only")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", d.Name, d.Unit, strings.Join(sc, ", "), d.MinSamples, d.Help)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nBuilt-in diff rules (--no-defaults drops them; a rule of the same metric and scope replaces one):")
	for _, r := range metrics.DefaultDiffRules {
		fmt.Fprintln(w, "  "+r)
	}
	return nil
}
