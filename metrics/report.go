package metrics

import (
	"bufio"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Formats are the report formats.
var Formats = []string{"text", "md", "json", "junit"}

// Report is a diff or check result ready to be written.
type Report struct {
	Diff  *DiffResult  // set for pcapq diff
	Check *CheckResult // set for pcapq check
	// Time is when the run started, Elapsed how long it took; Hostname
	// goes into JUnit. They are parameters so that output is reproducible.
	Time     time.Time
	Elapsed  time.Duration
	Hostname string
	// Top bounds the lists of the text and Markdown reports (0: 20).
	Top int
}

func (r *Report) verb() string {
	if r.Diff != nil {
		return "diff"
	}
	return "check"
}

func (r *Report) outcomes() []Outcome {
	if r.Diff != nil {
		return r.Diff.Outcomes
	}
	return r.Check.Outcomes
}

func (r *Report) top() int {
	if r.Top > 0 {
		return r.Top
	}
	return 20
}

// Write writes the report in format (text, md, json, junit).
func (r *Report) Write(w io.Writer, format string) error {
	bw := bufio.NewWriter(w)
	var err error
	switch format {
	case "text", "":
		r.writeText(bw)
	case "md", "markdown":
		r.writeMarkdown(bw)
	case "json":
		err = r.writeJSON(bw)
	case "junit", "xml":
		err = r.writeJUnit(bw)
	default:
		return fmt.Errorf("unknown format %q (text, md, json, junit)", format)
	}
	if err != nil {
		return err
	}
	return bw.Flush()
}

// sortedOutcomes puts broken rules first, worst first, then rules
// without data, then the rules that hold, each in rule order.
func sortedOutcomes(os []Outcome) []Outcome {
	out := append([]Outcome(nil), os...)
	rank := func(o Outcome) int {
		switch o.Status {
		case Fail:
			return 0
		case NoData:
			return 1
		}
		return 2
	}
	worst := func(o Outcome) float64 {
		if len(o.Breaches) == 0 {
			return 0
		}
		return o.Breaches[0].Excess
	}
	sort.SliceStable(out, func(i, j int) bool {
		if rank(out[i]) != rank(out[j]) {
			return rank(out[i]) < rank(out[j])
		}
		return rank(out[i]) == 0 && worst(out[i]) > worst(out[j])
	})
	return out
}

func counts(os []Outcome) (pass, fail, nodata int) {
	for _, o := range os {
		switch o.Status {
		case Pass:
			pass++
		case Fail:
			fail++
		default:
			nodata++
		}
	}
	return
}

func describeSnap(s *Snapshot) string {
	var pk int64
	var secs float64
	for _, c := range s.Captures {
		pk += c.Packets
		secs += c.DurationS
	}
	n := "capture"
	if len(s.Captures) != 1 {
		n = "captures"
	}
	return fmt.Sprintf("%d %s, %.1f s, %d packets", len(s.Captures), n, secs, pk)
}

func ruleLabel(o Outcome) string {
	if o.Name != "" {
		return o.Name + " (" + o.Rule + ")"
	}
	return o.Rule
}

// ---- text ----

func (r *Report) writeText(w *bufio.Writer) {
	os := r.outcomes()
	pass, fail, nodata := counts(os)
	verdict := "PASS"
	if fail > 0 {
		verdict = "FAIL"
	}
	fmt.Fprintf(w, "pcapq %s: %s, %d of %d rules broken\n", r.verb(), verdict, fail, len(os))
	if d := r.Diff; d != nil {
		fmt.Fprintf(w, "  base: %s (%s)\n", shown(d.Base.Source), describeSnap(d.Base))
		fmt.Fprintf(w, "  new:  %s (%s)\n", shown(d.New.Source), describeSnap(d.New))
	} else {
		fmt.Fprintf(w, "  capture: %s (%s)\n", shown(r.Check.Snap.Source), describeSnap(r.Check.Snap))
	}
	for _, o := range sortedOutcomes(os) {
		if o.Status != Fail {
			continue
		}
		fmt.Fprintf(w, "\nFAIL %s\n", shown(ruleLabel(o)))
		for i, b := range o.Breaches {
			if i == r.top() {
				fmt.Fprintf(w, "    ... and %d more\n", len(o.Breaches)-i)
				break
			}
			if b.Subject != "" {
				fmt.Fprintf(w, "    %s: %s\n", shown(b.Subject), shown(b.Text))
			} else {
				fmt.Fprintf(w, "    %s\n", shown(b.Text))
			}
		}
	}
	if d := r.Diff; d != nil {
		for _, l := range []struct {
			title string
			items []Item
			unit  string
		}{
			{"New hosts", d.NewHosts, ""}, {"Gone hosts", d.GoneHosts, ""},
			{"New ports", d.NewPorts, "flows"}, {"Gone ports", d.GonePorts, "flows"},
			{"New endpoints", d.NewEndpoints, "requests"}, {"Gone endpoints", d.GoneEndpoints, "requests"},
		} {
			if len(l.items) == 0 {
				continue
			}
			fmt.Fprintf(w, "\n%s (%d):\n", l.title, len(l.items))
			for i, it := range l.items {
				if i == r.top() {
					fmt.Fprintf(w, "  ... and %d more\n", len(l.items)-i)
					break
				}
				allowed := ""
				if it.Allowed {
					allowed = " (allowed)"
				}
				unit := l.unit
				if unit == "" {
					unit = hostUnit(it.Key)
				}
				fmt.Fprintf(w, "  %s  %d %s%s\n", shown(it.Key), it.Count, unit, allowed)
			}
		}
		if len(d.Changes) > 0 {
			fmt.Fprintf(w, "\nChanged (%d, most important first):\n", len(d.Changes))
			for i, c := range d.Changes {
				if i == r.top() {
					fmt.Fprintf(w, "  ... and %d more (--format json lists every metric)\n", len(d.Changes)-i)
					break
				}
				def, _ := Lookup(c.Metric)
				subj := ""
				if c.Subject != "" {
					subj = " [" + shown(c.Subject) + "]"
				}
				fmt.Fprintf(w, "  %s%s: %s -> %s (%s)\n", c.Metric, subj, FormatValue(def, c.Base.V), FormatValue(def, c.New.V), describeChange(def, c.Base.V, c.New.V))
			}
		}
		if d.Findings() == 0 {
			fmt.Fprintf(w, "\nNo findings: nothing new, gone or notably changed.\n")
		}
		writeNotes(w, d.Base, "base")
		writeNotes(w, d.New, "new")
	} else {
		writeNotes(w, r.Check.Snap, "capture")
	}
	if nodata > 0 {
		fmt.Fprintf(w, "\nNot evaluated (no data):\n")
		for _, o := range os {
			if o.Status == NoData {
				fmt.Fprintf(w, "  %s: %s\n", shown(ruleLabel(o)), shown(o.Note))
			}
		}
	}
	fmt.Fprintf(w, "\nRules: %d passed, %d broken, %d without data.\n", pass, fail, nodata)
}

// hostUnit is what a host item's count counts.
func hostUnit(key string) string {
	switch kind, _, _ := strings.Cut(key, " "); kind {
	case "http":
		return "requests"
	case "tls":
		return "TLS sessions"
	case "dns":
		return "queries"
	}
	return "flows"
}

func writeNotes(w *bufio.Writer, s *Snapshot, side string) {
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note (%s): %s\n", side, n)
	}
}

// ---- Markdown ----

func (r *Report) writeMarkdown(w *bufio.Writer) {
	os := r.outcomes()
	pass, fail, nodata := counts(os)
	if fail > 0 {
		fmt.Fprintf(w, "### :x: pcapq %s: %d of %d rules broken\n\n", r.verb(), fail, len(os))
	} else {
		fmt.Fprintf(w, "### :white_check_mark: pcapq %s: no rule broken (%d rules)\n\n", r.verb(), len(os))
	}
	if d := r.Diff; d != nil {
		fmt.Fprintf(w, "Base %s (%s); new %s (%s).\n\n", mdCode(d.Base.Source, false), describeSnap(d.Base), mdCode(d.New.Source, false), describeSnap(d.New))
	} else {
		fmt.Fprintf(w, "Capture %s (%s).\n\n", mdCode(r.Check.Snap.Source, false), describeSnap(r.Check.Snap))
	}
	if fail > 0 {
		fmt.Fprintf(w, "| rule | subject | what |\n|---|---|---|\n")
		for _, o := range sortedOutcomes(os) {
			if o.Status != Fail {
				continue
			}
			for i, b := range o.Breaches {
				if i == r.top() {
					fmt.Fprintf(w, "| %s | | %s |\n", mdCode(ruleLabel(o), true), mdText(fmt.Sprintf("and %d more", len(o.Breaches)-i)))
					break
				}
				fmt.Fprintf(w, "| %s | %s | %s |\n", mdCode(ruleLabel(o), true), mdCode(b.Subject, true), mdCode(b.Text, true))
			}
		}
		fmt.Fprintln(w)
	}
	if d := r.Diff; d != nil {
		for _, l := range []struct {
			title, col string
			items      []Item
		}{
			{"New hosts", "host", d.NewHosts}, {"Gone hosts", "host", d.GoneHosts},
			{"New ports", "port", d.NewPorts}, {"Gone ports", "port", d.GonePorts},
			{"New endpoints", "endpoint", d.NewEndpoints}, {"Gone endpoints", "endpoint", d.GoneEndpoints},
		} {
			if len(l.items) == 0 {
				continue
			}
			fmt.Fprintf(w, "#### %s (%d)\n\n| %s | seen | allowlisted |\n|---|---:|---|\n", l.title, len(l.items), l.col)
			for i, it := range l.items {
				if i == r.top() {
					fmt.Fprintf(w, "| %s | | |\n", mdText(fmt.Sprintf("and %d more", len(l.items)-i)))
					break
				}
				allowed := ""
				if it.Allowed {
					allowed = "yes"
				}
				fmt.Fprintf(w, "| %s | %d | %s |\n", mdCode(it.Key, true), it.Count, allowed)
			}
			fmt.Fprintln(w)
		}
		if len(d.Changes) > 0 {
			fmt.Fprintf(w, "#### Biggest changes (%d in all; the JSON report lists every metric)\n\n| metric | subject | base | new | change |\n|---|---|---:|---:|---:|\n", len(d.Changes))
			for i, c := range d.Changes {
				if i == r.top() {
					break
				}
				def, _ := Lookup(c.Metric)
				fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", mdCode(c.Metric, true), mdCode(c.Subject, true),
					mdText(FormatValue(def, c.Base.V)), mdText(FormatValue(def, c.New.V)), mdText(describeChange(def, c.Base.V, c.New.V)))
			}
			fmt.Fprintln(w)
		}
		if d.Findings() == 0 {
			fmt.Fprintf(w, "No findings: nothing new, gone or notably changed.\n\n")
		}
	}
	fmt.Fprintf(w, "<details><summary>All rules: %d passed, %d broken, %d without data</summary>\n\n| | rule | evaluated | note |\n|---|---|---:|---|\n", pass, fail, nodata)
	for _, o := range os {
		mark := ":white_check_mark:"
		switch o.Status {
		case Fail:
			mark = ":x:"
		case NoData:
			mark = ":grey_question:"
		}
		fmt.Fprintf(w, "| %s | %s | %d | %s |\n", mark, mdCode(ruleLabel(o), true), o.Evaluated, mdCode(o.Note, true))
	}
	fmt.Fprintf(w, "\n</details>\n")
}

// ---- JSON ----

type jsonValue struct {
	V *float64 `json:"value"`
	N int64    `json:"n"`
}

func jv(v Value) jsonValue {
	if !v.Defined() || math.IsInf(v.V, 0) {
		return jsonValue{N: v.N}
	}
	x := v.V
	return jsonValue{V: &x, N: v.N}
}

func jmetrics(m Metrics) map[string]jsonValue {
	out := make(map[string]jsonValue, len(m))
	for k, v := range m {
		out[k] = jv(v)
	}
	return out
}

type jsonGroup struct {
	Method  string               `json:"method,omitempty"`
	Host    string               `json:"host,omitempty"`
	Path    string               `json:"path,omitempty"`
	Server  string               `json:"server,omitempty"`
	Status  map[string]int64     `json:"status,omitempty"`
	Metrics map[string]jsonValue `json:"metrics"`
}

func jstatus(m map[int]int64) map[string]int64 {
	if len(m) == 0 {
		return nil
	}
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[strconv.Itoa(k)] = v
	}
	return out
}

type jsonCount struct {
	Kind  string `json:"kind,omitempty"`
	Key   string `json:"key"`
	Count int64  `json:"count"`
}

type jsonSnap struct {
	Source      string               `json:"source"`
	Captures    []Capture            `json:"captures"`
	Metrics     map[string]jsonValue `json:"metrics"`
	Endpoints   []jsonGroup          `json:"endpoints"`
	HTTPHosts   []jsonGroup          `json:"http_hosts"`
	Servers     []jsonGroup          `json:"servers"`
	Hosts       []jsonCount          `json:"hosts"`
	Ports       []jsonCount          `json:"ports"`
	TLSVersions []jsonCount          `json:"tls_versions,omitempty"`
	Notes       []string             `json:"notes,omitempty"`
}

func jsnap(s *Snapshot) *jsonSnap {
	if s == nil {
		return nil
	}
	j := &jsonSnap{Source: s.Source, Captures: s.Captures, Metrics: jmetrics(s.Global), Notes: s.Notes,
		Endpoints: []jsonGroup{}, HTTPHosts: []jsonGroup{}, Servers: []jsonGroup{}, Hosts: []jsonCount{}, Ports: []jsonCount{}}
	for _, e := range s.sortedEndpoints() {
		g := s.Endpoints[e]
		j.Endpoints = append(j.Endpoints, jsonGroup{Method: e.Method, Host: e.Host, Path: e.Path, Status: jstatus(g.Status), Metrics: jmetrics(g.Metrics)})
	}
	for _, h := range sortedGroupKeys(s.HTTPHosts, "http.requests") {
		g := s.HTTPHosts[h]
		j.HTTPHosts = append(j.HTTPHosts, jsonGroup{Host: h, Status: jstatus(g.Status), Metrics: jmetrics(g.Metrics)})
	}
	for _, h := range sortedGroupKeys(s.Servers, "tcp.connections") {
		j.Servers = append(j.Servers, jsonGroup{Server: h, Metrics: jmetrics(s.Servers[h].Metrics)})
	}
	for _, h := range sortedKeys(s.Hosts, func(h HostItem) string { return h.String() }) {
		j.Hosts = append(j.Hosts, jsonCount{Kind: h.Kind, Key: h.Name, Count: s.Hosts[h]})
	}
	for _, p := range sortedKeys(s.Ports, func(p string) string { return p }) {
		j.Ports = append(j.Ports, jsonCount{Key: p, Count: s.Ports[p]})
	}
	for _, v := range sortedKeys(s.TLSVersions, func(p string) string { return p }) {
		j.TLSVersions = append(j.TLSVersions, jsonCount{Key: v, Count: s.TLSVersions[v]})
	}
	return j
}

type jsonBreach struct {
	Subject string     `json:"subject,omitempty"`
	Base    *jsonValue `json:"base,omitempty"`
	New     jsonValue  `json:"new"`
	Text    string     `json:"text"`
}

type jsonOutcome struct {
	Rule      string       `json:"rule"`
	Name      string       `json:"name,omitempty"`
	Default   bool         `json:"default,omitempty"`
	Status    string       `json:"status"`
	Evaluated int          `json:"evaluated"`
	Note      string       `json:"note,omitempty"`
	Breaches  []jsonBreach `json:"breaches,omitempty"`
}

type jsonItem struct {
	Key     string `json:"key"`
	Count   int64  `json:"count"`
	Allowed bool   `json:"allowed,omitempty"`
}

func jitems(its []Item) []jsonItem {
	out := []jsonItem{}
	for _, it := range its {
		out = append(out, jsonItem(it))
	}
	return out
}

type jsonChange struct {
	Metric  string    `json:"metric"`
	Subject string    `json:"subject,omitempty"`
	Base    jsonValue `json:"base"`
	New     jsonValue `json:"new"`
	Score   float64   `json:"score"`
}

type jsonReport struct {
	Verb          string        `json:"verb"`
	Status        string        `json:"status"`
	Broken        int           `json:"broken"`
	Findings      *int          `json:"findings,omitempty"`
	Time          string        `json:"time,omitempty"`
	ElapsedS      float64       `json:"elapsed_s"`
	Rules         []jsonOutcome `json:"rules"`
	NewHosts      []jsonItem    `json:"new_hosts,omitempty"`
	GoneHosts     []jsonItem    `json:"gone_hosts,omitempty"`
	NewPorts      []jsonItem    `json:"new_ports,omitempty"`
	GonePorts     []jsonItem    `json:"gone_ports,omitempty"`
	NewEndpoints  []jsonItem    `json:"new_endpoints,omitempty"`
	GoneEndpoints []jsonItem    `json:"gone_endpoints,omitempty"`
	Changes       []jsonChange  `json:"changes,omitempty"`
	Base          *jsonSnap     `json:"base,omitempty"`
	New           *jsonSnap     `json:"new,omitempty"`
	Capture       *jsonSnap     `json:"capture,omitempty"`
}

func (r *Report) writeJSON(w io.Writer) error {
	os := r.outcomes()
	j := jsonReport{Verb: r.verb(), Status: "pass", Broken: broken(os), ElapsedS: r.Elapsed.Seconds(), Rules: []jsonOutcome{}}
	if !r.Time.IsZero() {
		j.Time = r.Time.UTC().Format(time.RFC3339)
	}
	if j.Broken > 0 {
		j.Status = "fail"
	}
	for _, o := range os {
		jo := jsonOutcome{Rule: o.Rule, Name: o.Name, Default: o.Default, Status: o.Status.String(), Evaluated: o.Evaluated, Note: o.Note}
		for _, b := range o.Breaches {
			jb := jsonBreach{Subject: b.Subject, New: jv(b.New), Text: b.Text}
			if r.Diff != nil {
				bv := jv(b.Base)
				jb.Base = &bv
			}
			jo.Breaches = append(jo.Breaches, jb)
		}
		j.Rules = append(j.Rules, jo)
	}
	if d := r.Diff; d != nil {
		f := d.Findings()
		j.Findings = &f
		j.NewHosts, j.GoneHosts = jitems(d.NewHosts), jitems(d.GoneHosts)
		j.NewPorts, j.GonePorts = jitems(d.NewPorts), jitems(d.GonePorts)
		j.NewEndpoints, j.GoneEndpoints = jitems(d.NewEndpoints), jitems(d.GoneEndpoints)
		j.Changes = []jsonChange{}
		for _, c := range d.Changes {
			j.Changes = append(j.Changes, jsonChange{Metric: c.Metric, Subject: c.Subject, Base: jv(c.Base), New: jv(c.New), Score: c.Score})
		}
		j.Base, j.New = jsnap(d.Base), jsnap(d.New)
	} else {
		j.Capture = jsnap(r.Check.Snap)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(j)
}

// ---- JUnit XML ----
//
// The shape satisfies both JUnit schemas CI tools read: Apache Ant's
// (testsuites without attributes; testsuite with name, package, id,
// timestamp without zone, hostname, tests, failures, errors, time; a
// properties element first and system-out, system-err last; a testcase
// with name, classname and time holding at most one failure, error or
// skipped, failure with message and type) and Jenkins' junit-10.xsd.
// metrics/testdata/junit.xsd encodes both; a test validates against it.

type junitSuites struct {
	XMLName xml.Name     `xml:"testsuites"`
	Suites  []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name       string          `xml:"name,attr"`
	Package    string          `xml:"package,attr"`
	ID         int             `xml:"id,attr"`
	Timestamp  string          `xml:"timestamp,attr"`
	Hostname   string          `xml:"hostname,attr"`
	Tests      int             `xml:"tests,attr"`
	Failures   int             `xml:"failures,attr"`
	Errors     int             `xml:"errors,attr"`
	Skipped    int             `xml:"skipped,attr"`
	Time       string          `xml:"time,attr"`
	Properties []junitProperty `xml:"properties>property"`
	Cases      []junitCase     `xml:"testcase"`
	SystemOut  string          `xml:"system-out"`
	SystemErr  string          `xml:"system-err"`
}

type junitProperty struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitFailure `xml:"failure,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr,omitempty"`
}

func (r *Report) writeJUnit(w io.Writer) error {
	os := r.outcomes()
	_, fail, nodata := counts(os)
	host := r.Hostname
	if host == "" {
		host = "localhost"
	}
	ts := r.Time
	if ts.IsZero() {
		ts = time.Now()
	}
	s := junitSuite{
		Name: "pcapq " + r.verb(), Package: "pcapq", Timestamp: ts.UTC().Format("2006-01-02T15:04:05"), Hostname: EscapeText(host),
		Tests: len(os), Failures: fail, Skipped: nodata, Time: strconv.FormatFloat(r.Elapsed.Seconds(), 'f', 3, 64),
		Properties: []junitProperty{},
	}
	if d := r.Diff; d != nil {
		s.Properties = append(s.Properties, junitProperty{"base", EscapeText(d.Base.Source)}, junitProperty{"new", EscapeText(d.New.Source)})
	} else {
		s.Properties = append(s.Properties, junitProperty{"capture", EscapeText(r.Check.Snap.Source)})
	}
	seen := map[string]int{}
	for _, o := range os {
		name := EscapeText(ruleLabel(o))
		if seen[name]++; seen[name] > 1 { // test names are unique in a suite
			name += fmt.Sprintf(" #%d", seen[name])
		}
		c := junitCase{Name: name, Classname: "pcapq." + r.verb(), Time: "0"}
		switch o.Status {
		case Fail:
			var lines []string
			for _, b := range o.Breaches {
				if b.Subject != "" {
					lines = append(lines, EscapeText(b.Subject)+": "+EscapeText(b.Text))
				} else {
					lines = append(lines, EscapeText(b.Text))
				}
			}
			msg := lines[0]
			if len(lines) > 1 {
				msg = fmt.Sprintf("%s (and %d more)", lines[0], len(lines)-1)
			}
			c.Failure = &junitFailure{Message: msg, Type: "pcapq.rule", Text: strings.Join(lines, "\n")}
		case NoData:
			c.Skipped = &junitSkipped{Message: "no data: " + EscapeText(o.Note)}
		}
		s.Cases = append(s.Cases, c)
	}
	var text strings.Builder
	bw := bufio.NewWriter(&text)
	r.writeText(bw)
	bw.Flush()
	s.SystemOut = text.String()
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(junitSuites{Suites: []junitSuite{s}}); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
