package report

import (
	"regexp"
	"strings"
)

// TODO(lead): use metrics.EndpointKey from pcapq diff once merged, and
// keep endpointSQL equal to it (TestEndpointSQLMatchesGo checks the two).

// EndpointKey is the HTTP endpoint a transaction belongs to: method, Host
// and the path template, "GET example.com/api/items/{id}". The query
// string is dropped, and each path segment that is a number, a UUID or a
// run of at least 16 hex digits is folded to {id}, so requests for
// different items of one resource share a key.
func EndpointKey(method, host, path string) string {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if idSegment.MatchString(s) {
			segs[i] = "{id}"
		}
	}
	return method + " " + host + strings.Join(segs, "/")
}

// idPattern matches a path segment that EndpointKey folds to {id}.
const idPattern = `[0-9]+|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{16,}`

var idSegment = regexp.MustCompile(`^(?:` + idPattern + `)$`)

// endpointSQL is EndpointKey as a DuckDB expression over the http view's
// method, host and path (path holds no query string), so that endpoints
// are grouped in SQL. NULL when the request was not seen.
const endpointSQL = `method || ' ' || coalesce(host, '') || array_to_string(list_transform(string_split(path, '/'), lambda s: CASE WHEN regexp_full_match(s, '` + idPattern + `') THEN '{id}' ELSE s END), '/')`
