package metrics

import (
	"errors"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
)

// ErrRule is wrapped by every error about a rule's text.
var ErrRule = errors.New("metrics: bad rule")

func ruleErr(text, format string, args ...any) error {
	return fmt.Errorf("%w %q: %s", ErrRule, text, fmt.Sprintf(format, args...))
}

// Scope limits a rule to some subjects: endpoints ("GET /api/*", "/x",
// "GET api.example.test /x"), hosts ("api.example.test", "*.example.test",
// "10.0.0.0/8") or "*" (every endpoint for http metrics, every server for
// tcp metrics). '*' in a pattern matches any text, '/' included.
type Scope struct {
	Raw string
	All bool
	// An endpoint pattern: globs, "" matching anything.
	Endpoint           bool
	Method, Host, Path string
	// A host pattern.
	HostGlob string
	Prefix   netip.Prefix // valid for a CIDR pattern
}

// ParseScope reads a scope.
func ParseScope(s string) (*Scope, error) {
	s = strings.TrimSpace(s)
	sc := &Scope{Raw: s}
	switch {
	case s == "":
		return nil, errors.New("empty scope")
	case s == "*":
		sc.All = true
	case strings.HasPrefix(s, "/"):
		sc.Endpoint, sc.Path = true, s
	default:
		first, rest, hasSpace := strings.Cut(s, " ")
		if hasSpace && isMethodPattern(first) {
			sc.Endpoint, sc.Method = true, first
			rest = strings.TrimSpace(rest)
			if strings.HasPrefix(rest, "/") {
				sc.Path = rest
			} else {
				h, p, ok := strings.Cut(rest, " ")
				if !ok {
					h, p, ok = strings.Cut(rest, "/")
					p = "/" + p
					if !ok {
						p = "*"
					}
				}
				sc.Host, sc.Path = NormalizeHost(strings.TrimSpace(h)), strings.TrimSpace(p)
			}
			if sc.Method == "*" {
				sc.Method = ""
			}
			break
		}
		if hasSpace {
			return nil, fmt.Errorf("scope %q: an endpoint scope starts with a method (GET /path) or a path (/path); a host has no spaces", s)
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			sc.Prefix = p.Masked()
		} else {
			sc.HostGlob = NormalizeHost(s)
		}
	}
	return sc, nil
}

// isMethodPattern: an HTTP method token (letters, '-', '_') or "*".
func isMethodPattern(s string) bool {
	if s == "*" {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || c == '-' || c == '_') {
			return false
		}
	}
	return s != ""
}

// MatchEndpoint reports whether e is in the scope (an endpoint scope or "*").
func (sc *Scope) MatchEndpoint(e Endpoint) bool {
	if sc.All {
		return true
	}
	if !sc.Endpoint {
		return sc.MatchHost(e.Host)
	}
	return (sc.Method == "" || glob(sc.Method, e.Method)) &&
		(sc.Host == "" || glob(sc.Host, e.Host)) &&
		(sc.Path == "" || glob(sc.Path, e.Path))
}

// MatchHost reports whether a host name or address is in the scope.
func (sc *Scope) MatchHost(h string) bool {
	if sc.All {
		return true
	}
	if sc.Endpoint {
		return false
	}
	if sc.Prefix.IsValid() {
		a, err := netip.ParseAddr(strings.Trim(h, "[]"))
		if err != nil { // a Host header with a port: "10.0.0.1:8080", "[fd00::1]:8080"
			ap, err2 := netip.ParseAddrPort(h)
			if err2 != nil {
				return false
			}
			a = ap.Addr()
		}
		return sc.Prefix.Contains(a.Unmap())
	}
	return glob(sc.HostGlob, h)
}

// glob matches s against a pattern where '*' is any text.
func glob(pattern, s string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return pattern == s
	}
	if !strings.HasPrefix(s, parts[0]) {
		return false
	}
	s = s[len(parts[0]):]
	last := parts[len(parts)-1]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// ChangeKind says how a diff rule measures change.
type ChangeKind int

// Change kinds: relative to the base value (%), or absolute in the
// metric's unit (pp, ms, s, or a bare number).
const (
	Relative ChangeKind = iota
	Absolute
)

// DiffRule is METRIC[SCOPE]:CHANGE: the change from BASE to NEW that
// breaks it.
type DiffRule struct {
	Text   string // as written
	Name   string // label from a rules file, or ""
	Metric *Def
	Scope  *Scope // nil: the whole capture
	// Dir is +1 for an increase ("+20%"), -1 for a decrease ("-20%"), 0
	// for either.
	Dir    int
	Kind   ChangeKind
	Amount float64 // >= 0: percent for Relative, the metric's unit for Absolute
	Min    int64   // samples both sides need; -1: the metric's MinSamples
	Floor  float64 // an absolute change below this never breaks the rule
	// Default marks a rule of the built-in set.
	Default bool
}

// CheckRule is METRIC[SCOPE] OP VALUE: an assertion that must hold.
type CheckRule struct {
	Text   string
	Name   string
	Metric *Def
	Scope  *Scope
	Op     string
	Value  float64 // in the metric's unit
}

// splitMetric reads "name[scope]" from the front of s and returns the rest.
func splitMetric(text, s string) (*Def, *Scope, string, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexAny(s, "[:<>=! \t")
	if i < 0 {
		i = len(s)
	}
	name := strings.TrimSpace(s[:i])
	def, ok := Lookup(name)
	if !ok {
		return nil, nil, "", ruleErr(text, "unknown metric %q (pcapq diff --list-metrics lists them)", name)
	}
	rest := strings.TrimLeft(s[i:], " \t")
	var scope *Scope
	if strings.HasPrefix(rest, "[") {
		depth, end := 0, -1
		for j := 0; j < len(rest) && end < 0; j++ {
			switch rest[j] {
			case '[':
				depth++
			case ']':
				if depth--; depth == 0 {
					end = j
				}
			}
		}
		if end < 0 {
			return nil, nil, "", ruleErr(text, "'[' without its ']'")
		}
		sc, err := ParseScope(rest[1:end])
		if err != nil {
			return nil, nil, "", ruleErr(text, "%v", err)
		}
		if err := checkScope(def, sc); err != nil {
			return nil, nil, "", ruleErr(text, "%v", err)
		}
		scope = sc
		rest = rest[end+1:]
	}
	return def, scope, strings.TrimSpace(rest), nil
}

func checkScope(def *Def, sc *Scope) error {
	http := def.Levels&(PerEndpoint|PerHTTPHost) != 0
	switch {
	case def.Levels&DiffOnly != 0:
		if def.Name == "new_ports" || def.Name == "gone_ports" {
			if sc.Endpoint || sc.Prefix.IsValid() {
				return fmt.Errorf("a %s scope is a port pattern (tcp/80, udp/*)", def.Name)
			}
		}
		return nil
	case def.Levels&(PerEndpoint|PerHTTPHost|PerServer) == 0:
		return fmt.Errorf("%s is measured over the whole capture only: it takes no scope", def.Name)
	case sc.Endpoint && !http:
		return fmt.Errorf("%s is measured per server address, not per HTTP endpoint", def.Name)
	}
	return nil
}

// number reads a signed decimal and its unit suffix.
func number(s string) (sign int, v float64, unit string, err error) {
	s = strings.TrimSpace(s)
	switch {
	case strings.HasPrefix(s, "+"):
		sign, s = 1, s[1:]
	case strings.HasPrefix(s, "-"):
		sign, s = -1, s[1:]
	}
	j := 0
	for j < len(s) && (s[j] >= '0' && s[j] <= '9' || s[j] == '.') {
		j++
	}
	if j == 0 {
		return 0, 0, "", fmt.Errorf("%q is not a number", s)
	}
	v, err = strconv.ParseFloat(s[:j], 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, 0, "", fmt.Errorf("%q is not a number", s[:j])
	}
	return sign, v, strings.TrimSpace(s[j:]), nil
}

// toUnit converts v written with unit u into the metric's unit. pp and %
// are the same for an absolute value of a rate.
func toUnit(def *Def, v float64, u string) (float64, error) {
	switch {
	case u == "":
		return v, nil
	case (u == "%" || u == "pp") && def.Unit == Percent:
		return v, nil
	case u == "ms" && def.Unit == Millis, u == "s" && def.Unit == Seconds:
		return v, nil
	case u == "s" && def.Unit == Millis:
		return v * 1000, nil
	case u == "ms" && def.Unit == Seconds:
		return v / 1000, nil
	}
	want := "no unit"
	switch def.Unit {
	case Percent:
		want = "% or pp"
	case Millis, Seconds:
		want = "ms or s"
	}
	return 0, fmt.Errorf("unit %q does not fit %s (%s)", u, def.Name, want)
}

// ParseDiffRule reads METRIC[SCOPE]:CHANGE[,min=N][,floor=VALUE].
// CHANGE is +N% / -N% / N% (relative to BASE), or +N / -N / N in the
// metric's unit, written with pp (rates), ms or s (times) or bare; no
// sign means either direction. For the new_ and gone_ counts CHANGE is
// the number allowed ("new_hosts:0").
func ParseDiffRule(text string) (*DiffRule, error) {
	def, scope, rest, err := splitMetric(text, text)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(rest, ":") {
		return nil, ruleErr(text, "a diff rule is METRIC:CHANGE, e.g. http.p99_ttfb_ms:+20%% (for an assertion on one capture use pcapq check)")
	}
	fields := strings.Split(rest[1:], ",")
	r := &DiffRule{Text: strings.TrimSpace(text), Metric: def, Scope: scope, Min: -1}
	sign, v, unit, err := number(fields[0])
	if err != nil {
		return nil, ruleErr(text, "change: %v", err)
	}
	r.Dir, r.Amount = sign, v
	switch {
	case def.Levels&DiffOnly != 0:
		if unit != "" || sign < 0 {
			return nil, ruleErr(text, "%s counts items: give how many are allowed, e.g. %s:0", def.Name, def.Name)
		}
		r.Kind, r.Dir = Absolute, 1
	case unit == "%":
		r.Kind = Relative
	default:
		if r.Amount, err = toUnit(def, v, unit); err != nil {
			return nil, ruleErr(text, "%v (a relative change is written N%%)", err)
		}
		r.Kind = Absolute
	}
	for _, f := range fields[1:] {
		k, val, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok {
			return nil, ruleErr(text, "option %q is not KEY=VALUE", f)
		}
		switch k {
		case "min":
			n, err := strconv.ParseInt(strings.TrimSpace(val), 10, 64)
			if err != nil || n < 0 {
				return nil, ruleErr(text, "min=%s is not a sample count", val)
			}
			r.Min = n
		case "floor":
			s, fv, fu, err := number(val)
			if err == nil && s < 0 {
				err = errors.New("a floor is not negative")
			}
			if err == nil {
				fv, err = toUnit(def, fv, fu)
			}
			if err != nil {
				return nil, ruleErr(text, "floor: %v", err)
			}
			r.Floor = fv
		default:
			return nil, ruleErr(text, "unknown option %q (min, floor)", k)
		}
	}
	return r, nil
}

// ParseCheckRule reads METRIC[SCOPE] OP VALUE (OP one of < <= > >= == !=;
// VALUE with %, pp, ms or s, or bare in the metric's unit).
func ParseCheckRule(text string) (*CheckRule, error) {
	def, scope, rest, err := splitMetric(text, text)
	if err != nil {
		return nil, err
	}
	if def.Levels&DiffOnly != 0 {
		return nil, ruleErr(text, "%s compares two captures: use it with pcapq diff", def.Name)
	}
	var op string
	for _, o := range []string{"<=", ">=", "==", "!=", "<", ">"} {
		if strings.HasPrefix(rest, o) {
			op = o
			break
		}
	}
	if op == "" {
		return nil, ruleErr(text, "a check is METRIC OP VALUE with OP one of < <= > >= == !=, e.g. tcp.retransmit_rate<1%%")
	}
	sign, v, unit, err := number(rest[len(op):])
	if err != nil {
		return nil, ruleErr(text, "value: %v", err)
	}
	if sign < 0 {
		v = -v
	}
	if v, err = toUnit(def, v, unit); err != nil {
		return nil, ruleErr(text, "%v", err)
	}
	return &CheckRule{Text: strings.TrimSpace(text), Metric: def, Scope: scope, Op: op, Value: v}, nil
}

// holds evaluates the assertion on v.
func (r *CheckRule) holds(v float64) bool {
	switch r.Op {
	case "<":
		return v < r.Value
	case "<=":
		return v <= r.Value
	case ">":
		return v > r.Value
	case ">=":
		return v >= r.Value
	case "==":
		return v == r.Value
	}
	return v != r.Value
}

// DefaultDiffRules is the built-in rule set of pcapq diff. It is meant to
// catch what a CI run should not let through (new servers, new endpoints,
// more server errors, more retransmissions or resets, latency that
// doubles) and to pass two recordings of the same workload: each rate
// needs a minimum sample (Def.MinSamples), latency rules also need an
// absolute rise of 50 ms (a loaded CI machine moves a loopback p90 by
// tens of milliseconds), and rates are compared in percentage points,
// not relative to a base that may be near zero. The retransmission rate
// counts episodes (see tcp.retransmit_rate): in six mkcapture recordings
// without drops on the loaded test machine it measured 0.005-0.037%, with
// 1 in 25 of the server's segments dropped 0.29%.
// README.md documents the set.
var DefaultDiffRules = []string{
	"new_hosts:0",
	"new_ports:0",
	"new_endpoints:0",
	"http.5xx_rate:+1pp",
	"http.5xx_rate[*]:+5pp",
	"http.unanswered_rate:+1pp",
	"tcp.retransmit_rate:+0.1pp",
	"tcp.reset_rate:+10pp",
	"http.p90_ttfb_ms:+100%,floor=50ms",
	"http.p90_ttfb_ms[*]:+100%,floor=50ms",
	"tcp.p90_handshake_rtt_ms:+100%,floor=50ms",
}

// Defaults parses DefaultDiffRules.
func Defaults() []*DiffRule {
	var rs []*DiffRule
	for _, t := range DefaultDiffRules {
		r, err := ParseDiffRule(t)
		if err != nil {
			panic(err) // a test parses them all
		}
		r.Default = true
		rs = append(rs, r)
	}
	return rs
}

// ruleKey identifies what a rule measures: a user rule replaces the
// default rule with the same key.
func (r *DiffRule) ruleKey() string {
	if r.Scope == nil {
		return r.Metric.Name
	}
	return r.Metric.Name + "[" + r.Scope.Raw + "]"
}

// MergeRules is the defaults (unless none) with user rules replacing the
// default of the same metric and scope, followed by the other user rules.
func MergeRules(defaults, user []*DiffRule) []*DiffRule {
	over := map[string]bool{}
	for _, r := range user {
		over[r.ruleKey()] = true
	}
	var out []*DiffRule
	for _, r := range defaults {
		if !over[r.ruleKey()] {
			out = append(out, r)
		}
	}
	return append(out, user...)
}
