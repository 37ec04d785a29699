package main

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// TestHTTPGoldenCapturesMatchTshark is the independent check beside
// TestHTTPGolden (whose golden files are pcapq's own output, a regression
// test): on each small recorded http-*.pcap, the requests of every
// connection (method and URI, in order) and the status codes of its final
// responses (in order) equal tshark's. Interim 1xx responses are left out
// of tshark's list: pcapq, like Zeek, pairs a request with its final
// response.
func TestHTTPGoldenCapturesMatchTshark(t *testing.T) {
	files, _ := filepath.Glob("../../testdata/http-*.pcap")
	if len(files) < 6 {
		t.Fatalf("want the 6 recorded http-*.pcap captures, found %d", len(files))
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".pcap"), func(t *testing.T) {
			want := tsharkHTTP(t, f)
			db := ingestMem(t, 1, f)
			rows, err := db.Query(context.Background(), `SELECT f.orig_h || '|' || f.orig_p, h.method, h.uri, h.status_code
				FROM http h JOIN flows f USING (capture_id, flow_id) ORDER BY h.flow_id, h.trans_depth`)
			if err != nil {
				t.Fatal(err)
			}
			gotReqs, gotCodes := map[string][]string{}, map[string][]string{}
			n := 0
			for rows.Next() {
				var conn, method, uri string
				var code *int64
				if err := rows.Scan(&conn, &method, &uri, &code); err != nil {
					t.Fatal(err)
				}
				gotReqs[conn] = append(gotReqs[conn], method+" "+uri)
				if code != nil {
					gotCodes[conn] = append(gotCodes[conn], strconv.FormatInt(*code, 10))
				}
				n++
			}
			rows.Close()
			if n == 0 {
				t.Fatal("no http rows")
			}
			for conn, w := range want {
				var finals []string
				for _, c := range w.codes {
					if !strings.HasPrefix(c, "1") || c == "101" {
						finals = append(finals, c)
					}
				}
				if !slices.Equal(gotReqs[conn], w.reqs) {
					t.Errorf("%s: requests %q, tshark %q", conn, gotReqs[conn], w.reqs)
				}
				if !slices.Equal(gotCodes[conn], finals) {
					t.Errorf("%s: final status codes %q, tshark %q", conn, gotCodes[conn], finals)
				}
			}
			for conn := range gotReqs {
				if want[conn] == nil {
					t.Errorf("%s: pcapq has HTTP rows tshark does not", conn)
				}
			}
		})
	}
}
