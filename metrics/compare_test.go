package metrics

import (
	"math"
	"strings"
	"testing"
)

// testSnap is a snapshot shaped like a recording of mkcapture's web mix.
func testSnap() *Snapshot {
	s := newSnapshot()
	s.Source = "test.pcap"
	s.Captures = []Capture{{ID: 1, Path: "test.pcap", Packets: 128000, Bytes: 160e6, DurationS: 3.3, Complete: true}}
	g := s.Global
	g["capture.duration_s"] = Value{3.3, 1}
	g["volume.packets_per_s"] = Value{38000, 128000}
	g["tcp.connections"] = Value{32, 32}
	g["tcp.retransmit_rate"] = Value{0.01, 128000}
	g["tcp.reset_rate"] = Value{0, 32}
	g["tcp.p90_handshake_rtt_ms"] = Value{0.2, 32}
	g["http.requests"] = Value{5300, 5300}
	g["http.5xx_rate"] = Value{0, 5300}
	g["http.unanswered_rate"] = Value{0, 5300}
	g["http.p90_ttfb_ms"] = Value{2.2, 5300}
	g["http.p99_ttfb_ms"] = Value{6, 5300}
	add := func(method, host, path string, n float64, p90 float64, r5 float64) {
		m := Metrics{
			"http.requests":    {n, int64(n)},
			"http.p90_ttfb_ms": {p90, int64(n)},
			"http.5xx_rate":    {r5, int64(n)},
		}
		s.Endpoints[Endpoint{method, host, path}] = &Group{Metrics: m, Status: map[int]int64{200: int64(n)}}
	}
	add("GET", "10.150.0.1", "/small.txt", 2178, 2.17, 0)
	add("GET", "10.150.0.1", "/api/status.json", 1027, 2.2, 0)
	add("GET", "10.150.0.1", "/missing", 422, 2.3, 0)
	add("POST", "10.150.0.1", "/echo", 1, 0.05, 0)
	s.HTTPHosts["10.150.0.1"] = &Group{Metrics: Metrics{"http.requests": {3628, 3628}, "http.p90_ttfb_ms": {2.2, 3628}}}
	s.Servers["10.150.0.1"] = &Group{Metrics: Metrics{"tcp.connections": {320, 320}, "tcp.reset_rate": {0, 320}, "tcp.retransmit_rate": {0.01, 128000}}}
	s.Servers["192.168.1.1"] = &Group{Metrics: Metrics{"tcp.connections": {100, 100}, "tcp.reset_rate": {0, 100}}}
	s.Hosts[HostItem{"ip", "10.150.0.1"}] = 33
	s.Hosts[HostItem{"http", "10.150.0.1"}] = 5296
	s.Ports["tcp/80"] = 30
	s.Ports["udp/53"] = 4
	return s
}

// clone deep-copies a snapshot so that tests change one side only.
func clone(s *Snapshot) *Snapshot {
	c := newSnapshot()
	c.Source, c.Captures = s.Source, append([]Capture(nil), s.Captures...)
	for k, v := range s.Global {
		c.Global[k] = v
	}
	cp := func(g *Group) *Group {
		n := &Group{Metrics: Metrics{}, Status: map[int]int64{}}
		for k, v := range g.Metrics {
			n.Metrics[k] = v
		}
		for k, v := range g.Status {
			n.Status[k] = v
		}
		return n
	}
	for k, g := range s.Endpoints {
		c.Endpoints[k] = cp(g)
	}
	for k, g := range s.HTTPHosts {
		c.HTTPHosts[k] = cp(g)
	}
	for k, g := range s.Servers {
		c.Servers[k] = cp(g)
	}
	for k, v := range s.Hosts {
		c.Hosts[k] = v
	}
	for k, v := range s.Ports {
		c.Ports[k] = v
	}
	return c
}

func TestCompareSelfNoFindings(t *testing.T) {
	s := testSnap()
	r := Compare(s, clone(s), Defaults(), nil)
	if r.Broken() != 0 || r.Findings() != 0 {
		t.Fatalf("self diff: %d broken, %d findings: %+v", r.Broken(), r.Findings(), r)
	}
	if len(r.Outcomes) != len(DefaultDiffRules) {
		t.Errorf("%d outcomes for %d rules", len(r.Outcomes), len(DefaultDiffRules))
	}
}

func TestDiffRuleBoundaries(t *testing.T) {
	for _, c := range []struct {
		rule   string
		metric string
		b, n   Value
		want   Status
	}{
		{"tcp.retransmit_rate:+0.5pp", "tcp.retransmit_rate", Value{0.2, 5000}, Value{0.7, 5000}, Pass}, // at the limit
		{"tcp.retransmit_rate:+0.5pp", "tcp.retransmit_rate", Value{0.2, 5000}, Value{0.71, 5000}, Fail},
		{"tcp.retransmit_rate:+0.5pp", "tcp.retransmit_rate", Value{0.2, 4999}, Value{3, 5000}, NoData}, // min 5000 packets
		{"tcp.retransmit_rate:+0.5pp", "tcp.retransmit_rate", Value{0.2, 5000}, Value{3, 5000}, Fail},
		{"tcp.flagged_retransmit_rate:+0.5pp", "tcp.flagged_retransmit_rate", Value{0.2, 999}, Value{3, 5000}, NoData}, // min 1000 packets
		{"tcp.flagged_retransmit_rate:+0.5pp", "tcp.flagged_retransmit_rate", Value{0.2, 1000}, Value{3, 1000}, Fail},
		{"tcp.retransmit_rate:+0.5pp,min=10", "tcp.retransmit_rate", Value{0.2, 10}, Value{3, 10}, Fail},
		{"tcp.retransmit_rate:+0.5pp", "tcp.retransmit_rate", Value{3, 5000}, Value{0, 5000}, Pass}, // a fall
		{"tcp.retransmit_rate:0.5pp", "tcp.retransmit_rate", Value{3, 5000}, Value{0, 5000}, Fail},  // either way
		{"http.p99_ttfb_ms:+20%", "http.p99_ttfb_ms", Value{10, 500}, Value{12, 500}, Pass},
		{"http.p99_ttfb_ms:+20%", "http.p99_ttfb_ms", Value{10, 500}, Value{12.01, 500}, Fail},
		{"http.p99_ttfb_ms:+20%", "http.p99_ttfb_ms", Value{10, 199}, Value{50, 500}, NoData}, // p99 needs 200
		{"http.p99_ttfb_ms:+20%", "http.p99_ttfb_ms", Value{0, 500}, Value{0.01, 500}, Fail},  // from zero
		{"http.p99_ttfb_ms:+20%", "http.p99_ttfb_ms", Value{math.NaN(), 0}, Value{1, 500}, NoData},
		{"http.p90_ttfb_ms:+100%,floor=50ms", "http.p90_ttfb_ms", Value{2, 500}, Value{40, 500}, Pass}, // +1900% but under the floor
		{"http.p90_ttfb_ms:+100%,floor=50ms", "http.p90_ttfb_ms", Value{2, 500}, Value{52, 500}, Pass}, // +50 ms: at the floor
		{"http.p90_ttfb_ms:+100%,floor=50ms", "http.p90_ttfb_ms", Value{2, 500}, Value{52.1, 500}, Fail},
		{"http.p90_ttfb_ms:+100%,floor=50ms", "http.p90_ttfb_ms", Value{100, 500}, Value{199, 500}, Pass}, // over the floor, under +100%
		{"http.p90_ttfb_ms:+100%,floor=50ms", "http.p90_ttfb_ms", Value{100, 500}, Value{201, 500}, Fail},
		{"http.requests_per_s:-30%", "http.requests_per_s", Value{100, 1000}, Value{71, 710}, Pass},
		{"http.requests_per_s:-30%", "http.requests_per_s", Value{100, 1000}, Value{69, 690}, Fail},
		{"http.requests_per_s:-30%", "http.requests_per_s", Value{100, 1000}, Value{300, 3000}, Pass},
		{"http.p90_ttfb_ms:25%", "http.p90_ttfb_ms", Value{100, 500}, Value{126, 500}, Fail},
		{"http.p90_ttfb_ms:25%", "http.p90_ttfb_ms", Value{100, 500}, Value{74, 500}, Fail},
		{"http.p90_ttfb_ms:25%", "http.p90_ttfb_ms", Value{100, 500}, Value{120, 500}, Pass},
		{"http.p90_ttfb_ms:+5ms", "http.p90_ttfb_ms", Value{100, 500}, Value{105, 500}, Pass},
		{"http.p90_ttfb_ms:+5ms", "http.p90_ttfb_ms", Value{100, 500}, Value{105.5, 500}, Fail},
		{"tcp.reset_rate:+10pp", "tcp.reset_rate", Value{0, 99}, Value{25, 99}, NoData}, // connections: 100
		{"tcp.reset_rate:+10pp", "tcp.reset_rate", Value{0, 100}, Value{10.1, 100}, Fail},
		{"http.5xx_rate:+1pp", "http.5xx_rate", Value{0, 19}, Value{50, 19}, NoData}, // rates need 20
		{"http.5xx_rate:+1pp", "http.5xx_rate", Value{0, 20}, Value{1.01, 20}, Fail},
	} {
		base, cur := testSnap(), testSnap()
		base.Global[c.metric], cur.Global[c.metric] = c.b, c.n
		r := Compare(base, cur, []*DiffRule{mustDiff(t, c.rule)}, nil)
		o := r.Outcomes[0]
		if o.Status != c.want {
			t.Errorf("%s from %v to %v: %s (%+v), want %s", c.rule, c.b, c.n, o.Status, o, c.want)
		}
		if o.Status == Fail && (len(o.Breaches) != 1 || !strings.Contains(o.Breaches[0].Text, c.metric)) {
			t.Errorf("%s: breach %+v does not name the metric", c.rule, o.Breaches)
		}
	}
}

func TestScopedRules(t *testing.T) {
	base, cur := testSnap(), testSnap()
	api := Endpoint{"GET", "10.150.0.1", "/api/status.json"}
	small := Endpoint{"GET", "10.150.0.1", "/small.txt"}
	cur.Endpoints[api].Metrics["http.5xx_rate"] = Value{9, 1027}
	cur.Endpoints[small].Metrics["http.5xx_rate"] = Value{4, 2178}
	cur.Endpoints[api].Metrics["http.p90_ttfb_ms"] = Value{300, 1027}
	cur.Servers["10.150.0.1"].Metrics["tcp.reset_rate"] = Value{5, 320}
	cur.Servers["192.168.1.1"].Metrics["tcp.reset_rate"] = Value{50, 100} // out of the scope
	// only in NEW: a new endpoint, not a scoped comparison
	cur.Endpoints[Endpoint{"GET", "10.150.0.1", "/api/new"}] = &Group{Metrics: Metrics{"http.5xx_rate": {100, 500}, "http.requests": {500, 500}}}
	r := Compare(base, cur, []*DiffRule{
		mustDiff(t, "http.5xx_rate[*]:+5pp"),
		mustDiff(t, "http.5xx_rate[/small.txt]:+3pp"),
		mustDiff(t, "http.p90_ttfb_ms[GET /api/*]:+100%,floor=50ms"),
		mustDiff(t, "http.p90_ttfb_ms[GET /nothing/*]:+10%"),
		mustDiff(t, "http.p90_ttfb_ms[10.150.0.1]:+10%"),
		mustDiff(t, "tcp.reset_rate[10.0.0.0/8]:+1pp"),
	}, nil)
	want := []struct {
		status   Status
		subjects []string
	}{
		{Fail, []string{api.String()}},
		{Fail, []string{small.String()}},
		{Fail, []string{api.String()}},
		{NoData, nil},
		{Pass, nil},
		{Fail, []string{"10.150.0.1"}},
	}
	for i, w := range want {
		o := r.Outcomes[i]
		var subj []string
		for _, b := range o.Breaches {
			subj = append(subj, b.Subject)
		}
		if o.Status != w.status || strings.Join(subj, ",") != strings.Join(w.subjects, ",") {
			t.Errorf("%s: %s on %v, want %s on %v (%+v)", o.Rule, o.Status, subj, w.status, w.subjects, o)
		}
	}
	if o := r.Outcomes[0]; o.Evaluated != 3 || o.Note != "1 with fewer than 20 samples" {
		t.Errorf("[*] evaluated %d endpoints (%q), want the 3 in both captures with 20 requests or more", o.Evaluated, o.Note)
	}
	if !strings.Contains(r.Outcomes[3].Note, "nothing in both captures matches") {
		t.Errorf("note %q", r.Outcomes[3].Note)
	}
}

func TestNewAndGone(t *testing.T) {
	base, cur := testSnap(), testSnap()
	cur.Hosts[HostItem{"http", "new.example.test"}] = 1
	cur.Hosts[HostItem{"ip", "10.9.9.9"}] = 2
	delete(cur.Hosts, HostItem{"ip", "10.150.0.1"})
	cur.Ports["tcp/8080"] = 5
	items := Endpoint{"GET", "10.150.0.1", "/api/v2/items/{id}"}
	hello := Endpoint{"GET", "new.example.test", "/hello"}
	cur.Endpoints[items] = &Group{Metrics: Metrics{"http.requests": {2, 2}}}
	cur.Endpoints[hello] = &Group{Metrics: Metrics{"http.requests": {1, 1}}}
	delete(cur.Endpoints, Endpoint{"POST", "10.150.0.1", "/echo"})
	allow := &Allowlist{Hosts: []string{"10.0.0.0/8"}}
	if err := allow.Check(); err != nil {
		t.Fatal(err)
	}
	r := Compare(base, cur, []*DiffRule{
		mustDiff(t, "new_hosts:0"), mustDiff(t, "new_hosts:1"), mustDiff(t, "new_ports:0"),
		mustDiff(t, "new_endpoints:1"), mustDiff(t, "new_endpoints[/api/*]:0"), mustDiff(t, "gone_endpoints:0"),
		mustDiff(t, "gone_hosts:1"), mustDiff(t, "new_ports[udp/*]:0"),
	}, allow)
	keys := func(its []Item) string {
		var k []string
		for _, it := range its {
			s := it.Key
			if it.Allowed {
				s += "(allowed)"
			}
			k = append(k, s)
		}
		return strings.Join(k, ",")
	}
	for _, c := range []struct{ got, want string }{
		{keys(r.NewHosts), "ip 10.9.9.9(allowed),http new.example.test"},
		{keys(r.GoneHosts), "ip 10.150.0.1"},
		{keys(r.NewPorts), "tcp/8080"},
		{keys(r.NewEndpoints), "GET 10.150.0.1 /api/v2/items/{id},GET new.example.test /hello"},
		{keys(r.GoneEndpoints), "POST 10.150.0.1 /echo"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	wantStatus := []Status{Fail, Pass, Fail, Fail, Fail, Fail, Pass, Pass}
	for i, w := range wantStatus {
		if r.Outcomes[i].Status != w {
			t.Errorf("%s: %s, want %s (%+v)", r.Outcomes[i].Rule, r.Outcomes[i].Status, w, r.Outcomes[i])
		}
	}
	if b := r.Outcomes[0].Breaches[0].Text; !strings.Contains(b, "1 new hosts") || !strings.Contains(b, "http new.example.test") || strings.Contains(b, "10.9.9.9") {
		t.Errorf("new_hosts breach %q should name the one host not allowlisted", b)
	}
	if b := r.Outcomes[4].Breaches[0].Text; !strings.Contains(b, "/api/v2/items/{id}") || strings.Contains(b, "/hello") {
		t.Errorf("scoped new_endpoints breach %q", b)
	}
}

func TestNotableChanges(t *testing.T) {
	base, cur := testSnap(), testSnap()
	small := Endpoint{"GET", "10.150.0.1", "/small.txt"}
	echo := Endpoint{"POST", "10.150.0.1", "/echo"}
	cur.Endpoints[small].Metrics["http.p90_ttfb_ms"] = Value{4.4, 2178} // +103%, +2.2 ms: notable
	cur.Endpoints[echo].Metrics["http.p90_ttfb_ms"] = Value{50, 1}      // 1 sample: not
	cur.Global["http.p99_ttfb_ms"] = Value{6.5, 5300}                   // +8%: not
	cur.Global["tcp.retransmit_rate"] = Value{2.01, 128000}             // +2pp: notable, whole capture
	cur.Global["volume.packets_per_s"] = Value{38000 * 1.4, 128000}     // +40%: not
	cur.Global["http.5xx_rate"] = Value{0.9, 5300}                      // +0.9pp: not
	missing := Endpoint{"GET", "10.150.0.1", "/missing"}
	base.Endpoints[missing].Metrics["http.p90_ttfb_ms"] = Value{0.5, 422}
	cur.Endpoints[missing].Metrics["http.p90_ttfb_ms"] = Value{1.4, 422} // +180% but +0.9 ms: under 1 ms
	r := Compare(base, cur, nil, nil)
	var got []string
	for _, c := range r.Changes {
		got = append(got, c.Metric+"["+c.Subject+"]")
	}
	want := "tcp.retransmit_rate[],http.p90_ttfb_ms[GET 10.150.0.1 /small.txt]"
	if strings.Join(got, ",") != want {
		t.Errorf("changes %v, want %s (most important first)", got, want)
	}
}
