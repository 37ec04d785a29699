package report

import (
	"context"
	"testing"

	"github.com/pcapq/pcapq/analyzers/all"
	"github.com/pcapq/pcapq/ingest"
	"github.com/pcapq/pcapq/schema"
)

// A table that declares report queries in schema gets a section, without
// any report code for it: limited to the report's captures and its row
// limit; a declared table that is missing or empty gets none.
// (The demo tables are not pcapq's dns and tls tables, which all.Tables
// has since the protocol analyzers.)
func TestDeclaredTableSection(t *testing.T) {
	ctx := context.Background()
	db := openDB(t, "", hostileCapture(t), hostileCapture(t))
	for _, q := range []string{
		"CREATE TABLE dnsdemo (capture_id INTEGER, qname VARCHAR, rcode VARCHAR)",
		`INSERT INTO dnsdemo VALUES (1, 'a.test', 'NOERROR'), (1, 'a.test', 'NXDOMAIN'), (1, '</script><img src=x onerror=alert(1)>', 'NOERROR'),
			(2, 'b.test', 'NOERROR'), (2, 'b.test', 'NOERROR'), (2, 'b.test', 'NOERROR')`,
		"CREATE TABLE tlsdemo (capture_id INTEGER, sni VARCHAR)",
	} {
		if err := db.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	dns := &schema.Table{Name: "dnsdemo", Doc: "DNS messages.", Report: []schema.ReportQuery{
		{Title: "Names asked", Doc: "Queries by name.", SQL: "SELECT qname, count(*) AS queries FROM dnsdemo GROUP BY qname ORDER BY queries DESC, qname"},
		{Title: "Answers", Doc: "By rcode.", SQL: "SELECT rcode, count(*) AS answers FROM dnsdemo GROUP BY rcode ORDER BY answers DESC, rcode;"},
	}}
	tls := &schema.Table{Name: "tlsdemo", Doc: "TLS handshakes.", Report: []schema.ReportQuery{{Title: "SNI", Doc: "x", SQL: "SELECT sni FROM tlsdemo"}}}
	quic := &schema.Table{Name: "quic", Doc: "not in the database", Report: []schema.ReportQuery{{Title: "x", Doc: "x", SQL: "SELECT * FROM quic"}}}
	tables := append(append([]*schema.Table{}, all.Tables...), dns, tls, quic)

	cases := []struct {
		caps  []int32
		top   int
		names [][]any
		more  bool
	}{
		{nil, 10, [][]any{{"b.test", int64(3)}, {"a.test", int64(2)}, {"</script><img src=x onerror=alert(1)>", int64(1)}}, false},
		{[]int32{1}, 10, [][]any{{"a.test", int64(2)}, {"</script><img src=x onerror=alert(1)>", int64(1)}}, false},
		{nil, 2, [][]any{{"b.test", int64(3)}, {"a.test", int64(2)}, {"</script><img src=x onerror=alert(1)>", int64(1)}}, true},
	}
	for _, c := range cases {
		r, err := Build(ctx, db, Options{Tables: tables, Captures: c.caps, Top: c.top})
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, s := range r.Sections {
			ids = append(ids, s.ID)
		}
		if len(ids) != 5 || ids[4] != "table_dnsdemo" {
			t.Fatalf("sections %v, want overview, traffic, tcp, http and table_dns only (tls is empty, quic missing, http_bodies empty)", ids)
		}
		s := r.Sections[4]
		if len(s.Tables) != 2 || s.Tables[0].Title != "Names asked" || s.Tables[1].Title != "Answers" {
			t.Fatalf("dns section tables: %+v", s.Tables)
		}
		checkRows(t, "dns names", s.Tables[0], c.names, c.top)
		if s.Tables[0].More != c.more {
			t.Errorf("captures %v top %d: more = %v, want %v", c.caps, c.top, s.Tables[0].More, c.more)
		}
	}
}

// http_bodies declares its report query in schema: with bodies kept, the
// report has its section, with the numbers of the table.
func TestHTTPBodiesSection(t *testing.T) {
	db := openDB(t, "")
	o := ingest.DefaultOptions()
	o.HTTPOptions.KeepBodies = true
	o.HTTPOptions.MaxBodyKeep = 100
	IngestFile(t, db, smallMix, o)
	r, err := Build(context.Background(), db, Options{})
	if err != nil {
		t.Fatal(err)
	}
	tb := findTable(r, "table_http_bodies_0")
	if tb == nil {
		t.Fatal("no http_bodies section")
	}
	rows := rawRows(t, db, "SELECT direction, truncated, octet_length(body) FROM http_bodies")
	agg := map[string][3]int64{}
	for _, row := range rows {
		a := agg[row[0].(string)]
		a[0]++
		if row[1].(bool) {
			a[1]++
		}
		a[2] += row[2].(int64)
		agg[row[0].(string)] = a
	}
	var want [][]any
	for _, d := range []string{"request", "response"} {
		if a, ok := agg[d]; ok {
			want = append(want, []any{d, a[0], a[1], a[2]})
		}
	}
	if len(rows) == 0 || len(want) == 0 {
		t.Fatal("no bodies kept: the test checks nothing")
	}
	checkRows(t, "http_bodies", tb, want, 0)
}
