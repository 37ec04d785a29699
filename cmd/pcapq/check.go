package main

import (
	"fmt"
	"time"

	"github.com/pcapq/pcapq/metrics"
)

// CheckCmd asserts absolute limits on one capture (or database).
type CheckCmd struct {
	Input           rawArg   `arg:"" optional:"" name:"db|capture" help:"A database written by 'pcapq ingest', or a capture (read into memory)."`
	DB              string   `short:"d" name:"db" type:"rawpath" help:"Database (instead of the argument)."`
	Capture         []int    `name:"capture" placeholder:"ID" sep:"none" help:"Capture id(s) of the database to check (default: every capture)."`
	FailOn          []string `name:"fail-on" placeholder:"RULE" sep:"none" help:"Assertion METRIC[SCOPE] OP VALUE that must hold, e.g. 'tcp.retransmit_rate<1%', 'http.5xx_rate<=0', 'http.p99_ttfb_ms[GET /api/*]<200ms'; OP is < <= > >= == !=."`
	Rules           string   `name:"rules" type:"rawpath" placeholder:"FILE" help:"YAML rules file (its check: and allow: parts)."`
	AllowTLSVersion []string `name:"allow-tls-version" placeholder:"VERSION" sep:"none" help:"Allowed TLS version (e.g. TLSv1.3), when the database records TLS."`
	allowFlags
	outputFlags
}

// Run checks the assertions.
func (c *CheckCmd) Run(g *Globals) error {
	start := time.Now()
	var rules []*metrics.CheckRule
	allow := c.allowFlags.list()
	allow.TLSVersions = append(allow.TLSVersions, c.AllowTLSVersion...)
	if c.Rules != "" {
		rf, err := metrics.LoadRules(c.Rules)
		if err != nil {
			return usageErr("%v", err)
		}
		rules = append(rules, rf.Check...)
		allow.Merge(rf.Allow)
	}
	for _, t := range c.FailOn {
		r, err := metrics.ParseCheckRule(t)
		if err != nil {
			return usageErr("--fail-on: %v", err)
		}
		rules = append(rules, r)
	}
	if err := allow.Check(); err != nil {
		return usageErr("%v", err)
	}
	if len(rules) == 0 && allow.Empty() {
		return usageErr("nothing to check: give --fail-on, --allow-host/--allow-port/--allow-endpoint/--allow-tls-version or --rules (pcapq diff --list-metrics lists the metrics)")
	}
	path, what := string(c.Input), "capture"
	switch {
	case c.DB != "" && c.Input != "":
		return usageErr("give either --db or a database/capture argument, not both")
	case c.DB != "":
		path, what = c.DB, "--db"
	case c.Input == "":
		return usageErr("pcapq check needs a database or a capture")
	}
	s, err := openSide(g, path, what)
	if err != nil {
		return inputErr(err)
	}
	defer s.close()
	snap, err := s.collect(g.ctx, c.Capture, "--capture")
	if err != nil {
		return inputErr(err)
	}
	res := metrics.Check(snap, rules, &allow)
	rep := &metrics.Report{Check: res, Time: start, Elapsed: time.Since(start), Hostname: hostname()}
	if err := writeReports(g, rep, c.outputFlags); err != nil {
		return inputErr(err)
	}
	if n := res.Broken(); n > 0 {
		return &exitError{1, fmt.Errorf("check: %d of %d rules broken", n, len(res.Outcomes))}
	}
	return nil
}
