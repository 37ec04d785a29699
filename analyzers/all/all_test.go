package all

import (
	"bytes"
	"flag"
	"os"
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

// Every table an analyzer declares is in Tables: package schema's own
// (schema.Core) or one marked with the analyzer's name; no table is
// declared twice, no two tables share a name, and Tables ends with
// pcapq_meta. The start-up check (analyzers.MustTable) ran when this
// package was loaded.
var update = flag.Bool("update", false, "rewrite SCHEMA.md")

// TestSchemaDocCurrent keeps SCHEMA.md in step with the tables' declarations.
func TestSchemaDocCurrent(t *testing.T) {
	var b bytes.Buffer
	if err := schema.WriteMarkdown(&b, Tables); err != nil {
		t.Fatal(err)
	}
	const path = "../../SCHEMA.md"
	if *update {
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run: make schema-doc)", err)
	}
	if !bytes.Equal(got, b.Bytes()) {
		t.Fatal("SCHEMA.md is stale: run `make schema-doc`")
	}
	for _, tb := range Tables {
		if !strings.Contains(b.String(), "\n## "+tb.Name+"\n") {
			t.Errorf("SCHEMA.md has no section %s", tb.Name)
		}
	}
}

func TestTablesRegistered(t *testing.T) {
	inTables := map[*schema.Table]bool{}
	names := map[string]bool{}
	for _, st := range Tables {
		inTables[st] = true
		if names[st.Name] {
			t.Errorf("two tables named %s", st.Name)
		}
		names[st.Name] = true
	}
	if len(Tables) == 0 || Tables[len(Tables)-1] != schema.Meta {
		t.Errorf("Tables does not end with %s", schema.Meta.Name)
	}
	for _, st := range schema.Core {
		if !inTables[st] {
			t.Errorf("schema.Core's %s is not in Tables", st.Name)
		}
		if st.Analyzer != "" {
			t.Errorf("schema.Core's %s is marked as analyzer %s's", st.Name, st.Analyzer)
		}
	}
	seen := map[*schema.Table]string{}
	for _, a := range Analyzers(httpextract.DefaultOptions()) {
		if len(a.Tables) == 0 {
			t.Errorf("analyzer %s declares no table", a.Name)
		}
		for _, tb := range a.Tables {
			if !inTables[tb.Schema] {
				t.Errorf("analyzer %s: table %s is not in Tables", a.Name, tb.Schema.Name)
			}
			if tb.Schema.Analyzer != "" && tb.Schema.Analyzer != a.Name {
				t.Errorf("analyzer %s declares table %s marked as %s's", a.Name, tb.Schema.Name, tb.Schema.Analyzer)
			}
			if prev, dup := seen[tb.Schema]; dup {
				t.Errorf("table %s declared by %s and %s", tb.Schema.Name, prev, a.Name)
			}
			seen[tb.Schema] = a.Name
		}
	}
	for _, st := range Tables {
		for _, p := range st.Check() {
			t.Error(p)
		}
	}
	for _, name := range []string{"dns", "tls", "websocket"} {
		if !names[name] {
			t.Errorf("no table %s in Tables", name)
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
