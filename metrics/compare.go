package metrics

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Status is a rule's outcome.
type Status int

// Outcomes: the rule holds, it is broken, or nothing could be measured
// (no subject matched, or too few samples).
const (
	Pass Status = iota
	Fail
	NoData
)

func (s Status) String() string {
	switch s {
	case Fail:
		return "fail"
	case NoData:
		return "no data"
	}
	return "pass"
}

// Breach is one subject that broke a rule.
type Breach struct {
	Subject string // "" for the whole capture
	Base    Value  // diff only
	New     Value
	// Text says what was measured against what limit, in words.
	Text string
	// Excess is how far past the limit (1 = at it): the sort key.
	Excess float64
}

// Outcome is a rule's result.
type Outcome struct {
	Rule    string // the rule as written
	Name    string // its label, if any
	Default bool   // a built-in rule
	Status  Status
	// Breaches are the subjects that broke it, worst first.
	Breaches []Breach
	// Evaluated counts the subjects measured; Note says why some were not.
	Evaluated int
	Note      string
}

// Item is a host, port or endpoint that is new or gone.
type Item struct {
	Key     string
	Count   int64 // flows or requests in the capture that has it
	Allowed bool  // allowlisted: not counted by new_ rules
}

// Change is a metric that moved notably between BASE and NEW.
type Change struct {
	Metric  string
	Subject string // "" for the whole capture
	Base    Value
	New     Value
	// Score orders changes by how much they matter: the change in units of
	// the notable threshold, times the subject's share of the traffic.
	Score float64
}

// DiffResult is what pcapq diff found.
type DiffResult struct {
	Base, New                   *Snapshot
	Outcomes                    []Outcome
	NewHosts, GoneHosts         []Item
	NewPorts, GonePorts         []Item
	NewEndpoints, GoneEndpoints []Item
	Changes                     []Change
}

// Broken counts the broken rules.
func (r *DiffResult) Broken() int { return broken(r.Outcomes) }

// Findings counts everything reported: broken rules, new and gone items,
// notable changes.
func (r *DiffResult) Findings() int {
	return r.Broken() + len(r.NewHosts) + len(r.GoneHosts) + len(r.NewPorts) + len(r.GonePorts) +
		len(r.NewEndpoints) + len(r.GoneEndpoints) + len(r.Changes)
}

func broken(os []Outcome) int {
	n := 0
	for _, o := range os {
		if o.Status == Fail {
			n++
		}
	}
	return n
}

// Compare diffs two snapshots under rules; allow exempts new hosts, ports
// and endpoints from the new_ counts (they are still listed).
func Compare(base, cur *Snapshot, rules []*DiffRule, allow *Allowlist) *DiffResult {
	r := &DiffResult{Base: base, New: cur}
	hostStr := func(h HostItem) string { return h.String() }
	r.NewHosts = newItems(cur.Hosts, base.Hosts, hostStr, func(h HostItem) bool { return allow.AllowsHost(h) })
	r.GoneHosts = newItems(base.Hosts, cur.Hosts, hostStr, nil)
	id := func(s string) string { return s }
	r.NewPorts = newItems(cur.Ports, base.Ports, id, allow.AllowsPort)
	r.GonePorts = newItems(base.Ports, cur.Ports, id, nil)
	reqs := func(s *Snapshot) map[Endpoint]int64 {
		m := make(map[Endpoint]int64, len(s.Endpoints))
		for e, g := range s.Endpoints {
			m[e] = int64(g.Metrics.Get("http.requests").V)
		}
		return m
	}
	be, ce := reqs(base), reqs(cur)
	epStr := func(e Endpoint) string { return e.String() }
	r.NewEndpoints = newItems(ce, be, epStr, allow.AllowsEndpoint)
	r.GoneEndpoints = newItems(be, ce, epStr, nil)
	for _, rule := range rules {
		r.Outcomes = append(r.Outcomes, r.evalRule(rule, allow))
	}
	r.Changes = notableChanges(base, cur)
	return r
}

func newItems[K comparable](in, notIn map[K]int64, str func(K) string, allowed func(K) bool) []Item {
	var out []Item
	for _, k := range sortedKeys(in, str) {
		if _, ok := notIn[k]; ok {
			continue
		}
		it := Item{Key: str(k), Count: in[k]}
		if allowed != nil {
			it.Allowed = allowed(k)
		}
		out = append(out, it)
	}
	return out
}

// subject is one thing a rule compares: its name and its metrics on
// each side.
type subject struct {
	name      string
	base, cur Metrics
}

// subjects lists what a scoped or global rule measures, present on both
// sides.
func subjects(def *Def, sc *Scope, base, cur *Snapshot) []subject {
	if sc == nil {
		return []subject{{"", base.Global, cur.Global}}
	}
	var out []subject
	httpMetric := def.Levels&PerEndpoint != 0
	switch {
	case httpMetric && (sc.Endpoint || sc.All):
		for _, e := range cur.sortedEndpoints() {
			if b, ok := base.Endpoints[e]; ok && sc.MatchEndpoint(e) {
				out = append(out, subject{e.String(), b.Metrics, cur.Endpoints[e].Metrics})
			}
		}
	case httpMetric:
		for _, h := range sortedGroupKeys(cur.HTTPHosts, "http.requests") {
			if b, ok := base.HTTPHosts[h]; ok && sc.MatchHost(h) {
				out = append(out, subject{h, b.Metrics, cur.HTTPHosts[h].Metrics})
			}
		}
	default:
		for _, h := range sortedGroupKeys(cur.Servers, "tcp.connections") {
			if b, ok := base.Servers[h]; ok && sc.MatchHost(h) {
				out = append(out, subject{h, b.Metrics, cur.Servers[h].Metrics})
			}
		}
	}
	return out
}

func sortedGroupKeys(m map[string]*Group, by string) []string {
	counts := make(map[string]int64, len(m))
	for k, g := range m {
		counts[k] = int64(g.Metrics.Get(by).V)
	}
	return sortedKeys(counts, func(s string) string { return s })
}

func (r *DiffResult) evalRule(rule *DiffRule, allow *Allowlist) Outcome {
	o := Outcome{Rule: rule.Text, Name: rule.Name, Default: rule.Default}
	def := rule.Metric
	if def.Levels&DiffOnly != 0 {
		return r.evalCount(rule, o)
	}
	min := rule.Min
	if min < 0 {
		min = def.MinSamples
	}
	subs := subjects(def, rule.Scope, r.Base, r.New)
	few, undef := 0, 0
	for _, s := range subs {
		b, n := s.base.Get(def.Name), s.cur.Get(def.Name)
		if !b.Defined() || !n.Defined() {
			undef++
			continue
		}
		if b.N < min || n.N < min {
			few++
			continue
		}
		o.Evaluated++
		if br, bad := rule.breach(b, n); bad {
			br.Subject = s.name
			o.Breaches = append(o.Breaches, br)
		}
	}
	sort.SliceStable(o.Breaches, func(i, j int) bool { return o.Breaches[i].Excess > o.Breaches[j].Excess })
	var notes []string
	if len(subs) == 0 && rule.Scope != nil {
		notes = append(notes, "nothing in both captures matches "+rule.Scope.Raw)
	}
	if undef > 0 {
		notes = append(notes, fmt.Sprintf("%d without a value", undef))
	}
	if few > 0 {
		notes = append(notes, fmt.Sprintf("%d with fewer than %d samples", few, min))
	}
	o.Note = strings.Join(notes, "; ")
	switch {
	case len(o.Breaches) > 0:
		o.Status = Fail
	case o.Evaluated == 0:
		o.Status = NoData
	}
	return o
}

// evalCount evaluates a new_/gone_ rule: the items counted must not
// exceed the amount.
func (r *DiffResult) evalCount(rule *DiffRule, o Outcome) Outcome {
	var items []Item
	switch rule.Metric.Name {
	case "new_hosts":
		items = r.NewHosts
	case "gone_hosts":
		items = r.GoneHosts
	case "new_ports":
		items = r.NewPorts
	case "gone_ports":
		items = r.GonePorts
	case "new_endpoints":
		items = r.NewEndpoints
	case "gone_endpoints":
		items = r.GoneEndpoints
	}
	var counted []Item
	for _, it := range items {
		if it.Allowed || !scopeMatchesItem(rule.Scope, rule.Metric.Name, it.Key) {
			continue
		}
		counted = append(counted, it)
	}
	o.Evaluated = 1
	n := float64(len(counted))
	if n > rule.Amount {
		o.Status = Fail
		keys := make([]string, 0, len(counted))
		for i, it := range counted {
			if i == 20 {
				keys = append(keys, fmt.Sprintf("and %d more", len(counted)-20))
				break
			}
			keys = append(keys, it.Key)
		}
		o.Breaches = []Breach{{New: Value{V: n, N: int64(n)}, Excess: n / math.Max(rule.Amount, 0.5),
			Text: fmt.Sprintf("%d %s (at most %s allowed): %s", len(counted), strings.ReplaceAll(rule.Metric.Name, "_", " "), fmtNum(rule.Amount), strings.Join(keys, ", "))}}
	}
	return o
}

func scopeMatchesItem(sc *Scope, metric, key string) bool {
	if sc == nil || sc.All {
		return true
	}
	switch {
	case strings.HasSuffix(metric, "_endpoints"):
		parts := strings.SplitN(key, " ", 3)
		if len(parts) != 3 {
			return false
		}
		return sc.MatchEndpoint(Endpoint{parts[0], parts[1], parts[2]})
	case strings.HasSuffix(metric, "_hosts"):
		_, name, _ := strings.Cut(key, " ")
		return sc.MatchHost(name)
	}
	return glob(sc.HostGlob, key)
}

// breach tests one subject's change against the rule.
func (rule *DiffRule) breach(b, n Value) (Breach, bool) {
	def := rule.Metric
	d := n.V - b.V
	var up, down bool
	var limit float64 // the change allowed, in the metric's unit
	switch rule.Kind {
	case Relative:
		limit = math.Abs(b.V) * rule.Amount / 100
	default:
		limit = rule.Amount
	}
	up = d > limit && d > rule.Floor
	down = -d > limit && -d > rule.Floor
	bad := rule.Dir >= 0 && up || rule.Dir <= 0 && down
	if !bad {
		return Breach{}, false
	}
	lim := math.Max(limit, rule.Floor)
	excess := math.Abs(d) / math.Max(lim, 1e-9)
	var what []string
	if rule.Kind == Relative {
		what = append(what, signed(rule.Dir)+fmtNum(rule.Amount)+"%")
	} else {
		what = append(what, signed(rule.Dir)+FormatChange(def, rule.Amount))
	}
	if rule.Floor > 0 {
		what = append(what, "floor "+FormatChange(def, rule.Floor))
	}
	text := fmt.Sprintf("%s: %s -> %s (%s; rule %s)", def.Name, FormatValue(def, b.V), FormatValue(def, n.V), describeChange(def, b.V, n.V), strings.Join(what, ", "))
	return Breach{Base: b, New: n, Text: text, Excess: excess}, true
}

func signed(dir int) string {
	switch {
	case dir > 0:
		return "+"
	case dir < 0:
		return "-"
	}
	return "±"
}

// describeChange is the change from b to n in the metric's terms: pp for
// rates, the unit and the relative change otherwise.
func describeChange(def *Def, b, n float64) string {
	d := n - b
	s := FormatChange(def, d)
	if d >= 0 {
		s = "+" + s
	}
	if def.Unit != Percent && b != 0 {
		s += fmt.Sprintf(", %+.0f%%", 100*d/math.Abs(b))
	}
	return s
}

// FormatValue writes a metric value with its unit.
func FormatValue(def *Def, v float64) string {
	if math.IsNaN(v) {
		return "n/a"
	}
	switch def.Unit {
	case Percent:
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	case Millis:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	case Seconds:
		return strconv.FormatFloat(v, 'f', 3, 64) + " s"
	case PerSecond:
		return si(v) + "/s"
	case Bytes:
		return si(v) + "B"
	}
	return fmtNum(v)
}

// si writes a number with an SI prefix past 10,000: 48.5M, 91.8k.
func si(v float64) string {
	a := math.Abs(v)
	for _, p := range []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e4, "k"}} {
		if a >= p.div {
			if p.suffix == "k" {
				p.div = 1e3
			}
			return strconv.FormatFloat(v/p.div, 'f', 1, 64) + p.suffix
		}
	}
	if v == math.Trunc(v) {
		return fmtNum(v)
	}
	return strconv.FormatFloat(v, 'f', 1, 64)
}

// FormatChange writes an amount of change (no sign added): pp for rates.
func FormatChange(def *Def, v float64) string {
	switch def.Unit {
	case Percent:
		return strconv.FormatFloat(v, 'f', 2, 64) + "pp"
	case Millis:
		return strconv.FormatFloat(v, 'f', 2, 64) + " ms"
	}
	return FormatValue(def, v)
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

// notable thresholds: a change is listed when it is at least this big
// (and the samples are large enough, Def.MinSamples).
const (
	notablePP      = 1.0 // rates, percentage points
	notableRel     = 0.5 // times, counts, volumes: relative change
	notableMs      = 1.0 // times: and at least this many ms
	notableMinBase = 20  // counts and volumes: samples on one side at least
)

// notable returns the score of a change from b to n, 0 when it is not notable.
func notable(def *Def, b, n Value) float64 {
	if !b.Defined() || !n.Defined() || b.V == n.V {
		return 0
	}
	if b.N < def.MinSamples || n.N < def.MinSamples {
		return 0
	}
	d := math.Abs(n.V - b.V)
	switch def.Unit {
	case Percent:
		if d >= notablePP {
			return d / notablePP
		}
		return 0
	case Millis, Seconds:
		ms := d
		if def.Unit == Seconds {
			ms *= 1000
		}
		if ms < notableMs {
			return 0
		}
	default:
		if max(b.N, n.N) < notableMinBase {
			return 0
		}
	}
	rel := d / math.Max(math.Abs(b.V), 1e-9)
	if rel < notableRel {
		return 0
	}
	return math.Min(rel, 100) / notableRel
}

func notableChanges(base, cur *Snapshot) []Change {
	var out []Change
	add := func(level Level, subject string, b, n Metrics, weight float64) {
		for i := range Catalog {
			def := &Catalog[i]
			if def.Levels&level == 0 || def.Name == "capture.duration_s" {
				continue
			}
			bv, nv := b.Get(def.Name), n.Get(def.Name)
			if s := notable(def, bv, nv); s > 0 {
				out = append(out, Change{Metric: def.Name, Subject: subject, Base: bv, New: nv, Score: s * weight})
			}
		}
	}
	add(Global, "", base.Global, cur.Global, 1)
	share := func(v, total Value) float64 {
		if !total.Defined() || total.V <= 0 {
			return 0
		}
		return math.Min(1, v.V/total.V)
	}
	for _, e := range cur.sortedEndpoints() {
		if b, ok := base.Endpoints[e]; ok {
			n := cur.Endpoints[e]
			w := math.Max(share(b.Metrics.Get("http.requests"), base.Global.Get("http.requests")),
				share(n.Metrics.Get("http.requests"), cur.Global.Get("http.requests")))
			add(PerEndpoint, e.String(), b.Metrics, n.Metrics, w)
		}
	}
	for _, h := range sortedGroupKeys(cur.Servers, "tcp.connections") {
		if b, ok := base.Servers[h]; ok {
			n := cur.Servers[h]
			w := math.Max(share(b.Metrics.Get("tcp.connections"), base.Global.Get("tcp.connections")),
				share(n.Metrics.Get("tcp.connections"), cur.Global.Get("tcp.connections")))
			add(PerServer, h, b.Metrics, n.Metrics, w)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Score > out[j].Score })
	return out
}
