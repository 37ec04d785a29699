package metrics

import "testing"

// FuzzParseRule: rule text never panics the parsers; a rule that parses
// parses again from its own text to the same metric, scope and limit.
func FuzzParseRule(f *testing.F) {
	for _, s := range append(append([]string{}, DefaultDiffRules...),
		"http.p99_ttfb_ms[GET /api/*]:+10%,floor=5ms,min=3", "tcp.retransmit_rate<1%", "http.5xx_rate <= 0",
		"http.p99_ttfb_ms[GET [fd00::1] /x]:+10%", "x[[]]:", "new_hosts[*.a]:2", "http.requests[", "a:b<c") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if r, err := ParseDiffRule(s); err == nil {
			r2, err := ParseDiffRule(r.Text)
			if err != nil || r2.Metric != r.Metric || r2.Dir != r.Dir || r2.Kind != r.Kind || r2.Amount != r.Amount || r2.Min != r.Min || r2.Floor != r.Floor ||
				(r.Scope == nil) != (r2.Scope == nil) || r.Scope != nil && r.Scope.Raw != r2.Scope.Raw {
				t.Errorf("%q parses, its text %q gives %+v, %v", s, r.Text, r2, err)
			}
		} else if r != nil {
			t.Errorf("%q: a rule and an error", s)
		}
		if r, err := ParseCheckRule(s); err == nil {
			r2, err := ParseCheckRule(r.Text)
			if err != nil || r2.Metric != r.Metric || r2.Op != r.Op || r2.Value != r.Value {
				t.Errorf("check %q parses, its text gives %+v, %v", s, r2, err)
			}
		}
		ParseRules([]byte(s))
	})
}
