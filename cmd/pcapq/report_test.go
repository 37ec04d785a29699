package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/reporttest"
)

const smallMixPcap = "../../testdata/mkcapture-small-mix.pcap"

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

type jsonReport struct {
	Database string `json:"database"`
	Top      int    `json:"top"`
	Sections []struct {
		ID     string            `json:"id"`
		Stats  []json.RawMessage `json:"stats"`
		Tables []struct {
			ID   string  `json:"id"`
			Rows [][]any `json:"rows"`
		} `json:"tables"`
	} `json:"sections"`
}

func (r *jsonReport) stat(section, id string) any {
	for _, s := range r.Sections {
		for _, raw := range s.Stats {
			var st struct {
				ID    string
				Value any
			}
			json.Unmarshal(raw, &st)
			if s.ID == section && st.ID == id {
				return st.Value
			}
		}
	}
	return nil
}

// pcapq report: the format follows -o's extension or -f; a database is
// left unchanged (opened read-only); a capture given directly gives the
// same report as its database; --capture and --top apply.
func TestReportCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "-o", db, smallMixPcap, reporttest.HostileCapture(t)); code != 0 {
		t.Fatalf("ingest: %d %s", code, stderr)
	}
	before := fileHash(t, db)
	for _, c := range []struct{ args []string }{
		{[]string{"-o", filepath.Join(dir, "r.html")}},
		{[]string{"-o", filepath.Join(dir, "r.md")}},
		{[]string{"-o", filepath.Join(dir, "r.json")}},
		{[]string{"-f", "md", "-o", filepath.Join(dir, "r.txt")}},
	} {
		if code, _, stderr := pcapqRun(t, append([]string{"report", db}, c.args...)...); code != 0 {
			t.Fatalf("report %v: exit %d: %s", c.args, code, stderr)
		}
	}
	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	if h := read("r.html"); !strings.HasPrefix(h, "<!DOCTYPE html>") || !strings.Contains(h, "uPlot") {
		t.Errorf("r.html is not the HTML report")
	}
	if m := read("r.md"); !strings.HasPrefix(m, "# pcapq report") || m != read("r.txt") {
		t.Errorf("r.md is not the Markdown report, or -f md differs from the .md extension")
	}
	var fromDB jsonReport
	if err := json.Unmarshal([]byte(read("r.json")), &fromDB); err != nil {
		t.Fatal(err)
	}
	if fileHash(t, db) != before {
		t.Error("pcapq report changed the database file")
	}

	// The capture read into memory gives the same figures.
	code, out, stderr := pcapqRun(t, "report", "-f", "json", smallMixPcap, reporttest.HostileCapture(t))
	if code != 0 {
		t.Fatalf("report of captures: %d %s", code, stderr)
	}
	var fromCap jsonReport
	if err := json.Unmarshal([]byte(out), &fromCap); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"packets", "bytes", "flows", "captures"} {
		if a, b := fromDB.stat("overview", st), fromCap.stat("overview", st); a == nil || a != b {
			t.Errorf("%s: %v from the database, %v from the captures", st, a, b)
		}
	}
	for _, st := range []string{"transactions", "ttfb_p50", "duration_max"} {
		if a, b := fromDB.stat("http", st), fromCap.stat("http", st); a == nil || a != b {
			t.Errorf("http %s: %v from the database, %v from the captures", st, a, b)
		}
	}

	// --capture 2 --top 1: the hostile capture alone, one row per ranked table.
	code, out, stderr = pcapqRun(t, "report", "-f", "json", "--capture", "2", "--top", "1", db)
	if code != 0 {
		t.Fatalf("report --capture 2: %d %s", code, stderr)
	}
	var one jsonReport
	if err := json.Unmarshal([]byte(out), &one); err != nil {
		t.Fatal(err)
	}
	if one.stat("overview", "captures") != float64(1) || one.stat("http", "transactions") != float64(2) || one.Top != 1 {
		t.Errorf("--capture 2: captures %v, transactions %v, top %d", one.stat("overview", "captures"), one.stat("http", "transactions"), one.Top)
	}
	for _, s := range one.Sections {
		for _, tb := range s.Tables {
			if tb.ID == "top_talkers" && len(tb.Rows) != 1 {
				t.Errorf("--top 1: %d top talkers", len(tb.Rows))
			}
		}
	}

	// Errors say what is wrong, with exit status 2.
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"report", filepath.Join(dir, "missing.duckdb")}, "missing.duckdb"},
		{[]string{"report", db, db}, "is a database"},
		{[]string{"report", "-f", "pdf", db}, "pdf"},
		{[]string{"report", "--top", "0", db}, "--top"},
	} {
		code, _, stderr := pcapqRun(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, stderr, c.msg)
		}
	}
}

// The database pcapq serve and pcapq report open cannot be written, read
// other files or be reconfigured, whatever statement reaches it.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "-o", db, reporttest.HostileCapture(t)); code != 0 {
		t.Fatalf("ingest: %d %s", code, stderr)
	}
	before := fileHash(t, db)
	g := &Globals{ctx: context.Background(), stdout: io.Discard, stderr: io.Discard}
	d, err := openReadOnly(g, db, "64MB")
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{
		"DELETE FROM flows":                                    "read-only",
		"CREATE TABLE x (a INT)":                               "read-only",
		"SELECT * FROM read_text('/etc/hostname')":             "disabled by configuration",
		"ATTACH '" + filepath.Join(dir, "o.duckdb") + "' AS o": "disabled",
		"SET enable_external_access = true":                    "",
		"SET memory_limit = '10GB'":                            "locked",
	} {
		err := d.Exec(context.Background(), q)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one saying %q", q, err, want)
		}
	}
	if v, err := d.Scalar(context.Background(), "SELECT current_setting('memory_limit')"); err != nil || !strings.HasPrefix(v.(string), "61") {
		t.Errorf("memory limit %v (%v), want 64MB (61.0 MiB)", v, err)
	}
	d.Close()
	if fileHash(t, db) != before {
		t.Error("the database file changed")
	}
	if _, err := os.Stat(filepath.Join(dir, "o.duckdb")); err == nil {
		t.Error("ATTACH created a database file")
	}
}

// pcapq serve: loopback only unless --allow-remote (which warns); it
// serves the report and the console on the address it says, and stops on
// interrupt.
func TestServeCommand(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "t.duckdb")
	if code, _, stderr := pcapqRun(t, "ingest", "-q", "-o", db, reporttest.HostileCapture(t)); code != 0 {
		t.Fatalf("ingest: %d %s", code, stderr)
	}
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", ":0", "192.0.2.1:8080"} {
		code, _, stderr := pcapqRun(t, "serve", db, "--listen", addr)
		if code != 2 || !strings.Contains(stderr, "--allow-remote") {
			t.Errorf("--listen %s: exit %d, %q; want refused, naming --allow-remote", addr, code, stderr)
		}
	}
	serveOnce := func(args ...string) (stderr string, page []byte, count string) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		addrc := make(chan string, 1)
		testServeHook = func(a string) { addrc <- a }
		defer func() { testServeHook = nil }()
		var out, errb bytes.Buffer
		done := make(chan int, 1)
		go func() { done <- run(ctx, append([]string{"serve"}, args...), strings.NewReader(""), &out, &errb) }()
		var addr string
		select {
		case addr = <-addrc:
		case code := <-done:
			t.Fatalf("serve %v: exit %d: %s", args, code, errb.String())
		case <-time.After(60 * time.Second):
			t.Fatal("serve did not start")
		}
		if strings.HasPrefix(addr, "0.0.0.0:") {
			addr = "127.0.0.1:" + strings.TrimPrefix(addr, "0.0.0.0:")
		}
		resp, err := http.Get("http://" + addr + "/")
		if err != nil {
			t.Fatal(err)
		}
		page, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		resp, err = http.Post("http://"+addr+"/api/query", "application/json", strings.NewReader(`{"sql":"SELECT count(*) FROM http"}`))
		if err != nil {
			t.Fatal(err)
		}
		var res struct{ Rows [][]any }
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if len(res.Rows) == 1 {
			count = strings.TrimSpace(strings.Trim(strings.TrimSpace(string(mustJSON(res.Rows[0][0]))), `"`))
		}
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve %v: exit %d after interrupt: %s", args, code, errb.String())
			}
		case <-time.After(10 * time.Second):
			t.Fatal("serve did not stop on interrupt")
		}
		return errb.String(), page, count
	}
	stderr, page, count := serveOnce(db, "--listen", "127.0.0.1:0")
	if !strings.Contains(stderr, "serving") || strings.Contains(stderr, "WARNING") || !bytes.Contains(page, []byte(`id="console"`)) || count != "2" {
		t.Errorf("loopback: stderr %q, console in page %v, count %q", stderr, bytes.Contains(page, []byte(`id="console"`)), count)
	}
	stderr, _, count = serveOnce(db, "--listen", "0.0.0.0:0", "--allow-remote")
	if !strings.Contains(stderr, "WARNING") || count != "2" {
		t.Errorf("--allow-remote: stderr %q (want a warning), count %q", stderr, count)
	}
	// A capture: read into a temporary database, removed at the end.
	tmpBefore, _ := filepath.Glob(filepath.Join(os.TempDir(), "pcapq-serve-*"))
	_, _, count = serveOnce(reporttest.HostileCapture(t), "--listen", "127.0.0.1:0")
	tmpAfter, _ := filepath.Glob(filepath.Join(os.TempDir(), "pcapq-serve-*"))
	if count != "2" || len(tmpAfter) != len(tmpBefore) {
		t.Errorf("serving a capture: count %q; temporary databases %d before, %d after", count, len(tmpBefore), len(tmpAfter))
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
