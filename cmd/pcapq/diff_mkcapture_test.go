package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/testenv"
	"github.com/pcapq/pcapq/query"
)

// findMkcapture walks up from the working directory to shared/tools/mkcapture.
func findMkcapture(t *testing.T) string {
	t.Helper()
	dir, _ := filepath.Abs(".")
	for {
		p := filepath.Join(dir, "shared", "tools", "mkcapture")
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			testenv.Missing(t, "../shared/tools/mkcapture not found beside the repository")
			return ""
		}
		dir = parent
	}
}

// diffJSON is the part of pcapq diff's JSON report the tests read.
type diffJSON struct {
	Broken   int
	Findings int
	Rules    []struct {
		Rule, Status string
		Breaches     []struct{ Subject, Text string }
	}
	NewHosts      []struct{ Key string } `json:"new_hosts"`
	NewPorts      []struct{ Key string } `json:"new_ports"`
	NewEndpoints  []struct{ Key string } `json:"new_endpoints"`
	GoneHosts     []struct{ Key string } `json:"gone_hosts"`
	GonePorts     []struct{ Key string } `json:"gone_ports"`
	GoneEndpoints []struct{ Key string } `json:"gone_endpoints"`
}

func keys(items []struct{ Key string }) []string {
	var k []string
	for _, it := range items {
		k = append(k, it.Key)
	}
	sort.Strings(k)
	return k
}

// TestDiffMkcapture measures pcapq diff on real recordings of the same
// workload (../shared/tools/mkcapture, 1 s of wrk each, no drops unless
// said), the acceptance of issue 14:
//   - a capture diffed with itself exits 0 with no findings;
//   - no drops against DROP_ONE_IN_N=25 exits 1 and names tcp.retransmit_rate;
//   - MKCAPTURE_EXTRA="/api/v2/items/17 /api/v2/items/42 new.example.test/hello"
//     against the same workload without reports exactly the new endpoint
//     template and the new host;
//   - PCAPQ_DIFF_PAIRS (default 5) pairs of recordings without drops pass
//     the default rules.
//
// It needs root (network namespaces) and takes a minute or two: -short
// skips it.
func TestDiffMkcapture(t *testing.T) {
	if testing.Short() {
		t.Skip("records traffic for a minute or two; run without -short")
	}
	mk := findMkcapture(t)
	if os.Geteuid() != 0 {
		testenv.Missing(t, "mkcapture needs root (network namespaces)")
	}
	// mkcapture's own list of tools (its header), with their Debian packages
	for tool, pkg := range map[string]string{"nginx": "nginx", "wrk": "wrk", "curl": "curl", "dnsmasq": "dnsmasq-base", "dig": "bind9-dnsutils",
		"ping": "iputils-ping", "tcpdump": "tcpdump", "nft": "nftables", "ethtool": "ethtool", "ip": "iproute2", "openssl": "openssl", "python3": "python3"} {
		if _, err := exec.LookPath(tool); err != nil {
			testenv.Missing(t, "mkcapture needs %s: apt-get install %s", tool, pkg)
		}
	}
	pairs := 5
	if s := os.Getenv("PCAPQ_DIFF_PAIRS"); s != "" {
		pairs, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "all.duckdb")
	db, err := query.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.EnsureSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	g := &Globals{Quiet: true, ctx: context.Background(), stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}}
	next := int32(0)
	// record runs mkcapture and ingests the capture; it returns the capture id.
	record := func(name, drop, extra string) int32 {
		t.Helper()
		pcap := filepath.Join(dir, name+".pcap")
		cmd := exec.Command(mk, pcap, "1", drop)
		cmd.Env = append(os.Environ(), "MKCAPTURE_NET=154", fmt.Sprintf("MKCAPTURE_PREFIX=pqd%d", os.Getpid()%10000), "MKCAPTURE_EXTRA="+extra)
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("mkcapture %s: %v\n%s", name, err, out)
		}
		if err := ingestOne(g, db, pcap, (&IngestCmd{}).options(g)); err != nil {
			t.Fatalf("ingest %s: %v", name, err)
		}
		st, _ := os.Stat(pcap)
		os.Remove(pcap)
		next++
		t.Logf("%s: capture %d, %d MB, recorded and ingested in %.1f s", name, next, st.Size()>>20, time.Since(start).Seconds())
		return next
	}
	base := record("base", "0", "")
	drops := record("drops25", "25", "")
	extra := record("extra", "0", "/api/v2/items/17 /api/v2/items/42 new.example.test/hello")
	var pairIDs [][2]int32
	for i := 0; i < pairs; i++ {
		a := record(fmt.Sprintf("pair%d-a", i+1), "0", "")
		b := record(fmt.Sprintf("pair%d-b", i+1), "0", "")
		pairIDs = append(pairIDs, [2]int32{a, b})
	}
	db.Close()

	diff := func(a, b int32) (int, diffJSON, string) {
		t.Helper()
		code, out, stderr := pcapqRun(t, "diff", "-d", dbPath, "--base-capture", strconv.Itoa(int(a)), "--capture", strconv.Itoa(int(b)), "-o", "-", "-o", filepath.Join(dir, "d.json"))
		var j diffJSON
		b2, err := os.ReadFile(filepath.Join(dir, "d.json"))
		if err == nil {
			err = json.Unmarshal(b2, &j)
		}
		if err != nil {
			t.Fatalf("diff %d %d: exit %d %v\n%s", a, b, code, err, stderr)
		}
		return code, j, out
	}

	// 1. itself
	code, j, out := diff(base, base)
	if code != 0 || j.Findings != 0 || j.Broken != 0 || !strings.Contains(out, "No findings") {
		t.Errorf("capture with itself: exit %d, %d findings, %d broken\n%s", code, j.Findings, j.Broken, out)
	}
	// 2. drops
	code, j, out = diff(base, drops)
	named := false
	for _, r := range j.Rules {
		if r.Status == "fail" && strings.HasPrefix(r.Rule, "tcp.retransmit_rate") {
			named = true
		}
	}
	if code != 1 || !named || !strings.Contains(out, "FAIL tcp.retransmit_rate:+0.1pp") {
		t.Errorf("no drops vs 1 in 25 dropped: exit %d, retransmission rule broken: %v\n%s", code, named, out)
	}
	t.Logf("no drops vs DROP_ONE_IN_N=25:\n%s", out)
	// 3. extra requests
	code, j, out = diff(base, extra)
	wantEP := "GET 10.154.0.1 /api/v2/items/{id},GET new.example.test /hello"
	if got := strings.Join(keys(j.NewEndpoints), ","); got != wantEP {
		t.Errorf("new endpoints %s, want %s", got, wantEP)
	}
	if got := strings.Join(keys(j.NewHosts), ","); got != "http new.example.test" {
		t.Errorf("new hosts %s, want http new.example.test", got)
	}
	if len(j.NewPorts)+len(j.GoneHosts)+len(j.GonePorts)+len(j.GoneEndpoints) != 0 {
		t.Errorf("more new or gone than the extra requests: %+v", j)
	}
	if code != 1 {
		t.Errorf("extra requests: exit %d", code)
	}
	t.Logf("MKCAPTURE_EXTRA:\n%s", out)
	// 4. pairs of the same workload
	for i, p := range pairIDs {
		code, j, out = diff(p[0], p[1])
		if code != 0 || j.Broken != 0 {
			t.Errorf("pair %d (captures %d, %d): exit %d, %d rules broken: a false alarm\n%s", i+1, p[0], p[1], code, j.Broken, out)
		} else {
			t.Logf("pair %d (captures %d, %d): exit 0, %d findings (none a broken rule), new/gone: %v %v %v %v", i+1, p[0], p[1], j.Findings,
				keys(j.NewHosts), keys(j.NewEndpoints), keys(j.GoneHosts), keys(j.GoneEndpoints))
		}
	}
}
