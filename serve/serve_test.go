package serve

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pcapq/pcapq/internal/reporttest"
	"github.com/pcapq/pcapq/query"
	"github.com/pcapq/pcapq/schema"
)

const smallMix = "../testdata/mkcapture-small-mix.pcap"

// newServer serves db (in memory, writable: the checks tested here are the
// server's own) on a loopback test server.
func newServer(t *testing.T, db *query.DB, o Options) (*httptest.Server, *Server) {
	t.Helper()
	s := New(db, o)
	ts := httptest.NewServer(s)
	t.Cleanup(func() { s.Close(); ts.Close() })
	return ts, s
}

type answer struct {
	code   int
	res    Result
	err    string
	header http.Header
	body   []byte
}

func post(t *testing.T, ts *httptest.Server, body any, mod func(*http.Request)) answer {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", ts.URL+"/api/query", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	if mod != nil {
		mod(req)
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := answer{code: resp.StatusCode, header: resp.Header}
	a.body, _ = io.ReadAll(resp.Body)
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		var e struct{ Error string }
		json.Unmarshal(a.body, &e)
		a.err = e.Error
		json.Unmarshal(a.body, &a.res)
	}
	return a
}

func scalar(t *testing.T, db *query.DB, q string) int64 {
	t.Helper()
	v, err := db.Scalar(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return v.(int64)
}

// The console runs one read-only statement; everything else is refused by
// the server, on a database that could be written, and changes nothing.
func TestConsoleReadOnly(t *testing.T) {
	db := reporttest.OpenDB(t, "", smallMix)
	ts, _ := newServer(t, db, Options{})
	flows := scalar(t, db, "SELECT count(*) FROM flows")
	dir := t.TempDir() // where the file-writing statements would write
	refused := []string{
		"DELETE FROM flows",
		"delete from flows where true",
		"INSERT INTO warnings VALUES (1, 1, 1, 'x', 'y')",
		"UPDATE flows SET proto = 'x'",
		"CREATE TABLE x AS SELECT 1",
		"CREATE OR REPLACE VIEW flows AS SELECT 1",
		"DROP TABLE flows",
		"ALTER TABLE flows RENAME TO f2",
		"COPY flows TO '" + dir + "/flows.csv'",
		"EXPORT DATABASE '" + dir + "/export'",
		"ATTACH '" + dir + "/x.duckdb' AS x",
		"DETACH x",
		"SET threads = 1",
		"RESET threads",
		"PRAGMA version",
		"CALL pragma_version()",
		"INSTALL httpfs",
		"LOAD httpfs",
		"CHECKPOINT",
		"BEGIN TRANSACTION",
		"EXPLAIN SELECT 1",
		"SELECT 1; DELETE FROM flows",
		"SELECT 1; SELECT 2",
		"/* comment */ DELETE FROM flows",
		"WITH x AS (SELECT 1) DELETE FROM flows",
	}
	for _, q := range refused {
		a := post(t, ts, map[string]string{"sql": q}, nil)
		if a.code != http.StatusForbidden || !strings.Contains(a.err, "read-only") {
			t.Errorf("%q: status %d, error %q; want 403 read-only", q, a.code, a.err)
		}
	}
	allowed := map[string]int{
		"SELECT count(*) FROM flows":                1,
		"WITH x AS (SELECT 1 AS a) SELECT * FROM x": 1,
		"FROM flows LIMIT 2":                        2,
		"VALUES (1), (2), (3)":                      3,
		"DESCRIBE flows":                            len(schema.Flows.Columns),
		"SUMMARIZE captures":                        len(schema.Captures.Columns),
		"SELECT 1 UNION ALL SELECT 2;":              2,
	}
	for q, rows := range allowed {
		a := post(t, ts, map[string]string{"sql": q}, nil)
		if a.code != http.StatusOK || len(a.res.Rows) != rows {
			t.Errorf("%q: status %d, %d rows, error %q; want 200 with %d rows", q, a.code, len(a.res.Rows), a.err, rows)
		}
	}
	if a := post(t, ts, map[string]string{"sql": "SELEC 1"}, nil); a.code != http.StatusBadRequest || !strings.Contains(a.err, "syntax error") {
		t.Errorf("syntax error: status %d, %q", a.code, a.err)
	}
	if got := scalar(t, db, "SELECT count(*) FROM flows"); got != flows {
		t.Errorf("flows: %d rows after the refused statements, %d before", got, flows)
	}
	if n := scalar(t, db, "SELECT count(*) FROM information_schema.tables WHERE table_name IN ('x', 'f2')"); n != 0 {
		t.Errorf("a refused statement created a table")
	}
	if files, _ := os.ReadDir(dir); len(files) > 0 {
		t.Errorf("a refused statement wrote %s", files[0].Name())
	}
}

// A query running past the limit is cancelled, and the server answers
// the next one.
func TestConsoleTimeout(t *testing.T) {
	db := reporttest.OpenDB(t, "")
	ts, _ := newServer(t, db, Options{QueryTimeout: 300 * time.Millisecond})
	start := time.Now()
	a := post(t, ts, map[string]string{"sql": "SELECT count(*) FROM range(1000000000) a, range(1000) b"}, nil)
	took := time.Since(start)
	if a.code != http.StatusRequestTimeout || !strings.Contains(a.err, "cancelled after the time limit") {
		t.Errorf("long query: status %d, %q", a.code, a.err)
	}
	if took > 5*time.Second {
		t.Errorf("long query answered after %v (limit 300ms)", took)
	}
	if a := post(t, ts, map[string]string{"sql": "SELECT 42 AS x"}, nil); a.code != 200 || a.res.Rows[0][0] != float64(42) {
		t.Errorf("next query: %d %v %q", a.code, a.res.Rows, a.err)
	}
}

// A large result is cut at the row limit or the text limit, with a notice.
func TestConsoleResultCut(t *testing.T) {
	db := reporttest.OpenDB(t, "")
	ts, _ := newServer(t, db, Options{MaxRows: 100, MaxBytes: 20000})
	a := post(t, ts, map[string]string{"sql": "SELECT range AS i FROM range(100000)"}, nil)
	if a.code != 200 || len(a.res.Rows) != 100 || !a.res.Truncated || !strings.Contains(a.res.Notice, "first 100 rows") {
		t.Errorf("rows: %d rows, truncated %v, notice %q", len(a.res.Rows), a.res.Truncated, a.res.Notice)
	}
	a = post(t, ts, map[string]string{"sql": "SELECT repeat('x', 1000) FROM range(50)"}, nil)
	if a.code != 200 || len(a.res.Rows) != 21 || !a.res.Truncated {
		t.Errorf("bytes: %d rows, truncated %v, notice %q; want the rows up to 20000 bytes", len(a.res.Rows), a.res.Truncated, a.res.Notice)
	}
	a = post(t, ts, map[string]string{"sql": "SELECT range AS i FROM range(100)"}, nil)
	if len(a.res.Rows) != 100 || a.res.Truncated || a.res.Notice != "" {
		t.Errorf("exactly the limit: %d rows, truncated %v", len(a.res.Rows), a.res.Truncated)
	}
}

// CSV: the result as CSV, text escaped, cells a spreadsheet would run
// as formulas defused, the cut said in a header.
func TestConsoleCSV(t *testing.T) {
	db := reporttest.OpenDB(t, "")
	ts, _ := newServer(t, db, Options{MaxRows: 3})
	a := post(t, ts, map[string]string{"format": "csv", "sql": `SELECT * FROM (VALUES (1, '=HYPERLINK("http://x")', 'a,b', 'line' || chr(10) || 'two', NULL, -1.5),
		(2, '+1', '@x', '-y', 'ok', 2.0), (3, 'plain', 'q"uote', 'tab' || chr(9), '', 0.0), (4, 'x', 'x', 'x', 'x', 0.0)) t(n, f, c, l, e, d)`}, nil)
	if a.code != 200 || !strings.HasPrefix(a.header.Get("Content-Type"), "text/csv") {
		t.Fatalf("status %d %s: %s", a.code, a.header.Get("Content-Type"), a.body)
	}
	recs, err := csv.NewReader(bytes.NewReader(a.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"n", "f", "c", "l", "e", "d"},
		{"1", `'=HYPERLINK("http://x")`, "a,b", `line\ntwo`, "", "-1.5"},
		{"2", "'+1", "'@x", "'-y", "ok", "2"},
		{"3", "plain", `q"uote`, `tab\t`, "", "0"},
	}
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d: %q", len(recs), len(want), recs)
	}
	for i := range want {
		for j := range want[i] {
			if recs[i][j] != want[i][j] {
				t.Errorf("record %d field %d: %q, want %q", i, j, recs[i][j], want[i][j])
			}
		}
	}
	if !strings.Contains(a.header.Get("X-Pcapq-Notice"), "first 3 rows") {
		t.Errorf("no notice of the cut: %q", a.header.Get("X-Pcapq-Notice"))
	}
}

// Requests for another Host (DNS rebinding) and console requests from
// another origin or not as JSON are refused.
func TestHostAndOrigin(t *testing.T) {
	db := reporttest.OpenDB(t, "")
	ts, s := newServer(t, db, Options{})
	s.o.Hosts = LoopbackHosts(strings.TrimPrefix(ts.URL, "http://"))
	req, _ := http.NewRequest("GET", ts.URL+"/", nil)
	req.Host = "evil.example:80"
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("Host evil.example: status %d, want 421", resp.StatusCode)
	}
	resp, err = ts.Client().Get(ts.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("own Host: status %d, CSP %q", resp.StatusCode, resp.Header.Get("Content-Security-Policy"))
	}
	a := post(t, ts, map[string]string{"sql": "SELECT 1"}, func(r *http.Request) { r.Header.Set("Origin", "http://evil.example") })
	if a.code != http.StatusForbidden {
		t.Errorf("Origin evil.example: status %d, want 403", a.code)
	}
	a = post(t, ts, map[string]string{"sql": "SELECT 1"}, func(r *http.Request) { r.Header.Set("Origin", ts.URL) })
	if a.code != 200 {
		t.Errorf("own Origin: status %d (%s)", a.code, a.err)
	}
	a = post(t, ts, map[string]string{"sql": "SELECT 1"}, func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") })
	if a.code != http.StatusUnsupportedMediaType {
		t.Errorf("text/plain: status %d, want 415", a.code)
	}
}

// The event stream gives the tables' counts, and the newest rows.
func TestEvents(t *testing.T) {
	db := reporttest.OpenDB(t, "", smallMix)
	var mu sync.Mutex
	ts, _ := newServer(t, db, Options{Live: true, Tick: 50 * time.Millisecond, Lock: &mu})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", ts.URL+"/api/events", nil)
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var events []liveStats
	for sc.Scan() && len(events) < 3 {
		line := sc.Text()
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var st liveStats
			if err := json.Unmarshal([]byte(data), &st); err != nil {
				t.Fatal(err)
			}
			events = append(events, st)
		}
	}
	if len(events) < 3 {
		t.Fatalf("%d events", len(events))
	}
	e := events[0]
	for name, got := range map[string]int64{"packets": e.Packets, "flows": e.Flows, "http": e.HTTP, "tcp_events": e.TCPEvents} {
		if want := scalar(t, db, "SELECT count(*) FROM "+name); got != want {
			t.Errorf("%s: event says %d, table has %d", name, got, want)
		}
	}
	if len(e.Recent["http"].Rows) != recentRows || len(e.Recent["flows"].Rows) != recentRows {
		t.Errorf("first event: %d newest http rows, %d flows; want %d", len(e.Recent["http"].Rows), len(e.Recent["flows"].Rows), recentRows)
	}
	if events[2].Changed || events[2].PPS != 0 || events[2].Recent != nil {
		t.Errorf("nothing changed, yet the third event says changed %v, %v packets/s, recent %v", events[2].Changed, events[2].PPS, events[2].Recent != nil)
	}
}
