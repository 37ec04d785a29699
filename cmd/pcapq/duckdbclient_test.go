package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pcapq/pcapq/internal/testenv"
)

// TestOpensInDuckDBClient: the database pcapq writes opens, read-only, in
// DuckDB's own Node client (@duckdb/node-api, DuckDB 1.5.5, installed from
// the npm registry), with the types the schema promises.
func TestOpensInDuckDBClient(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	for _, tool := range []string{"node", "npm"} {
		testenv.Tool(t, tool)
	}
	work := t.TempDir()
	for _, f := range []string{"package.json", "check.mjs"} {
		b, err := os.ReadFile(filepath.Join("testdata", "duckdb-client", f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(work, f), b, 0o644)
	}
	install := exec.Command("npm", "install", "--no-audit", "--no-fund")
	install.Dir = work
	if out, err := install.CombinedOutput(); err != nil {
		testenv.Missing(t, "npm install of @duckdb/node-api failed (registry unreachable?): %v\n%s", err, out)
	}
	db := filepath.Join(t.TempDir(), "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "../../testdata/mkcapture-small.pcap", "-o", db); code != 0 {
		t.Fatal(stderr)
	}
	run := exec.Command("node", "check.mjs", db)
	run.Dir = work
	out, err := run.Output()
	if err != nil {
		t.Fatalf("DuckDB's Node client could not read the database: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	var rows [][]map[string]any
	for _, l := range lines {
		var r []map[string]any
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		rows = append(rows, r)
	}
	if len(rows) != 4 || !strings.HasPrefix(rows[0][0]["duckdb"].(string), "v1.5") {
		t.Fatalf("unexpected client output: %s", out)
	}
	if rows[1][0]["packets"] != float64(1865) {
		t.Errorf("client counts %v packets, pcapq wrote 1865", rows[1][0]["packets"])
	}
	if rows[2][0]["ts_type"] != "TIMESTAMP_NS" || rows[2][0]["hdr_type"] != "MAP(VARCHAR, VARCHAR[])" {
		t.Errorf("types seen by the client: %v", rows[2][0])
	}
	if rows[3][0]["method"] != "GET" || rows[3][0]["host"] == nil {
		t.Errorf("http row seen by the client: %v", rows[3][0])
	}
	t.Logf("DuckDB Node client %s read the database: %s", rows[0][0]["duckdb"], strings.Join(lines[1:], " "))
}
