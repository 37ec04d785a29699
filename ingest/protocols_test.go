package ingest

import (
	"strings"
	"testing"

	"github.com/pcapq/pcapq/schema"
)

// The protocol analyzers through the pipeline, on the recorded capture
// (DNS over UDP and TCP, TLS 1.2/1.3, two WebSocket sessions, HTTP on 80
// and 8088): every table the same for 1, 2 and 4 workers, the row counts
// the analyzers' own tests check against tshark and mkcapture's events,
// and flows.service as Zeek lists it.
func TestProtocolTablesAnyWorkers(t *testing.T) {
	const path = "../testdata/mkcapture-proto.pcap"
	var first *boundsSink
	for _, w := range []int{1, 2, 4} {
		s := runWorkers(t, path, w, 0)
		for table, want := range map[string]int{"dns": 6, "tls": 6, "websocket": 28} {
			n := 0
			for _, c := range s.rows[table] {
				n += c
			}
			if n != want {
				t.Errorf("%d workers: %d %s rows, want %d", w, n, table, want)
			}
		}
		svc := map[string]int{}
		for row, c := range s.rows["flows"] {
			cols := strings.Split(row, "\x00")
			svc[cols[schema.Flows.Index("service")]] += c
		}
		for k, want := range map[string]int{"dns": 6, "ssl": 6, "http,websocket": 2, "http": 8} {
			if svc[k] != want {
				t.Errorf("%d workers: %d flows with service %q, want %d (%v)", w, svc[k], k, want, svc)
			}
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
