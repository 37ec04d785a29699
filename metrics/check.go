package metrics

import (
	"fmt"
	"strings"
)

// CheckResult is what pcapq check found.
type CheckResult struct {
	Snap     *Snapshot
	Outcomes []Outcome
}

// Broken counts the broken rules.
func (r *CheckResult) Broken() int { return broken(r.Outcomes) }

// Check evaluates assertions and an allowlist on one snapshot.
func Check(s *Snapshot, rules []*CheckRule, allow *Allowlist) *CheckResult {
	r := &CheckResult{Snap: s}
	for _, rule := range rules {
		r.Outcomes = append(r.Outcomes, evalCheck(rule, s))
	}
	if allow != nil {
		if len(allow.Hosts) > 0 {
			r.Outcomes = append(r.Outcomes, allowOutcome("allowed hosts: "+strings.Join(allow.Hosts, ", "), "host", s.Hosts, func(h HostItem) string { return h.String() }, allow.AllowsHost))
		}
		if len(allow.Ports) > 0 {
			r.Outcomes = append(r.Outcomes, allowOutcome("allowed ports: "+strings.Join(allow.Ports, ", "), "port", s.Ports, func(p string) string { return p }, allow.AllowsPort))
		}
		if len(allow.Endpoints) > 0 {
			eps := make(map[Endpoint]int64, len(s.Endpoints))
			for e, g := range s.Endpoints {
				eps[e] = int64(g.Metrics.Get("http.requests").V)
			}
			r.Outcomes = append(r.Outcomes, allowOutcome("allowed endpoints: "+strings.Join(allow.Endpoints, ", "), "endpoint", eps, func(e Endpoint) string { return e.String() }, allow.AllowsEndpoint))
		}
		if len(allow.TLSVersions) > 0 {
			o := allowOutcome("allowed TLS versions: "+strings.Join(allow.TLSVersions, ", "), "TLS version", s.TLSVersions, func(v string) string { return v }, allow.AllowsTLSVersion)
			if len(s.TLSVersions) == 0 {
				o.Status, o.Note = NoData, "the database records no TLS versions"
			}
			r.Outcomes = append(r.Outcomes, o)
		}
	}
	return r
}

func allowOutcome[K comparable](rule, what string, seen map[K]int64, str func(K) string, ok func(K) bool) Outcome {
	o := Outcome{Rule: rule, Evaluated: len(seen)}
	var bad []string
	for _, k := range sortedKeys(seen, str) {
		if !ok(k) {
			bad = append(bad, str(k))
		}
	}
	if len(bad) > 0 {
		o.Status = Fail
		shown := bad
		more := ""
		if len(shown) > 20 {
			shown, more = shown[:20], fmt.Sprintf(" and %d more", len(bad)-20)
		}
		o.Breaches = []Breach{{Text: fmt.Sprintf("%d not allowed (%s of %d seen): %s%s", len(bad), what, len(seen), strings.Join(shown, ", "), more),
			New: Value{V: float64(len(bad)), N: int64(len(seen))}, Excess: float64(len(bad))}}
	}
	return o
}

// checkSubjects lists the subjects of a check rule.
func checkSubjects(def *Def, sc *Scope, s *Snapshot) []subject {
	subs := subjects(def, sc, s, s)
	for i := range subs {
		subs[i].base = nil
	}
	return subs
}

func evalCheck(rule *CheckRule, s *Snapshot) Outcome {
	o := Outcome{Rule: rule.Text, Name: rule.Name}
	def := rule.Metric
	subs := checkSubjects(def, rule.Scope, s)
	undef := 0
	for _, sub := range subs {
		v := sub.cur.Get(def.Name)
		if !v.Defined() {
			undef++
			continue
		}
		o.Evaluated++
		if !rule.holds(v.V) {
			o.Breaches = append(o.Breaches, Breach{Subject: sub.name, New: v, Excess: 1,
				Text: fmt.Sprintf("%s = %s (N=%d), must be %s %s", def.Name, FormatValue(def, v.V), v.N, rule.Op, FormatValue(def, rule.Value))})
		}
	}
	var notes []string
	if len(subs) == 0 && rule.Scope != nil {
		notes = append(notes, "nothing matches "+rule.Scope.Raw)
	}
	if undef > 0 {
		notes = append(notes, fmt.Sprintf("%d without a value (no samples)", undef))
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
