package all

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/analyzers"
	"github.com/pcapq/pcapq/analyzers/dns"
	"github.com/pcapq/pcapq/analyzers/tls"
	"github.com/pcapq/pcapq/analyzers/websocket"
	"github.com/pcapq/pcapq/decode"
	"github.com/pcapq/pcapq/httpextract"
	"github.com/pcapq/pcapq/internal/testcorpus"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/tcpsession"
)

// Every table an analyzer declares is in schema.All, and no table is
// declared twice: the start-up check (analyzers.MustTable) ran when this
// package was loaded.
func TestTablesRegistered(t *testing.T) {
	inAll := map[*schema.Table]bool{}
	for _, st := range schema.All {
		inAll[st] = true
	}
	seen := map[*schema.Table]string{}
	for _, a := range Analyzers(httpextract.DefaultOptions()) {
		if len(a.Tables) == 0 {
			t.Errorf("analyzer %s declares no table", a.Name)
		}
		for _, tb := range a.Tables {
			if !inAll[tb.Schema] {
				t.Errorf("analyzer %s: table %s is not in schema.All", a.Name, tb.Schema.Name)
			}
			if prev, dup := seen[tb.Schema]; dup {
				t.Errorf("table %s declared by %s and %s", tb.Schema.Name, prev, a.Name)
			}
			seen[tb.Schema] = a.Name
		}
	}
}

type flowSink struct {
	udp   *analyzers.UDP
	flows []*tcpsession.Flow
}

func (s *flowSink) Flow(f *tcpsession.Flow) {
	if f.Proto == "udp" && s.udp != nil {
		f.Service = s.udp.End(f.FlowID, f.TsEnd)
	}
	s.flows = append(s.flows, f)
}
func (s *flowSink) Event(*tcpsession.Event)       {}
func (s *flowSink) Warning(int64, string, string) {}

type result struct {
	rows  map[string][]any
	warns []string
	flows []*tcpsession.Flow
}

// run drives decode -> tcpsession -> the analyzers over a capture as an
// ingest shard does (one shard).
func run(t *testing.T, path string) *result {
	t.Helper()
	res := &result{rows: map[string][]any{}}
	env := &analyzers.Env{
		Emit: func(tb *analyzers.Table, flowID int64, row any) {
			res.rows[tb.Schema.Name] = append(res.rows[tb.Schema.Name], row)
		},
		Warn: func(frame int64, kind, detail string) { res.warns = append(res.warns, kind+": "+detail) },
	}
	set := analyzers.NewSet(Analyzers(httpextract.DefaultOptions()))
	sink := &flowSink{udp: set.NewUDP(env)}
	opts := tcpsession.DefaultOptions()
	opts.NewStream = set.NewStream(env)
	tr := tcpsession.NewTracker(opts, sink)
	var p decode.Packet
	var last int64
	testcorpus.ForEachPacket(t, path, func(frame, ts int64, lt decode.LinkType, data []byte, origLen int) {
		decode.Decode(lt, data, origLen, &p)
		last = ts
		flowID, dir := tr.Process(frame, ts, &p)
		if p.IPProto == 17 && p.HasPorts && !p.IsFragment && sink.udp.Wants(p.SrcPort, p.DstPort) {
			sink.udp.Packet(flowID, dir, &p, ts, frame)
		}
	})
	tr.Close(last)
	res.flows = sink.flows
	return res
}

func TestProtoCaptureServices(t *testing.T) {
	res := run(t, filepath.Join("..", "..", "testdata", "mkcapture-proto.pcap"))
	if len(res.warns) != 0 {
		t.Errorf("warnings: %q", res.warns)
	}
	svc := map[string]int{}
	for _, f := range res.flows {
		key := f.Proto + " " + f.Service
		if f.Proto == "tcp" && f.Service == "" {
			key += " port " + map[bool]string{true: "443", false: "other"}[f.RespP == 443]
		}
		svc[key]++
	}
	// 4 UDP DNS flows (dig: example.test, api.example.test, nope.invalid, AAAA), 2 DNS over TCP,
	// 6 TLS (record-proto.sh cut the seventh), 2 WebSocket sessions, 8 plain HTTP (one on 8088).
	want := map[string]int{"udp dns": 4, "tcp dns": 2, "tcp ssl": 6, "tcp http,websocket": 2, "tcp http": 8, "icmp ": 1}
	for k, n := range want {
		if svc[k] != n {
			t.Errorf("%d flows with %q, want %d (all: %v)", svc[k], k, n, svc)
		}
	}
	if n := len(res.rows["dns"]); n != 6 {
		t.Errorf("%d dns rows, want 6", n)
	}
	if n := len(res.rows["tls"]); n != 6 {
		t.Errorf("%d tls rows, want 6", n)
	}
	if n := len(res.rows["websocket"]); n != 28 {
		t.Errorf("%d websocket rows, want 28 (the events file's ws lines: 7 messages each way in 2 sessions)", n)
	}
	ups := 0
	for _, r := range res.rows["http_data"] {
		if r.(*httpextract.Transaction).Upgrade == "websocket" {
			ups++
		}
	}
	if ups != 2 {
		t.Errorf("%d HTTP upgrades to websocket, want 2", ups)
	}
	_ = dns.Table
	_ = websocket.Table
}

// The ClientHello inside an HTTP CONNECT tunnel is found (the HTTP
// analyzer hands the tunnel back to detection): flows.service
// 'http,ssl'.
func TestConnectTunnel(t *testing.T) {
	res := run(t, filepath.Join(testcorpus.Dir(t), "tls", "pcaps", "ja4-https-connect.pcap"))
	var svcs []string
	for _, f := range res.flows {
		svcs = append(svcs, f.Service)
	}
	sort.Strings(svcs)
	if strings.Join(svcs, " ") != "http,ssl" {
		t.Errorf("services %q", svcs)
	}
	if len(res.rows["tls"]) != 1 || res.rows["tls"][0].(*tls.Row).JA4 != "t12i860500_e18388e7f3a3_a1e935682795" {
		t.Errorf("tls rows %v", res.rows["tls"])
	}
}
