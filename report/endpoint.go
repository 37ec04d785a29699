package report

import (
	"strings"

	"github.com/pcapq/pcapq/metrics"
)

// EndpointKey is the HTTP endpoint a transaction belongs to, as
// metrics.EndpointKey defines it for pcapq diff and check (one definition
// for both): "GET example.com /api/items/{id}". The query string is
// dropped; numbers, UUIDs and runs of 12 or more hex digits in the path are
// folded to {id}.
func EndpointKey(method, host, path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return metrics.EndpointKey(method, host, path, "").String()
}

// endpointSQL is EndpointKey as a DuckDB expression over the http view's
// method, host and path (path holds no query string), built from
// metrics.EndpointSQL, so that endpoints are grouped in SQL.
// TestEndpointSQLMatchesGo holds the two together.
var endpointSQL = func() string {
	h, p := metrics.EndpointSQL("host", "path", "NULL")
	return "method || ' ' || " + h + " || ' ' || " + p
}()
