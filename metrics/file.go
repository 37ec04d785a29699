package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Allowlist holds what a capture may contact. A host pattern is a glob
// ("*.example.test") or an address prefix ("10.0.0.0/8"), matched against
// server addresses and names; a port pattern is "tcp/443", "udp/53",
// "tcp/*" or a bare number (either protocol).
type Allowlist struct {
	Hosts       []string `yaml:"hosts"`
	Ports       []string `yaml:"ports"`
	TLSVersions []string `yaml:"tls_versions"`
	// Endpoints are endpoint patterns ("GET /api/*", "/healthz").
	Endpoints []string `yaml:"endpoints"`

	hostScopes []*Scope
	epScopes   []*Scope
}

// Empty reports whether the allowlist holds nothing.
func (a *Allowlist) Empty() bool {
	return a == nil || len(a.Hosts)+len(a.Ports)+len(a.TLSVersions)+len(a.Endpoints) == 0
}

// compile checks the patterns.
func (a *Allowlist) compile() error {
	a.hostScopes, a.epScopes = nil, nil
	for _, e := range a.Endpoints {
		sc, err := ParseScope(e)
		if err != nil || !sc.Endpoint {
			return fmt.Errorf("allowed endpoint %q: an endpoint pattern is METHOD /path or /path (globs with *)", e)
		}
		a.epScopes = append(a.epScopes, sc)
	}
	for _, h := range a.Hosts {
		sc, err := ParseScope(h)
		if err != nil || sc.Endpoint {
			return fmt.Errorf("allowed host %q: a host pattern is a name glob or an address prefix", h)
		}
		a.hostScopes = append(a.hostScopes, sc)
	}
	for _, p := range a.Ports {
		if _, _, err := parsePortPattern(p); err != nil {
			return err
		}
	}
	return nil
}

func parsePortPattern(p string) (proto, port string, err error) {
	proto, port, ok := strings.Cut(strings.TrimSpace(p), "/")
	if !ok {
		proto, port = "*", proto
	}
	if proto != "*" && proto != "tcp" && proto != "udp" {
		return "", "", fmt.Errorf("allowed port %q: write tcp/N, udp/N, tcp/* or N", p)
	}
	if port != "*" {
		if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
			return "", "", fmt.Errorf("allowed port %q: %q is not a port number", p, port)
		}
	}
	return proto, port, nil
}

// AllowsHost reports whether a host item is allowlisted.
func (a *Allowlist) AllowsHost(h HostItem) bool {
	if a == nil {
		return false
	}
	if a.hostScopes == nil && len(a.Hosts) > 0 {
		if a.compile() != nil {
			return false
		}
	}
	for _, sc := range a.hostScopes {
		if sc.MatchHost(h.Name) {
			return true
		}
	}
	return false
}

// AllowsEndpoint reports whether an endpoint is allowlisted.
func (a *Allowlist) AllowsEndpoint(e Endpoint) bool {
	if a == nil {
		return false
	}
	if a.epScopes == nil && len(a.Endpoints) > 0 {
		if a.compile() != nil {
			return false
		}
	}
	for _, sc := range a.epScopes {
		if sc.MatchEndpoint(e) {
			return true
		}
	}
	return false
}

// AllowsPort reports whether a port ("tcp/80") is allowlisted.
func (a *Allowlist) AllowsPort(port string) bool {
	if a == nil {
		return false
	}
	proto, num, _ := strings.Cut(port, "/")
	for _, p := range a.Ports {
		pp, pn, err := parsePortPattern(p)
		if err == nil && (pp == "*" || pp == proto) && (pn == "*" || pn == num) {
			return true
		}
	}
	return false
}

// AllowsTLSVersion reports whether a TLS version is allowlisted (case
// and the separators ' ', '.', 'v' are ignored: "TLSv1.3" = "tls 1.3").
func (a *Allowlist) AllowsTLSVersion(v string) bool {
	if a == nil {
		return false
	}
	norm := func(s string) string {
		return strings.NewReplacer(" ", "", "v", "", "V", "", "_", "", ".", "").Replace(strings.ToLower(s))
	}
	for _, t := range a.TLSVersions {
		if norm(t) == norm(v) {
			return true
		}
	}
	return false
}

// Merge adds b's patterns to a.
func (a *Allowlist) Merge(b Allowlist) {
	a.Hosts = append(a.Hosts, b.Hosts...)
	a.Ports = append(a.Ports, b.Ports...)
	a.TLSVersions = append(a.TLSVersions, b.TLSVersions...)
	a.Endpoints = append(a.Endpoints, b.Endpoints...)
	a.hostScopes, a.epScopes = nil, nil
}

// Rules is a rules file: diff rules, check rules and an allowlist.
type Rules struct {
	// Defaults keeps the built-in diff rules (true unless the file says
	// defaults: false).
	Defaults bool
	Diff     []*DiffRule
	Check    []*CheckRule
	Allow    Allowlist
}

// ruleEntry is a rule in the file: a string, or a mapping with a name and
// options.
type ruleEntry struct {
	Rule  string `yaml:"rule"`
	Name  string `yaml:"name"`
	Min   *int64 `yaml:"min"`
	Floor string `yaml:"floor"`
}

func (e *ruleEntry) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		return n.Decode(&e.Rule)
	}
	type plain ruleEntry
	var p plain
	if err := decodeStrict(n, &p); err != nil {
		return err
	}
	*e = ruleEntry(p)
	return nil
}

// decodeStrict decodes a node, rejecting unknown keys (yaml.v3 checks
// them only from a Decoder, so the node is encoded and decoded again).
func decodeStrict(n *yaml.Node, v any) error {
	b, err := yaml.Marshal(n)
	if err != nil {
		return err
	}
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	return nil
}

type rulesFile struct {
	Defaults *bool       `yaml:"defaults"`
	Diff     []ruleEntry `yaml:"diff"`
	Check    []ruleEntry `yaml:"check"`
	Allow    Allowlist   `yaml:"allow"`
}

// maxRulesFile bounds the rules file read.
const maxRulesFile = 1 << 20

// LoadRules reads a YAML rules file:
//
//	defaults: true            # keep the built-in diff rules (default)
//	diff:
//	  - http.p99_ttfb_ms:+20%
//	  - rule: http.p99_ttfb_ms[GET /api/*]:+10%
//	    name: API latency
//	    min: 100
//	    floor: 5ms
//	check:
//	  - tcp.retransmit_rate < 1%
//	allow:
//	  hosts: ["*.example.test", 10.0.0.0/8]
//	  ports: [tcp/80, tcp/443, udp/53]
//	  tls_versions: [TLSv1.3]
//	  endpoints: ["GET /api/*", /healthz]
func LoadRules(path string) (*Rules, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxRulesFile+1))
	if err != nil {
		return nil, fmt.Errorf("rules file %s: %w", path, err)
	}
	if len(b) > maxRulesFile {
		return nil, fmt.Errorf("rules file %s: larger than %d bytes", path, maxRulesFile)
	}
	r, err := ParseRules(b)
	if err != nil {
		return nil, fmt.Errorf("rules file %s: %w", path, err)
	}
	return r, nil
}

// ParseRules reads the text of a rules file (see LoadRules).
func ParseRules(b []byte) (*Rules, error) {
	var rf rulesFile
	d := yaml.NewDecoder(bytes.NewReader(b))
	d.KnownFields(true)
	if err := d.Decode(&rf); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	r := &Rules{Defaults: rf.Defaults == nil || *rf.Defaults, Allow: rf.Allow}
	for _, e := range rf.Diff {
		dr, err := ParseDiffRule(e.Rule)
		if err != nil {
			return nil, err
		}
		dr.Name = e.Name
		if e.Min != nil {
			if *e.Min < 0 {
				return nil, ruleErr(e.Rule, "min is negative")
			}
			dr.Min = *e.Min
		}
		if e.Floor != "" {
			s, v, u, err := number(e.Floor)
			if err == nil && s < 0 {
				err = errors.New("a floor is not negative")
			}
			if err == nil {
				v, err = toUnit(dr.Metric, v, u)
			}
			if err != nil {
				return nil, ruleErr(e.Rule, "floor: %v", err)
			}
			dr.Floor = v
		}
		r.Diff = append(r.Diff, dr)
	}
	for _, e := range rf.Check {
		if e.Min != nil || e.Floor != "" {
			return nil, ruleErr(e.Rule, "min and floor belong to diff rules")
		}
		cr, err := ParseCheckRule(e.Rule)
		if err != nil {
			return nil, err
		}
		cr.Name = e.Name
		r.Check = append(r.Check, cr)
	}
	if err := r.Allow.compile(); err != nil {
		return nil, err
	}
	return r, nil
}

// Check validates the patterns (as given on a command line).
func (a *Allowlist) Check() error { return a.compile() }
