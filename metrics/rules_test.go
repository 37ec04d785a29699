package metrics

import (
	"errors"
	"strings"
	"testing"
)

func TestParseDiffRule(t *testing.T) {
	for _, c := range []struct {
		text   string
		metric string
		scope  string
		dir    int
		kind   ChangeKind
		amount float64
		min    int64
		floor  float64
	}{
		{"http.p99_ttfb_ms:+20%", "http.p99_ttfb_ms", "", 1, Relative, 20, -1, 0},
		{"http.5xx_rate:+0.5pp", "http.5xx_rate", "", 1, Absolute, 0.5, -1, 0},
		{"tcp.retransmit_rate:+0.1pp", "tcp.retransmit_rate", "", 1, Absolute, 0.1, -1, 0},
		{"new_hosts:0", "new_hosts", "", 1, Absolute, 0, -1, 0},
		{"new_endpoints:3", "new_endpoints", "", 1, Absolute, 3, -1, 0},
		{"http.p99_ttfb_ms[GET /api/*]:+10%", "http.p99_ttfb_ms", "GET /api/*", 1, Relative, 10, -1, 0},
		{"http.requests_per_s:-30%", "http.requests_per_s", "", -1, Relative, 30, -1, 0},
		{"http.p90_ttfb_ms:25%", "http.p90_ttfb_ms", "", 0, Relative, 25, -1, 0},
		{"http.p90_ttfb_ms:+0.2s", "http.p90_ttfb_ms", "", 1, Absolute, 200, -1, 0},
		{"http.p90_ttfb_ms:+15ms,floor=0.01s,min=40", "http.p90_ttfb_ms", "", 1, Absolute, 15, 40, 10},
		{" tcp.reset_rate [ 10.0.0.0/8 ] : +2pp ", "tcp.reset_rate", "10.0.0.0/8", 1, Absolute, 2, -1, 0},
		{"http.p99_ttfb_ms[GET [fd00::1] /x]:+10%", "http.p99_ttfb_ms", "GET [fd00::1] /x", 1, Relative, 10, -1, 0},
		{"capture.duration_s:+500ms", "capture.duration_s", "", 1, Absolute, 0.5, -1, 0},
	} {
		r, err := ParseDiffRule(c.text)
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		scope := ""
		if r.Scope != nil {
			scope = r.Scope.Raw
		}
		if r.Metric.Name != c.metric || scope != c.scope || r.Dir != c.dir || r.Kind != c.kind || r.Amount != c.amount || r.Min != c.min || r.Floor != c.floor {
			t.Errorf("%q: got metric %s scope %q dir %d kind %d amount %v min %d floor %v", c.text, r.Metric.Name, scope, r.Dir, r.Kind, r.Amount, r.Min, r.Floor)
		}
	}
}

func TestParseRuleErrors(t *testing.T) {
	for _, c := range []struct{ text, want string }{
		{"http.p99_ttfb:+20%", "unknown metric"},
		{"http.p99_ttfb_ms+20%", "unknown metric"},
		{"http.p99_ttfb_ms :+1.2.3%", "not a number"},
		{"http.p99_ttfb_ms:", "not a number"},
		{"http.p99_ttfb_ms:+fast", "not a number"},
		{"http.p99_ttfb_ms:+20pp", "unit"},
		{"http.5xx_rate:+2ms", "unit"},
		{"new_hosts:+10%", "counts items"},
		{"new_hosts:-1", "counts items"},
		{"http.p99_ttfb_ms[GET /x:+20%", "without its ']'"},
		{"volume.packets_per_s[/x]:+20%", "takes no scope"},
		{"tcp.retransmit_rate[GET /x]:+1pp", "per server"},
		{"http.p99_ttfb_ms[]:+20%", "empty scope"},
		{"http.p99_ttfb_ms[api.example.test /x]:+20%", "starts with a method"},
		{"http.p99_ttfb_ms:+20%,min=-1", "sample count"},
		{"http.p99_ttfb_ms:+20%,floor=-1ms", "not negative"},
		{"http.p99_ttfb_ms:+20%,floor=2pp", "unit"},
		{"http.p99_ttfb_ms:+20%,speed=2", "unknown option"},
		{"http.p99_ttfb_ms:+20%,min", "KEY=VALUE"},
		{"http.p99_ttfb_ms:+1e400", "unit"},
		{"http.p99_ttfb_ms<20ms", "METRIC:CHANGE"},
	} {
		_, err := ParseDiffRule(c.text)
		if err == nil || !errors.Is(err, ErrRule) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.text, err, c.want)
		}
	}
	for _, c := range []struct{ text, want string }{
		{"tcp.retransmit_rate", "OP VALUE"},
		{"tcp.retransmit_rate:+1pp", "OP VALUE"},
		{"tcp.retransmit_rate < 1ms", "unit"},
		{"http.p99_ttfb_ms < 1%", "unit"},
		{"new_hosts <= 0", "use it with pcapq diff"},
		{"http.p99_ttfb_ms <= x", "not a number"},
		{"nope < 1", "unknown metric"},
	} {
		_, err := ParseCheckRule(c.text)
		if err == nil || !errors.Is(err, ErrRule) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("check %q: error %v, want one saying %q", c.text, err, c.want)
		}
	}
}

func TestParseCheckRule(t *testing.T) {
	for _, c := range []struct {
		text  string
		op    string
		value float64
		holds map[float64]bool
	}{
		{"tcp.retransmit_rate<1%", "<", 1, map[float64]bool{0.99: true, 1: false, 2: false}},
		{"http.5xx_rate<=0", "<=", 0, map[float64]bool{0: true, 0.01: false}},
		{"http.p99_ttfb_ms <= 0.25s", "<=", 250, map[float64]bool{250: true, 250.1: false}},
		{"http.p99_ttfb_ms > 10ms", ">", 10, map[float64]bool{10: false, 10.5: true}},
		{"http.requests >= 100", ">=", 100, map[float64]bool{99: false, 100: true}},
		{"tcp.conn_state.S0 == 0pp", "==", 0, map[float64]bool{0: true, 1: false}},
		{"http.requests != 0", "!=", 0, map[float64]bool{0: false, 3: true}},
		{"capture.duration_s > -1", ">", -1, map[float64]bool{0: true}},
	} {
		r, err := ParseCheckRule(c.text)
		if err != nil {
			t.Errorf("%q: %v", c.text, err)
			continue
		}
		if r.Op != c.op || r.Value != c.value {
			t.Errorf("%q: op %q value %v", c.text, r.Op, r.Value)
		}
		for v, want := range c.holds {
			if r.holds(v) != want {
				t.Errorf("%q holds(%v) = %v", c.text, v, !want)
			}
		}
	}
}

func TestScope(t *testing.T) {
	api := Endpoint{"GET", "api.example.test", "/api/v2/items/{id}"}
	static := Endpoint{"GET", "example.test", "/small.txt"}
	post := Endpoint{"POST", "api.example.test", "/api/v2/items"}
	ip6 := Endpoint{"GET", "[fd00::1]", "/x"}
	for _, c := range []struct {
		scope string
		match []Endpoint
		hosts map[string]bool
	}{
		{"GET /api/*", []Endpoint{api}, nil},
		{"/api/*", []Endpoint{api, post}, nil},
		{"* /api/*", []Endpoint{api, post}, nil},
		{"POST api.example.test /api/*", []Endpoint{post}, nil},
		{"GET api.example.test/api/v2/items/{id}", []Endpoint{api}, nil},
		{"GET api.example.test", []Endpoint{api}, nil},
		{"GET [fd00::1] /x", []Endpoint{ip6}, nil},
		{"*", []Endpoint{api, static, post, ip6}, map[string]bool{"anything": true}},
		{"*.example.test", []Endpoint{api, post}, map[string]bool{"api.example.test": true, "example.test": false}},
		{"Example.TEST", []Endpoint{static}, map[string]bool{"example.test": true}},
		{"10.0.0.0/8", nil, map[string]bool{"10.1.2.3": true, "11.0.0.1": false, "10.0.0.1:8080": true, "example.test": false, "::ffff:10.0.0.1": true}},
		{"fd00::/16", []Endpoint{ip6}, map[string]bool{"fd00::1": true, "[fd00::1]:8080": true, "fe80::1": false}},
	} {
		sc, err := ParseScope(c.scope)
		if err != nil {
			t.Errorf("%q: %v", c.scope, err)
			continue
		}
		want := map[Endpoint]bool{}
		for _, e := range c.match {
			want[e] = true
		}
		for _, e := range []Endpoint{api, static, post, ip6} {
			if sc.MatchEndpoint(e) != want[e] {
				t.Errorf("scope %q on %v: %v", c.scope, e, !want[e])
			}
		}
		for h, w := range c.hosts {
			if sc.MatchHost(h) != w {
				t.Errorf("scope %q on host %q: %v", c.scope, h, !w)
			}
		}
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		want bool
	}{
		{"abc", "abc", true}, {"abc", "abcd", false}, {"a*", "a", true}, {"a*", "ab/c", true},
		{"*c", "abc", true}, {"*c", "ab", false}, {"a*c", "ac", true}, {"a*c", "abc/c", true},
		{"a*b*c", "abc", true}, {"a*b*c", "acb", false}, {"*", "", true}, {"a*a", "a", false},
		{"*.example.test", "example.test", false}, {"*.example.test", "a.example.test", true},
		{"*.txt", "a.txt.bak", false}, {"/api/*/x", "/api/1/x/y", false},
	} {
		if glob(c.p, c.s) != c.want {
			t.Errorf("glob(%q, %q) = %v", c.p, c.s, !c.want)
		}
	}
}

func TestDefaultsParseAndMerge(t *testing.T) {
	defs := Defaults()
	if len(defs) != len(DefaultDiffRules) {
		t.Fatalf("%d defaults parsed of %d", len(defs), len(DefaultDiffRules))
	}
	for _, r := range defs {
		if !r.Default {
			t.Errorf("%s not marked default", r.Text)
		}
	}
	user := []*DiffRule{mustDiff(t, "http.p90_ttfb_ms:+20%"), mustDiff(t, "http.p99_ttfb_ms:+20%")}
	merged := MergeRules(defs, user)
	if len(merged) != len(defs)+1 {
		t.Fatalf("merged %d rules, want %d (one default replaced, one added)", len(merged), len(defs)+1)
	}
	n := 0
	for _, r := range merged {
		if r.Metric.Name == "http.p90_ttfb_ms" && r.Scope == nil {
			n++
			if r.Default {
				t.Errorf("the default http.p90_ttfb_ms rule was not replaced")
			}
		}
	}
	if n != 1 {
		t.Errorf("%d unscoped http.p90_ttfb_ms rules", n)
	}
}

func mustDiff(t testing.TB, s string) *DiffRule {
	t.Helper()
	r, err := ParseDiffRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func mustCheck(t testing.TB, s string) *CheckRule {
	t.Helper()
	r, err := ParseCheckRule(s)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestParseRulesFile(t *testing.T) {
	r, err := ParseRules([]byte(`
defaults: false
diff:
  - http.p99_ttfb_ms:+20%
  - rule: "http.p99_ttfb_ms[GET /api/*]:+10%"
    name: API latency
    min: 100
    floor: 5ms
check:
  - tcp.retransmit_rate < 1%
  - rule: http.5xx_rate <= 0
    name: no server errors
allow:
  hosts: ["*.example.test", 10.0.0.0/8]
  ports: [tcp/80, udp/53, "443"]
  tls_versions: [TLSv1.3]
  endpoints: ["GET /api/*"]
`))
	if err != nil {
		t.Fatal(err)
	}
	if r.Defaults || len(r.Diff) != 2 || len(r.Check) != 2 {
		t.Fatalf("parsed %+v", r)
	}
	if d := r.Diff[1]; d.Name != "API latency" || d.Min != 100 || d.Floor != 5 || d.Scope.Raw != "GET /api/*" {
		t.Errorf("diff rule 2: %+v", d)
	}
	if r.Check[1].Name != "no server errors" {
		t.Errorf("check rule 2: %+v", r.Check[1])
	}
	a := &r.Allow
	for _, c := range []struct {
		got, want bool
		what      string
	}{
		{a.AllowsHost(HostItem{"http", "api.example.test"}), true, "name glob"},
		{a.AllowsHost(HostItem{"ip", "10.9.9.9"}), true, "prefix"},
		{a.AllowsHost(HostItem{"ip", "192.168.0.1"}), false, "other address"},
		{a.AllowsHost(HostItem{"http", "evil.test"}), false, "other name"},
		{a.AllowsPort("tcp/80"), true, "tcp/80"},
		{a.AllowsPort("udp/80"), false, "udp/80"},
		{a.AllowsPort("udp/443"), true, "bare 443"},
		{a.AllowsTLSVersion("tls 1.3"), true, "tls 1.3"},
		{a.AllowsTLSVersion("TLSv1.2"), false, "TLSv1.2"},
		{a.AllowsEndpoint(Endpoint{"GET", "x", "/api/v1"}), true, "endpoint"},
		{a.AllowsEndpoint(Endpoint{"POST", "x", "/api/v1"}), false, "endpoint method"},
	} {
		if c.got != c.want {
			t.Errorf("allowlist %s: %v", c.what, c.got)
		}
	}
	if r2, err := ParseRules([]byte("")); err != nil || !r2.Defaults {
		t.Errorf("empty file: %v %+v", err, r2)
	}
	for _, c := range []struct{ text, want string }{
		{"difff: []", "not found"},
		{"diff:\n  - rule: new_hosts:0\n    mni: 3", "not found"},
		{"diff: [\"new_hosts:x\"]", "not a number"},
		{"check: [\"new_hosts <= 0\"]", "pcapq diff"},
		{"check:\n  - rule: http.requests > 0\n    min: 3", "belong to diff"},
		{"allow:\n  ports: [tcp/http]", "not a port number"},
		{"allow:\n  ports: [sctp/9]", "tcp/N"},
		{"allow:\n  hosts: [\"GET /x\"]", "host pattern"},
		{"allow:\n  endpoints: [example.test]", "endpoint pattern"},
		{"diff:\n  - rule: http.p99_ttfb_ms:+1%\n    floor: 3pp", "unit"},
		{"diff: {a: 1}", "cannot unmarshal"},
	} {
		if _, err := ParseRules([]byte(c.text)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one saying %q", c.text, err, c.want)
		}
	}
}
