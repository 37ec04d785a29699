//go:build duckdb_arrow

package metrics

import (
	"context"
	"errors"
	"math"
	"sort"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/query"
)

// fixtureDB is a database with hand-written rows: two captures, with
// what each metric's definition has to get right.
func fixtureDB(t testing.TB) *query.DB {
	t.Helper()
	ctx := context.Background()
	db := memDB(t)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	exec := func(q string) {
		t.Helper()
		if err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`INSERT INTO captures (capture_id, path, packets, bytes, first_ts, last_ts, complete) VALUES
		(1, '/a.pcap', 10, 1000, '2024-01-01 00:00:00', '2024-01-01 00:00:02', true),
		(2, '/b.pcap', 4, 400, '2024-01-01 00:00:00', '2024-01-01 00:00:08', true)`)
	// capture 1: 6 TCP packets, 2 UDP, 1 ICMP, 1 ARP; capture 2: 4 TCP
	exec(`INSERT INTO packets_data BY NAME SELECT 1 AS capture_id, range AS frame,
		CASE WHEN range < 10 THEN 4 END AS ip_version,
		CASE WHEN range <= 6 THEN 6 WHEN range <= 8 THEN 17 WHEN range = 9 THEN 1 END AS ip_proto,
		100 AS orig_len FROM range(1, 11)`)
	exec(`INSERT INTO packets_data BY NAME SELECT 2 AS capture_id, range AS frame, 4 AS ip_version, 6 AS ip_proto, 100 AS orig_len FROM range(1, 5)`)
	// IPv4 IDs: capture 1's six TCP frames are flow 1's server side,
	// numbered 100 101 103 0 104 109: ID 0 is skipped, the steps 2 and 5
	// mean 1 + 4 packets lost before the capture point. Capture 2's four
	// are a sender with random IDs: not counted.
	exec(`UPDATE packets_data SET flow_id = 1, from_resp = true, ip_id = [100, 101, 103, 0, 104, 109][frame],
		ts = TIMESTAMP '2024-01-01 00:00:00' + to_milliseconds(frame) WHERE capture_id = 1 AND frame <= 6`)
	// retransmissions: one 2 ms after the ID gap of frame 3 in the same
	// direction (the same episode), one on flow 2: 2 episodes in capture 1
	exec(`INSERT INTO tcp_events BY NAME SELECT * FROM (VALUES
		(1, 5, TIMESTAMP '2024-01-01 00:00:00.005', 1, 'resp', 'retransmission'),
		(1, 50, TIMESTAMP '2024-01-01 00:00:00.100', 2, 'orig', 'fast_retransmission'),
		(1, 51, TIMESTAMP '2024-01-01 00:00:00.101', 2, 'orig', 'dup_ack')
	) AS v(capture_id, frame, ts, flow_id, direction, kind)`)
	exec(`UPDATE packets_data SET flow_id = 1, from_resp = false, ip_id = [5, 40000, 1234, 60000][frame] WHERE capture_id = 2`)
	// flows of capture 1
	exec(`INSERT INTO flows BY NAME SELECT * FROM (VALUES
		(1, 1, 'tcp', '10.0.0.2', 40000, '10.0.0.1', 80, 'ShADadFf', 'SF', 100, 300, 3, 1.0),
		(1, 2, 'tcp', '10.0.0.2', 40001, '10.0.0.1', 80, 'ShADadR', 'RSTO', 50, 50, 0, 3.0),
		(1, 3, 'tcp', '10.0.0.2', 40002, '10.0.0.1', 8080, 'Sr', 'REJ', 1, 1, 0, NULL),
		(1, 4, 'tcp', '10.0.0.3', 40003, '10.0.0.2', 22, 'ADad', 'OTH', 10, 10, 1, NULL),
		(1, 5, 'udp', '10.0.0.2', 53000, '10.0.0.1', 53, 'Dd', NULL, 1, 1, 0, NULL),
		(1, 6, 'udp', '10.0.0.1', 53, '10.0.0.2', 53001, 'Dd', NULL, 1, 1, 0, NULL),
		(1, 7, 'udp', '10.0.0.2', 5353, '224.0.0.251', 5353, 'D', NULL, 1, 0, 0, NULL),
		(1, 8, 'icmp', '10.0.0.2', 8, '10.0.0.1', 0, NULL, NULL, 3, 3, 0, NULL),
		(1, 9, 'icmp6', 'fe80::1', 135, 'ff02::1:ff00:1', 0, NULL, NULL, 1, 0, 0, NULL)
	) AS v(capture_id, flow_id, proto, orig_h, orig_p, resp_h, resp_p, history, conn_state, orig_pkts, resp_pkts, retransmits, handshake_rtt_ms)`)
	exec(`INSERT INTO flows BY NAME SELECT * FROM (VALUES
		(2, 1, 'tcp', '10.0.0.2', 40000, '10.0.0.1', 80, 'ShADadFf', 'SF', 2, 2, 0, 2.0)
	) AS v(capture_id, flow_id, proto, orig_h, orig_p, resp_h, resp_p, history, conn_state, orig_pkts, resp_pkts, retransmits, handshake_rtt_ms)`)
	// http of capture 1: ids folded, a request without Host, one unanswered, one 503
	exec(`INSERT INTO http_data BY NAME SELECT * FROM (VALUES
		(1, 1, 1, 'GET', 'Api.Example.TEST', '/api/v2/items/17', 200, 1.0, 2.0, 100, NULL, NULL),
		(1, 1, 2, 'GET', 'api.example.test:80', '/api/v2/items/42', 200, 2.0, 3.0, 300, NULL, NULL),
		(1, 1, 3, 'GET', 'api.example.test', '/api/v2/items/7', 503, 3.0, 4.0, 50, NULL, NULL),
		(1, 1, 4, 'GET', 'api.example.test', '/api/v2/items/9', NULL, NULL, NULL, NULL, 'response', NULL),
		(1, 2, 1, 'POST', NULL, '/echo', 201, 10.0, 11.0, 8, NULL, 'HTTP_bad_chunk_size'),
		(1, 2, 2, NULL, NULL, NULL, 200, NULL, NULL, 5, 'request', NULL)
	) AS v(capture_id, flow_id, trans_depth, method, host, path, status_code, ttfb_ms, duration_ms, resp_body_len, missing, error)`)
	exec(`INSERT INTO http_data BY NAME SELECT * FROM (VALUES
		(2, 1, 1, 'GET', 'api.example.test', '/api/v2/items/1', 200, 5.0, 6.0, 10, NULL, NULL)
	) AS v(capture_id, flow_id, trans_depth, method, host, path, status_code, ttfb_ms, duration_ms, resp_body_len, missing, error)`)
	return db
}

func near(a, b float64) bool { return math.Abs(a-b) < 1e-9 || math.IsNaN(a) && math.IsNaN(b) }

func TestCollect(t *testing.T) {
	db := fixtureDB(t)
	s, err := Collect(context.Background(), db, []int32{1})
	if err != nil {
		t.Fatal(err)
	}
	g := s.Global
	for _, c := range []struct {
		metric string
		v      float64
		n      int64
	}{
		{"capture.duration_s", 2, 1},
		{"volume.packets", 10, 10},
		{"volume.bytes", 1000, 10},
		{"volume.packets_per_s", 5, 10},
		{"volume.tcp.packets_per_s", 3, 6},
		{"volume.udp.packets_per_s", 1, 2},
		{"volume.icmp.packets_per_s", 0.5, 1},
		{"volume.non-ip.packets_per_s", 0.5, 1},
		{"volume.icmp6.packets_per_s", 0, 0},
		{"volume.tcp.bytes_per_s", 300, 600},
		{"volume.flows", 9, 9},
		{"volume.tcp.flows_per_s", 2, 4},
		{"volume.udp.flows_per_s", 1.5, 3},
		{"tcp.connections", 4, 4},
		// retransmits 3+0+0+1 over packets 400+100+2+20; 5 lost upstream
		{"tcp.flagged_retransmit_rate", 100 * 4.0 / 522, 522},
		{"tcp.upstream_loss_rate", 100 * 5.0 / 527, 527},
		// episodes: the gaps at 3 and 6 ms and the retransmission at 5 ms
		// on flow 1 are one, the fast retransmission on flow 2 another
		{"tcp.retransmit_rate", 100 * 2.0 / 522, 522},
		// RSTO (R) and REJ (r) of 4
		{"tcp.reset_rate", 50, 4},
		// quantile_cont of {1, 3}
		{"tcp.p50_handshake_rtt_ms", 2, 2},
		{"tcp.p90_handshake_rtt_ms", 2.8, 2},
		{"tcp.conn_state.SF", 25, 4},
		{"tcp.conn_state.REJ", 25, 4},
		{"tcp.conn_state.OTH", 25, 4},
		{"tcp.conn_state.S0", 0, 4},
		// the response without a request is not counted: 5 requests
		{"http.requests", 5, 5},
		{"http.requests_per_s", 2.5, 5},
		{"http.2xx_rate", 75, 4}, // 200, 200, 201 of 4 answered
		{"http.5xx_rate", 25, 4},
		{"http.unanswered_rate", 20, 5},
		{"http.error_rate", 20, 5},
		{"http.p50_ttfb_ms", 2.5, 4},  // {1, 2, 3, 10}
		{"http.p90_ttfb_ms", 7.9, 4},  // 3 + 0.7*(10-3)
		{"http.p99_ttfb_ms", 9.79, 4}, // 3 + 0.97*7
		{"http.p50_duration_ms", 3.5, 4},
		{"http.resp_bytes", 458, 4},
		{"http.mean_resp_bytes", 114.5, 4},
		{"hosts", 3, 3}, // ip 10.0.0.1, http api.example.test, http 10.0.0.1 (POST without Host)
		{"ports", 3, 3},
		{"endpoints", 2, 2},
	} {
		v := g.Get(c.metric)
		if !near(v.V, c.v) || v.N != c.n {
			t.Errorf("%s = %v (N=%d), want %v (N=%d)", c.metric, v.V, v.N, c.v, c.n)
		}
	}
	var hosts []string
	for h := range s.Hosts {
		hosts = append(hosts, h.String())
	}
	sort.Strings(hosts)
	// UDP 10.0.0.1:53 -> 10.0.0.2:53001 answers first: its responder port is
	// above the originator's, so it is not a server; 10.0.0.2 is no server
	// here (the OTH flow without its SYN tells nothing), multicast and ICMPv6
	// neighbour solicitations are not servers.
	if got := strings.Join(hosts, ","); got != "http 10.0.0.1,http api.example.test,ip 10.0.0.1" {
		t.Errorf("hosts %s", got)
	}
	var ports []string
	for p := range s.Ports {
		ports = append(ports, p)
	}
	sort.Strings(ports)
	if got := strings.Join(ports, ","); got != "tcp/80,tcp/8080,udp/53" {
		t.Errorf("ports %s", got)
	}
	items := s.Endpoints[Endpoint{"GET", "api.example.test", "/api/v2/items/{id}"}]
	echo := s.Endpoints[Endpoint{"POST", "10.0.0.1", "/echo"}]
	if items == nil || echo == nil || len(s.Endpoints) != 2 {
		t.Fatalf("endpoints %v", s.Endpoints)
	}
	if r := items.Metrics.Get("http.requests"); r.V != 4 {
		t.Errorf("items requests %v", r)
	}
	if items.Status[200] != 2 || items.Status[503] != 1 || len(items.Status) != 2 {
		t.Errorf("items status mix %v", items.Status)
	}
	if r := items.Metrics.Get("http.5xx_rate"); !near(r.V, 100.0/3) || r.N != 3 {
		t.Errorf("items 5xx %v", r)
	}
	if h := s.HTTPHosts["api.example.test"]; h == nil || h.Metrics.Get("http.requests").V != 4 || h.Status[503] != 1 {
		t.Errorf("http host %+v", h)
	}
	srv := s.Servers["10.0.0.1"]
	if srv == nil || len(s.Servers) != 1 {
		t.Fatalf("servers %v", s.Servers)
	}
	if v := srv.Metrics.Get("tcp.retransmit_rate"); !near(v.V, 100*2.0/502) || v.N != 502 {
		t.Errorf("server retransmit rate %v", v)
	}
	if v := srv.Metrics.Get("tcp.conn_state.RSTO"); !near(v.V, 100.0/3) {
		t.Errorf("server RSTO %v", v)
	}
}

func TestCollectCaptureSets(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	both, err := Collect(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(both.Captures) != 2 || !near(both.Global.Get("capture.duration_s").V, 10) || both.Global.Get("volume.packets").V != 14 {
		t.Errorf("both captures: %+v %v", both.Captures, both.Global)
	}
	if v := both.Global.Get("volume.packets_per_s"); !near(v.V, 1.4) {
		t.Errorf("rate over the summed durations: %v", v)
	}
	if both.Endpoints[Endpoint{"GET", "api.example.test", "/api/v2/items/{id}"}].Metrics.Get("http.requests").V != 5 {
		t.Errorf("endpoint over both captures")
	}
	two, err := Collect(ctx, db, []int32{2})
	if err != nil {
		t.Fatal(err)
	}
	if two.Global.Get("tcp.retransmit_rate").V != 0 || two.Global.Get("tcp.upstream_loss_rate").V != 0 || two.Global.Get("http.requests").V != 1 || len(two.Endpoints) != 1 {
		t.Errorf("capture 2: %v", two.Global)
	}
	if _, err := Collect(ctx, db, []int32{3}); !errors.Is(err, ErrNoCapture) {
		t.Errorf("capture 3: %v", err)
	}
	if _, err := Collect(ctx, db, []int32{1, 3}); !errors.Is(err, ErrNoCapture) {
		t.Errorf("captures 1 and 3: %v", err)
	}
	empty := memDB(t)
	if err := empty.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := Collect(ctx, empty, nil); !errors.Is(err, ErrNoCapture) {
		t.Errorf("empty database: %v", err)
	}
	// a capture with nothing in it: rates undefined, no panic
	if err := empty.Exec(ctx, "INSERT INTO captures (capture_id, path, packets, bytes) VALUES (1, '-', 0, 0)"); err != nil {
		t.Fatal(err)
	}
	s, err := Collect(ctx, empty, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"volume.packets_per_s", "tcp.retransmit_rate", "http.p90_ttfb_ms", "http.5xx_rate"} {
		if s.Global.Get(m).Defined() {
			t.Errorf("%s defined on an empty capture: %v", m, s.Global.Get(m))
		}
	}
	r := Compare(s, s, Defaults(), nil)
	if r.Broken() != 0 || r.Findings() != 0 {
		t.Errorf("empty vs empty: %+v", r)
	}
}

// TestCollectOptionalTables: names of TLS servers and DNS queries become
// hosts, and TLS versions feed the allowlist, when such tables exist.
func TestCollectOptionalTables(t *testing.T) {
	db := fixtureDB(t)
	ctx := context.Background()
	for _, q := range []string{
		// The schema has the tls and dns tables (the protocol analyzers').
		"INSERT INTO tls (capture_id, server_name, version) VALUES (1, 'Example.TEST.', 'TLSv1.3'), (1, 'example.test', 'TLSv1.2'), (1, NULL, 'TLSv1.3'), (2, 'other.test', 'TLSv1.3')",
		"INSERT INTO dns (capture_id, query) VALUES (1, 'nope.invalid'), (1, '')",
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	s, err := Collect(ctx, db, []int32{1})
	if err != nil {
		t.Fatal(err)
	}
	if s.Hosts[HostItem{"tls", "example.test"}] != 2 || s.Hosts[HostItem{"dns", "nope.invalid"}] != 1 || s.Hosts[HostItem{"tls", "other.test"}] != 0 {
		t.Errorf("hosts %v", s.Hosts)
	}
	if s.TLSVersions["TLSv1.3"] != 2 || s.TLSVersions["TLSv1.2"] != 1 {
		t.Errorf("TLS versions %v", s.TLSVersions)
	}
	allow := &Allowlist{TLSVersions: []string{"TLSv1.3"}}
	res := Check(s, nil, allow)
	if res.Broken() != 1 || !strings.Contains(res.Outcomes[0].Breaches[0].Text, "TLSv1.2") {
		t.Errorf("TLS allowlist: %+v", res.Outcomes)
	}
}

// TestUpstreamLoss: which IPv4 ID steps count as packets lost before the
// capture point.
func TestUpstreamLoss(t *testing.T) {
	ctx := context.Background()
	db := memDB(t)
	if err := db.EnsureSchema(ctx); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO captures (capture_id, path, packets, bytes, first_ts, last_ts, complete) VALUES (1, '/l.pcap', 19, 1900, '2024-01-01 00:00:00', '2024-01-01 00:00:01', true)`,
		`INSERT INTO flows BY NAME SELECT * FROM (VALUES
			(1, 1, 'tcp', '10.0.0.2', 40000, '10.0.0.1', 80, 'ShADadFf', 'SF', 0, 12),
			(1, 2, 'tcp', '10.0.0.2', 40001, '10.0.0.1', 80, 'ShADadFf', 'SF', 4, 0),
			(1, 3, 'tcp', '10.0.0.2', 40002, '10.0.0.1', 80, 'ShADadFf', 'SF', 0, 3)
		) AS v(capture_id, flow_id, proto, orig_h, orig_p, resp_h, resp_p, history, conn_state, orig_pkts, resp_pkts)`,
		// flow 1: IDs 1..10, then a jump of 1000 (not a loss: another
		// burst of numbering), then +1: 10 of 11 steps small, nothing lost
		`INSERT INTO packets_data BY NAME SELECT 1 AS capture_id, range AS frame, 4 AS ip_version, 6 AS ip_proto, 1 AS flow_id, true AS from_resp,
			CASE WHEN range <= 10 THEN range WHEN range = 11 THEN 1010 ELSE 1011 END AS ip_id,
			TIMESTAMP '2024-01-01 00:00:00' + to_milliseconds(range) AS ts FROM range(1, 13)`,
		// flow 2: random IDs, one step of 3 by chance: not counted
		`INSERT INTO packets_data BY NAME SELECT 1 AS capture_id, 100 + range AS frame, 4 AS ip_version, 6 AS ip_proto, 2 AS flow_id, false AS from_resp,
			[5, 40000, 40003, 60000][range] AS ip_id, TIMESTAMP '2024-01-01 00:00:00' + to_milliseconds(100 + range) AS ts FROM range(1, 5)`,
		// flow 3: IDs 7, 9, 12: 1 + 2 lost, 30 ms apart: two episodes
		`INSERT INTO packets_data BY NAME SELECT 1 AS capture_id, 200 + range AS frame, 4 AS ip_version, 6 AS ip_proto, 3 AS flow_id, true AS from_resp,
			[7, 9, 12][range] AS ip_id, TIMESTAMP '2024-01-01 00:00:00' + to_milliseconds(200 + 30 * range) AS ts FROM range(1, 4)`,
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	s, err := Collect(ctx, db, nil)
	if err != nil {
		t.Fatal(err)
	}
	if v := s.Global.Get("tcp.upstream_loss_rate"); !near(v.V, 100*3.0/22) || v.N != 22 {
		t.Errorf("upstream loss %v (N=%d), want 3 of 19+3", v.V, v.N)
	}
	if v := s.Global.Get("tcp.retransmit_rate"); !near(v.V, 100*2.0/19) {
		t.Errorf("episodes %v, want 2 of 19", v.V)
	}
}
