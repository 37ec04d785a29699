package ingest

import (
	"context"
	"fmt"
	"maps"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/schema"
	"github.com/pcapq/pcapq/source"
)

// gencap writes a capture of benchmarks/gencap's scenario with args.
func gencap(t *testing.T, scenario string, args ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), scenario+".pcap")
	goTool, err := exec.LookPath("go")
	if err != nil {
		testenv.Missing(t, "no go command to run benchmarks/gencap")
	}
	cmd := exec.Command(goTool, append([]string{"run", "../benchmarks/gencap", "-scenario", scenario, "-o", path}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gencap: %v: %s", err, out)
	}
	return path
}

// boundsSink keeps every table as a multiset of rows (tables are sets of
// rows: which batch a flow row comes in depends on when its flow ended),
// the packets also without their flow columns, and what holds whatever
// the worker count: packets with a flow, packets counted in flows, the
// warnings by kind with their details.
type boundsSink struct {
	rows                             map[string]map[string]int // table -> row text -> count
	pktsWithFlow, pktsInFlows, flows int64
	warnings                         map[string][]string
}

func newBoundsSink() *boundsSink {
	return &boundsSink{rows: map[string]map[string]int{}, warnings: map[string][]string{}}
}

// add counts the rows of r, over its first ncol columns, in table name.
func (s *boundsSink) add(name string, r arrow.RecordBatch, ncol int) {
	m := s.rows[name]
	if m == nil {
		m = map[string]int{}
		s.rows[name] = m
	}
	var b strings.Builder
	for i := 0; i < int(r.NumRows()); i++ {
		b.Reset()
		for c := 0; c < ncol; c++ {
			b.WriteString(r.Column(c).ValueStr(i))
			b.WriteByte(0)
		}
		m[b.String()]++
	}
}

// sameTables reports the tables whose rows differ between a and b.
func sameTables(a, b *boundsSink) (differ []string) {
	for name := range a.rows {
		if !maps.Equal(a.rows[name], b.rows[name]) {
			differ = append(differ, name)
		}
	}
	for name := range b.rows {
		if _, ok := a.rows[name]; !ok {
			differ = append(differ, name)
		}
	}
	return differ
}

func (s *boundsSink) Write(t *schema.Table, recs []arrow.RecordBatch) error {
	for _, r := range recs {
		switch t {
		case schema.PacketsData:
			c := r.Column(t.Index("flow_id"))
			s.pktsWithFlow += int64(c.Len() - c.NullN())
			s.add("packets without flow columns", r, int(r.NumCols())-packetFlowCols)
		case schema.Flows:
			o := r.Column(t.Index("orig_pkts")).(*array.Int64)
			p := r.Column(t.Index("resp_pkts")).(*array.Int64)
			for i := 0; i < o.Len(); i++ {
				s.pktsInFlows += o.Value(i) + p.Value(i)
			}
			s.flows += r.NumRows()
		case schema.Warnings:
			k := r.Column(t.Index("kind")).(*array.String)
			d := r.Column(t.Index("detail")).(*array.String)
			for i := 0; i < k.Len(); i++ {
				s.warnings[k.Value(i)] = append(s.warnings[k.Value(i)], d.Value(i))
			}
		}
	}
	for _, r := range recs {
		s.add(t.Name, r, int(r.NumCols()))
	}
	return nil
}

func runWorkers(t *testing.T, path string, workers, maxFlows int) *boundsSink {
	t.Helper()
	r, err := source.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	opts := DefaultOptions()
	opts.Workers = workers
	opts.Session.MaxFlows = maxFlows
	s := newBoundsSink()
	if _, err := Run(context.Background(), r, 1, s, opts); err != nil {
		t.Fatal(err)
	}
	return s
}

// Under the flow bounds every table is the same for 1, 2 and 4 workers.
// A SYN flood of 20000 unanswered SYNs in 0.2 s with --max-flows 1024
// fills the flow table of every shard: the attempts end early (their rows
// are the rows the close delay would give), and the one flow_table_pressure
// warning counts all of them, as with one worker (it was one per shard).
func TestWorkerCountSYNFloodOverMaxFlows(t *testing.T) {
	path := gencap(t, "synflood", "-n", "20000")
	var first *boundsSink
	for _, w := range []int{1, 2, 4} {
		s := runWorkers(t, path, w, 1024)
		if p := s.warnings[kindFlowTablePressure]; len(p) != 1 || !strings.HasPrefix(p[0], fmt.Sprint(20000-1024)+" ") {
			t.Errorf("%d workers: flow_table_pressure %q, want one row counting %d", w, p, 20000-1024)
		}
		if s.flows != 20000 {
			t.Errorf("%d workers: %d flows, want 20000", w, s.flows)
		}
		if first == nil {
			first = s
			continue
		}
		if d := sameTables(first, s); len(d) > 0 {
			t.Errorf("tables %v differ between 1 and %d workers", d, w)
		}
	}
}

// Past the flow bounds with connections that stay open, each shard evicts
// its own least recently active flows: which flows are evicted may differ
// with the worker count (documented on Options.Session). What does not:
// the packets table, and every packet with a flow is counted in exactly
// one flow row. Under the bounds, the same capture gives the same tables.
func TestWorkerCountLiveFlowsOverMaxFlows(t *testing.T) {
	path := gencap(t, "rststorm", "-n", "3000", "-rsts", "300")
	var first *boundsSink
	evicted := false
	for _, w := range []int{1, 2, 4} {
		s := runWorkers(t, path, w, 1024)
		evicted = evicted || len(s.warnings["flow_table_full"]) > 0
		if s.pktsInFlows != s.pktsWithFlow {
			t.Errorf("%d workers: flows count %d packets, %d packets have a flow", w, s.pktsInFlows, s.pktsWithFlow)
		}
		if first == nil {
			first = s
			continue
		}
		if !maps.Equal(s.rows["packets without flow columns"], first.rows["packets without flow columns"]) {
			t.Errorf("packets differ between 1 and %d workers in more than their flow columns", w)
		}
	}
	if !evicted {
		t.Fatal("3000 live connections with --max-flows 1024 evicted nothing: the test does not test the bound")
	}
	first = nil
	for _, w := range []int{1, 4} {
		s := runWorkers(t, path, w, 4096)
		if len(s.warnings["flow_table_full"])+len(s.warnings[kindFlowTablePressure]) != 0 {
			t.Fatalf("%d workers: the bound was reached with 4096 flows: %v", w, s.warnings)
		}
		if first == nil {
			first = s
			continue
		}
		if d := sameTables(first, s); len(d) > 0 {
			t.Errorf("under the bound, tables %v differ between 1 and %d workers", d, w)
		}
	}
}

// The bounds are split so the shards together hold the total: parts
// differ by at most one, and none is 0 (which a Tracker would read as
// "use the default").
func TestShareOf(t *testing.T) {
	for _, tc := range []struct{ total, n int }{{65536, 1}, {65536, 3}, {1024, 4}, {1025, 4}, {3, 4}, {1, 32}, {64 << 20, 7}} {
		sum, lo, hi := 0, 1<<62, 0
		for id := range tc.n {
			p := shareOf(tc.total, 99, id, tc.n)
			sum += p
			lo, hi = min(lo, p), max(hi, p)
		}
		want := max(tc.total, tc.n)
		if sum != want || hi-lo > 1 || lo < 1 {
			t.Errorf("total %d over %d: parts sum %d (want %d), from %d to %d", tc.total, tc.n, sum, want, lo, hi)
		}
	}
	if p := shareOf(0, 100, 0, 3); p != 34 {
		t.Errorf("no total: %d, want the default's share 34", p)
	}
}

// Options.Workers is bounded.
func TestMaxWorkers(t *testing.T) {
	o := Options{Workers: 100000}.withDefaults()
	if o.Workers != MaxWorkers {
		t.Errorf("Workers %d, want MaxWorkers %d", o.Workers, MaxWorkers)
	}
	if o := (Options{}).withDefaults(); o.Workers < 1 || o.Workers > MaxWorkers {
		t.Errorf("default Workers %d", o.Workers)
	}
}
